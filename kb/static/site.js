// Progressive enhancement only: every feature works without this file.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var input = document.getElementById("search-q");
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (event.key === "/" && input && !/INPUT|TEXTAREA|SELECT/.test(tag)) {
      event.preventDefault();
      input.focus();
    }
  });
})();
