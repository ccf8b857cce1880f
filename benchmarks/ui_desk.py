"""Label Studio 1.23's labelling screen driven as a person drives it, every action counted.

``Desk`` works on one open task in Debian's Chromium (Playwright): it selects text by dragging
the mouse, presses the label hotkeys the config sets, clicks per-region choices, types in text
boxes, draws relations (``alt+r``, then a click on the target) and labels them in the Relations
panel, deletes regions (``Backspace``) and relations, and submits. Every mouse and keyboard
action goes through ``Tally.act``, so the counts are what was done: clicks, drags, key presses,
typed fields (one per text typed, its characters counted apart) and hovers (a relation's buttons
only show under the mouse). Reading the screen (where a character is drawn, which region is
selected, the annotation as the editor holds it, through ``window.Htx``) is not an action and is
not counted; neither is scrolling (Playwright scrolls an element into view before it clicks it)
nor opening the task.

The Chromium launch and login repeat tests/chromium.py's few lines: benchmarks do not import
tests/, and browser code has no place in the product packages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
KINDS = ("click", "drag", "key", "typed_field", "hover")

# Viewport points of the first and last character of [start, end) (UTF-16 offsets over the text
# with its "\n"); the Text tag draws each line in its own element, without the "\n".
RANGE_JS = """([start, end]) => {
  const lines = Array.from(document.querySelectorAll('.lsf-richtext__container .lsf-richtext__line'));
  function locate(offset) {
    let base = 0;
    for (const line of lines) {
      const n = line.textContent.length;
      if (offset < base + n) {
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let at = base;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (offset < at + node.data.length) {
            const r = document.createRange(); r.setStart(node, offset - at); r.setEnd(node, offset - at + 1);
            return {line, box: Array.from(r.getClientRects()).filter(x => x.width > 0)[0]};
          }
          at += node.data.length;
        }
      }
      base += n + 1;
    }
    return null;
  }
  const container = document.querySelector('.lsf-richtext__container');
  const onText = (x, y) => container.contains(document.elementFromPoint(x, y));
  for (let attempt = 0; attempt < 2; attempt++) {
    const a = locate(start), b = locate(end - 1);
    if (!a || !b || !a.box || !b.box) return null;
    const p = {x1: a.box.left + 1, y1: a.box.top + a.box.height / 2, x2: b.box.right - 1,
               y2: b.box.top + b.box.height / 2};
    if (onText(p.x1, p.y1) && onText(p.x2, p.y2)) return p;
    a.line.scrollIntoView({block: 'center', behavior: 'instant'});  // scrolling is not an action we count
  }
  return null;
}"""
# A point on a character of region ``id`` where a click lands on that region (its innermost highlight).
REGION_POINT_JS = """(id) => {
  const region = window.Htx.annotationStore.selected.regionStore.regions.find(r => r.cleanId === id);
  if (!region) return null;
  const spans = Array.from(document.querySelectorAll('.' + CSS.escape(region.className)));
  for (let attempt = 0; attempt < 2 && spans.length; attempt++) {
    for (const span of spans) {
      for (const node of span.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE) continue;
        for (let i = 0; i < node.data.length; i++) {
          const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
          const b = Array.from(r.getClientRects()).filter(x => x.width > 0)[0];
          if (!b) continue;
          const x = b.left + b.width / 2, y = b.top + b.height / 2;
          if (document.elementFromPoint(x, y)?.closest('.htx-highlight') === span) return {x, y};
        }
      }
    }
    spans[0].scrollIntoView({block: 'center', behavior: 'instant'});
  }
  return null;
}"""
STATE_JS = """() => {
  const a = window.Htx.annotationStore.selected;
  const n = a.highlightedNode;
  return {selected: n ? n.cleanId : null, results: a.serializeAnnotation(),
          relations: a.relationStore.orderedRelations.map(r => [r.node1.cleanId, r.node2.cleanId])};
}"""
# The shown value of ``control``'s option with alias ``alias`` (dynamic choices come from the task data).
OPTION_JS = """([control, alias]) => {
  const tag = window.Htx.annotationStore.selected.names.get(control);
  const option = (tag && tag.children || []).find(c => c.alias === alias || c._value === alias);
  return option ? option._value : null;
}"""
LINES_JS = "() => Array.from(document.querySelectorAll('.lsf-richtext__container .lsf-richtext__line'))" \
           ".map(l => l.textContent).join('\\n')"


@dataclass(frozen=True)
class Layout:
    """What the labeling config says about the screen: hotkeys, and each label's per-region controls."""

    hotkeys: dict[str, str]  # label -> hotkey
    controls: dict[str, list[str]]  # label -> control names shown when a region of it is selected
    tags: dict[str, str]  # control name -> tag (Choices, TextArea)
    headers: dict[str, str]  # control name -> the Header shown above it
    pickers: frozenset[str]  # Choices drawn as a drop-down (layout="select"): the entity pickers

    @classmethod
    def of(cls, config_xml: str) -> Layout:
        root = ET.fromstring(config_xml)
        hotkeys = {e.get("value"): e.get("hotkey") for e in root.iter("Label")}
        controls: dict[str, list[str]] = {}
        tags: dict[str, str] = {}
        headers: dict[str, str] = {}
        pickers = frozenset(e.get("name") for e in root.iter("Choices") if e.get("layout") == "select")
        for view in root.iter("View"):
            label = view.get("whenLabelValue")
            if view.get("visibleWhen") != "region-selected" or label is None:
                continue
            header = None
            for child in view:
                if child.tag == "Header":
                    header = child.get("value")
                elif child.get("name"):
                    controls.setdefault(label, []).append(child.get("name"))
                    tags[child.get("name")], headers[child.get("name")] = child.tag, header or ""
        return cls(hotkeys, controls, tags, headers, pickers)


