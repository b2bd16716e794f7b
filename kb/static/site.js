// Progressive enhancement only: every feature works without this file.
// 1. "/" focuses the search box.
// 2. As-you-type suggestions: the ARIA 1.2 combobox pattern (input role=combobox controlling a
//    listbox; aria-activedescendant follows the arrow keys; a polite live region gives the count).
// 3. Copy-to-clipboard buttons: <button class="copy-button" data-copy-target="ID" hidden>.
// 4. Search insights: the first result opened from a results page is reported with
//    navigator.sendBeacon, whose body is the search text alone (kb/web/insights.py).
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var MIN_CHARS = 2;
  var MAX_OPTIONS = 8;

  function isTyping(element) {
    if (!element) {
      return false;
    }
    return element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName);
  }

  function focusSearchOnSlash() {
    var input = document.getElementById("search-q");
    if (!input) {
      return;
    }
    input.setAttribute("aria-keyshortcuts", "/");
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      if (isTyping(document.activeElement)) {
        return;
      }
      event.preventDefault();
      input.focus();
      input.select();
    });
  }

  function makeLiveRegion(id) {
    var region = document.createElement("div");
    region.id = id;
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-atomic", "true");
    document.body.appendChild(region);
    return region;
  }

  // Phrases are whole queries; words complete the last word typed; titles go straight
  // to the position.
  function buildOptions(typed, data) {
    var options = [];
    var seen = {};
    var stem = typed.indexOf(" ") >= 0 ? typed.slice(0, typed.lastIndexOf(" ") + 1) : "";
    (data.titles || []).forEach(function (title) {
      options.push({ kind: "position", label: title.title, url: title.url });
    });
    (data.phrases || []).forEach(function (phrase) {
      if (phrase.toLowerCase() !== typed.toLowerCase() && !seen[phrase]) {
        seen[phrase] = true;
        options.push({ kind: "search", label: phrase });
      }
    });
    (data.words || []).forEach(function (word) {
      var query = stem + word;
      if (query.toLowerCase() !== typed.toLowerCase() && !seen[query]) {
        seen[query] = true;
        options.push({ kind: "search", label: query });
      }
    });
    return options.slice(0, MAX_OPTIONS);
  }

  function Combobox(input) {
    this.input = input;
    this.form = input.form;
    this.url = input.getAttribute("data-suggest-url");
    this.options = [];
    this.active = -1;
    this.timer = null;
    this.request = null;
    this.listId = input.id + "-listbox";
    this.list = document.createElement("ul");
    this.list.id = this.listId;
    this.list.className = "suggestions";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Suggestions");
    this.list.hidden = true;
    input.parentNode.appendChild(this.list);
    this.status = makeLiveRegion(input.id + "-status");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.listId);
    this.bind();
  }

  Combobox.prototype.bind = function () {
    var self = this;
    this.input.addEventListener("input", function () {
      self.schedule();
    });
    this.input.addEventListener("keydown", function (event) {
      self.onKey(event);
    });
    this.input.addEventListener("blur", function () {
      self.close();
    });
    // Keep focus in the input while the pointer picks an option.
    this.list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    this.list.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (item) {
        self.choose(Number(item.getAttribute("data-index")));
      }
    });
  };

  Combobox.prototype.typed = function () {
    return this.input.value.replace(/\s+/g, " ").replace(/^ /, "");
  };

  Combobox.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    if (this.typed().trim().length < MIN_CHARS) {
      this.close();
      this.announce("");
      return;
    }
    this.timer = window.setTimeout(function () {
      self.fetch(self.typed());
    }, DEBOUNCE_MS);
  };

  Combobox.prototype.fetch = function (typed) {
    var self = this;
    if (this.request && window.AbortController) {
      this.request.abort();
    }
    this.request = window.AbortController ? new AbortController() : null;
    var url = this.url + "?q=" + encodeURIComponent(typed.trim());
    window
      .fetch(url, {
        headers: { Accept: "application/json" },
        signal: this.request ? this.request.signal : undefined,
      })
      .then(function (response) {
        return response.ok ? response.json() : { titles: [], words: [] };
      })
      .then(function (data) {
        // A slower, older answer must never replace the one for what is typed now.
        if (self.typed() === typed && document.activeElement === self.input) {
          self.render(buildOptions(typed.trim(), data));
        }
      })
      .catch(function () {
        // Aborted or offline: the form still submits to the server-rendered search.
      });
  };

  Combobox.prototype.render = function (options) {
    var self = this;
    this.options = options;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    this.list.textContent = "";
    options.forEach(function (option, index) {
      var item = document.createElement("li");
      item.id = self.listId + "-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-index", String(index));
      var label = document.createElement("span");
      label.textContent = option.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = option.kind === "position" ? "Position" : "Search";
      var comma = document.createElement("span");
      comma.className = "visually-hidden";
      comma.textContent = ", ";
      item.appendChild(label);
      item.appendChild(comma);
      item.appendChild(kind);
      self.list.appendChild(item);
    });
    if (options.length) {
      this.open();
      this.announce(
        options.length +
          (options.length === 1 ? " suggestion" : " suggestions") +
          " available. Use the up and down arrow keys to choose."
      );
    } else {
      this.close();
      this.announce("No suggestions.");
    }
  };

  Combobox.prototype.announce = function (text) {
    if (this.status.textContent !== text) {
      this.status.textContent = text;
    }
  };

  Combobox.prototype.isOpen = function () {
    return !this.list.hidden;
  };

  Combobox.prototype.open = function () {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Combobox.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.setActive(-1);
  };

  Combobox.prototype.setActive = function (index) {
    var items = this.list.querySelectorAll("[role=option]");
    this.active = index;
    for (var i = 0; i < items.length; i += 1) {
      items[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    if (index >= 0 && items[index]) {
      this.input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Combobox.prototype.move = function (step) {
    var count = this.options.length;
    if (!count) {
      return;
    }
    if (!this.isOpen()) {
      this.open();
    }
    var next = this.active + step;
    if (next >= count) {
      next = 0;
    } else if (next < 0) {
      next = count - 1;
    }
    this.setActive(next);
  };

  Combobox.prototype.onKey = function (event) {
    if (event.key === "ArrowDown" || event.key === "Down") {
      event.preventDefault();
      this.move(1);
    } else if (event.key === "ArrowUp" || event.key === "Up") {
      event.preventDefault();
      this.move(-1);
    } else if (event.key === "Enter") {
      if (this.isOpen() && this.active >= 0) {
        event.preventDefault();
        this.choose(this.active);
      } else {
        this.close();
      }
    } else if (event.key === "Escape" || event.key === "Esc") {
      if (this.isOpen()) {
        event.preventDefault();
        this.close();
      }
    } else if (event.key === "Tab") {
      this.close();
    }
  };

  Combobox.prototype.choose = function (index) {
    var option = this.options[index];
    if (!option) {
      return;
    }
    this.close();
    if (option.kind === "position") {
      window.location.assign(option.url);
      return;
    }
    this.input.value = option.label;
    if (this.form.requestSubmit) {
      this.form.requestSubmit();
    } else {
      this.form.submit();
    }
  };

  function textOf(element) {
    if (element.tagName === "TEXTAREA" || element.tagName === "INPUT") {
      return element.value;
    }
    return element.innerText.trim();
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyText(text, target) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text);
    }
    // Older browsers and plain-http pages: copy the selected element's text.
    return new Promise(function (resolve, reject) {
      selectContents(target);
      if (document.execCommand && document.execCommand("copy")) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  function wireCopyButtons() {
    var buttons = document.querySelectorAll("button.copy-button[data-copy-target]");
    if (!buttons.length) {
      return;
    }
    var status = makeLiveRegion("copy-status");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      var label = button.textContent;
      var timer = null;
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(textOf(target), target).then(
          function () {
            button.textContent = "Copied";
            status.textContent = "Copied to the clipboard.";
          },
          function () {
            selectContents(target);
            status.textContent = "Could not copy. The text is selected: copy it yourself.";
          }
        );
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = label;
          status.textContent = "";
        }, 3000);
      });
    });
  }

  // Once per results page: the count is "searches whose results were opened", not clicks.
  // Links stay plain links; the beacon does not delay them and carries no identifier.
  function reportOpenedResult() {
    var results = document.querySelector("[data-opened-url]");
    if (!results || !navigator.sendBeacon || !window.URLSearchParams) {
      return;
    }
    var sent = false;
    function opened(event) {
      var link = event.target.closest ? event.target.closest("a.result-link") : null;
      if (!link || sent) {
        return;
      }
      sent = true;
      var body = new URLSearchParams();
      body.set("q", results.getAttribute("data-query") || "");
      navigator.sendBeacon(results.getAttribute("data-opened-url"), body);
    }
    results.addEventListener("click", opened);
    results.addEventListener("auxclick", opened);
  }

  focusSearchOnSlash();
  var search = document.querySelector("input[data-suggest-url]");
  if (search && window.fetch) {
    new Combobox(search);
  }
  wireCopyButtons();
  reportOpenedResult();
})();
