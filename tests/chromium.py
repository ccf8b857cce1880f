"""Debian's Chromium for the browser tests: where it is, how it is started, and a page logged into Label Studio."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Finds ``needle`` in the rendered article and returns the viewport points of its first and last
# character, so the mouse can drag over exactly those characters (``page.evaluate(SELECTION_POINTS_JS, needle)``).
SELECTION_POINTS_JS = """(needle) => {
  const root = document.querySelector('.lsf-richtext__container');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const i = node.data.indexOf(needle);
    if (i < 0) continue;
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + needle.length);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
    const first = rects[0], last = rects[rects.length - 1];
    return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2};
  }
  return null;
}"""

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed (make test installs it)")


@contextmanager
def logged_in_page(url: str, email: str, password: str) -> Iterator:
    """A Chromium page logged into the Label Studio at ``url`` as ``email``, as a person logs in."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/user/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda current: "/user/login" not in current)
        yield page
        browser.close()