@dataclass
class Tally:
    """The one counter: actions by kind, and by step (what the action was for)."""

    counts: Counter = field(default_factory=Counter)
    steps: Counter = field(default_factory=Counter)
    characters: int = 0
    repeated_clicks: int = 0  # second clicks on a region Label Studio ignored the first time (counted too)
    step: str = "other"

    def act(self, kind: str, action: Callable[[], Any]) -> Any:
        assert kind in KINDS, kind
        self.counts[kind] += 1
        self.steps[self.step] += 1
        return action()

    @contextmanager
    def doing(self, step: str) -> Iterator[None]:
        before, self.step = self.step, step
        try:
            yield
        finally:
            self.step = before

    def summary(self) -> dict[str, Any]:
        return {"by_kind": {k: self.counts[k] for k in KINDS}, "total": sum(self.counts.values()),
                "by_step": dict(sorted(self.steps.items())), "characters_typed": self.characters,
                "repeated_clicks": self.repeated_clicks}


@contextmanager
def browser_page(url: str, email: str, password: str) -> Iterator[Any]:
    """A Chromium page logged into Label Studio at ``url`` (the login is not counted)."""
    from playwright.sync_api import sync_playwright  # heavy; only the browser run needs it

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{url}/user/login/")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda current: "/user/login" not in current)
            yield page
        finally:
            browser.close()


def value_in(state: dict[str, Any], region: str, control: str) -> str | None:
    """The value of ``region``'s per-region ``control`` in the editor's ``state`` (None: not set)."""
    for r in state["results"]:
        if r.get("id") == region and r.get("from_name") == control:
            v = r["value"]
            return (v.get("choices") or v.get("text") or v.get("taxonomy") or [None])[0]
    return None


