"""Each main page at desktop and phone widths, light and dark: axe-core finds no WCAG 2.0,
2.1 or 2.2 A/AA problem and no best-practice one, nothing is wider than the screen, and a
full-page screenshot is saved to tests/screenshots/ for a person to look at.

axe is loaded from a same-origin URL that the test router answers (see conftest.py), so the
pages keep their real Content-Security-Policy: no bypass is needed.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, axe_violations, page_path

pytestmark = pytest.mark.browser

PAGES = ["home", "search", "position", "cite"]
VIEWS = [("desktop", "light"), ("desktop", "dark"), ("phone", "light")]
CASES = [(name, width, scheme) for name in PAGES for width, scheme in VIEWS]
CASES.append(("home", "phone", "dark"))


@pytest.mark.parametrize(("name", "width", "scheme"), CASES)
def test_page_is_accessible_and_fits(
    new_page, axe_installed, screenshots, first_passage, name, width, scheme
):
    viewport = DESKTOP if width == "desktop" else PHONE
    page = new_page(viewport=viewport, color_scheme=scheme)
    response = page.goto(page_path(name, first_passage))
    assert response.status == 200
    page.screenshot(path=screenshots / f"{name}-{width}-{scheme}.png", full_page=True)
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # site.css loaded
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {viewport['width']}px screen"
    assert axe_violations(page) == []