def css(value: str) -> str:
    """``value`` as a CSS string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


class Desk:
    """One task open in the labelling screen; ids are the editor's region ids (``cleanId``)."""

    def __init__(self, page: Any, text: str, layout: Layout, tally: Tally):
        self.page, self.text, self.layout, self.tally = page, text, layout, tally
        self.relations_tab = False

    # --- reading the screen (not counted) ---

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector(".lsf-richtext__line")
        self.page.wait_for_function("() => window.Htx && window.Htx.annotationStore.selected")
        shown = self.page.evaluate(LINES_JS)
        if shown != self.text:
            raise RuntimeError("the text drawn on the screen is not the article's text; offsets would be wrong")

    def until(self, check: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """The editor's state once ``check`` holds (the editor updates a moment after an event), or the last one."""
        for _ in range(int(timeout / 0.05)):
            state = self.state()
            if check(state):
                return state
            self.page.wait_for_timeout(50)
        return self.state()

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(STATE_JS)

    def regions(self) -> dict[str, tuple[str, int, int]]:
        return {r["id"]: (r["value"]["labels"][0], r["value"]["start"], r["value"]["end"])
                for r in self.state()["results"] if r.get("type") == "labels"}

    def value(self, region: str, control: str) -> str | None:
        return value_in(self.state(), region, control)

    def block(self, control: str) -> Any:
        """The visible control under its header (the DOM does not carry Choices' names)."""
        header = re.compile(f"^{re.escape(self.layout.headers[control])}$")
        heading = self.page.locator("h4").filter(has_text=header).filter(visible=True)
        return heading.locator("xpath=following-sibling::div[1]")

    # --- actions (counted) ---

    def _click(self, target: Any) -> None:
        if isinstance(target, dict):
            self.tally.act("click", lambda: self.page.mouse.click(target["x"], target["y"]))
        else:
            self.tally.act("click", target.click)

    def _key(self, key: str) -> None:
        self.tally.act("key", lambda: self.page.keyboard.press(key))

    def _type(self, text: str) -> None:
        self.tally.characters += len(text)
        self.tally.act("typed_field", lambda: self.page.keyboard.type(text))

    def settle(self) -> None:
        """Let the editor finish redrawing (two frames and a moment) before the mouse goes to the text:
        a drag that starts while the highlights are being redrawn anchors on a node that is gone."""
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        self.page.wait_for_timeout(100)

    def _region_point(self, region: str) -> dict[str, float]:
        self.settle()
        point = self.page.evaluate(REGION_POINT_JS, region)
        if point is None:
            raise RuntimeError(f"region {region!r} has no character a click would land on")
        return point

    def setup(self) -> None:
        """Once per browser: Settings > "Select region after creating it" (a new region shows its controls)."""
        self._click(self.page.get_by_role("button", name="Settings"))
        self._click(self.page.get_by_text("Select region after creating it"))
        self._key("Escape")
        self.page.get_by_text("Labeling Interface Settings").wait_for(state="hidden")
        self.page.wait_for_timeout(500)  # the modal's fade-out still takes the clicks

    def unselect(self) -> None:
        if self.state()["selected"] is not None:
            self._key("Escape")  # a label hotkey would relabel the selected region

    def select(self, region: str) -> None:
        if self.state()["selected"] == region:
            return
        if not self._click_region(region, lambda s: s["selected"] == region):
            raise RuntimeError(f"clicking region {region!r} selected {self.state()['selected']!r}")

    def _click_region(self, region: str, done: Callable[[dict[str, Any]], bool]) -> bool:
        """Click on ``region``'s text until ``done``; at most twice. Label Studio sometimes ignores the first
        click in the text after a drag that began on a highlight (the drag's own click event never came,
        so the text is still in "selection mode"): a person clicks again, and both clicks count."""
        for attempt in range(2):
            self.tally.repeated_clicks += attempt
            self._click(self._region_point(region))
            if done(self.until(done, timeout=2.0)):
                return True
        return False

    def create_region(self, label: str, start: int, end: int) -> str:
        """Hotkey, then drag over [start, end); the new region is selected. Returns its id."""
        self.unselect()
        self.settle()
        points = self.page.evaluate(RANGE_JS, [utf16(self.text, start), utf16(self.text, end)])
        if points is None:
            raise RuntimeError(f"[{start}, {end}) is not drawn on the screen")
        self._key(self.layout.hotkeys[label])
        mouse = self.page.mouse

        def drag() -> None:
            mouse.move(points["x1"], points["y1"])
            mouse.down()
            mouse.move(points["x2"], points["y2"], steps=8)
            mouse.up()

        self.tally.act("drag", drag)
        region = self.until(lambda s: s["selected"] is not None)["selected"]
        if region is None or self.regions().get(region) != (label, start, end):
            raise RuntimeError(f"dragging over [{start}, {end}) as {label} made {self.regions().get(region)}")
        return region

    def delete_region(self, region: str) -> None:
        self.select(region)
        self._key("Backspace")
        self.until(lambda s: s["selected"] is None)
        if region in self.regions():
            raise RuntimeError(f"region {region!r} is still there after Backspace")

    def type_text(self, control: str, value: str) -> None:
        """Fill a per-region text box: click it (or its Edit button), type, Enter."""
        block = self.block(control)
        edit = block.get_by_role("button", name="Edit Region")
        if edit.count():
            self._click(edit.first)
            self._key("Control+a")
        else:
            self._click(block.locator(f"input[name={css(control)}]"))
        self._type(value)
        self._key("Enter")

    def set_control(self, region: str, control: str, value: str | None) -> bool:
        """Give the selected ``region``'s ``control`` the ``value`` (None: empty it); False if the UI cannot.

        The entity step lives here: a picker (``pick``) where the config has one, else the text box.
        """
        if control in self.layout.pickers:
            self.pick(region, control, value)
        elif self.layout.tags[control] == "TextArea":
            if value is None:
                self._click(self.block(control).get_by_role("button", name="Delete Region").first)
            else:
                self.type_text(control, value)
        elif value is None:
            return False  # a single-radio Choices cannot be unset by a click
        else:
            self._click(self.block(control).locator(f"label:has(input[name={css(value)}])"))
        if value_in(self.until(lambda s: value_in(s, region, control) == value), region, control) != value:
            raise RuntimeError(f"region {region!r}: {control} is {self.value(region, control)!r}, not {value!r}")
        return True

    def pick(self, region: str, control: str, value: str | None) -> None:
        """Open the drop-down and click the option whose alias (an entity id) is ``value``; None: click the
        chosen one again, which unsets it."""
        alias = value if value is not None else self.value(region, control)
        shown = self.page.evaluate(OPTION_JS, [control, alias])
        if shown is None:
            raise RuntimeError(f"{control}: no option for {alias!r} in the task's list")
        self._click(self.block(control).locator("button[data-slot=popover-trigger]").first)
        self._click(self.page.locator(f"[role=option][data-value={css(shown)}]"))
        self._popover_closed()

    def _popover_closed(self) -> None:
        # While a drop-down is open (or closing), the page takes no pointer events.
        self.page.wait_for_function("() => !document.querySelector('[role=listbox]')"
                                    " && getComputedStyle(document.body).pointerEvents !== 'none'")

    def _relation_item(self, source: str, target: str) -> Any:
        if not self.relations_tab:
            self._click(self.page.locator(".lsf-panel-tabs__tab", has_text="Relations").first)
            self.relations_tab = True
        index = self.state()["relations"].index([source, target])
        item = self.page.locator(".lsf-relations__item").nth(index)
        self.tally.act("hover", item.hover)  # the item's buttons show on hover only
        return item

    def add_relation(self, source: str, target: str, label: str) -> None:
        """``alt+r`` on the selected source, click the target, then pick the label in the Relations panel."""
        self.select(source)
        self._key("Alt+r")
        if not self._click_region(target, lambda s: [source, target] in s["relations"]):
            raise RuntimeError(f"alt+r on {source!r} and a click on {target!r} drew no relation")
        item = self._relation_item(source, target)
        self._click(item.get_by_role("button", name="Show Relation Labels"))
        self._click(item.locator(".lsf-relation-meta button").first)
        self._click(self.page.locator(f"[role=option][data-value={css(label)}]"))
        self._key("Escape")  # the label list allows several: it stays open
        self._popover_closed()
        found = [r for r in self.state()["results"] if r.get("type") == "relation"
                 and (r["from_id"], r["to_id"]) == (source, target)]
        if [r.get("labels") for r in found] != [[label]]:
            raise RuntimeError(f"relation {source} -> {target} is {found}, not one {label!r}")

    def delete_relation(self, source: str, target: str) -> None:
        item = self._relation_item(source, target)
        self._click(item.get_by_role("button", name="Delete Relation"))
        if [source, target] in self.until(lambda s: [source, target] not in s["relations"])["relations"]:
            raise RuntimeError(f"relation {source} -> {target} is still there")

    def submit(self) -> None:
        """Click Submit; returns once the server has the annotation."""
        button = self.page.get_by_test_id("bottombar-submit-button")
        with self.page.expect_response(lambda r: r.request.method == "POST" and "/annotations" in r.url) as saved:
            self._click(button)
        if not saved.value.ok:
            raise RuntimeError(f"Label Studio refused the annotation: {saved.value.status} {saved.value.text()[:200]}")
