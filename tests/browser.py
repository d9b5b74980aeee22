"""Headless Chromium for the browser tests: Debian's binary, and pages that record their errors."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]  # fmt: skip
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1280, "height": 720}
PROJECTOR = {"width": 1920, "height": 1080}


def screenshots() -> Path:
    """Where browser tests save screenshots: a temporary folder, so the suite leaves the work
    tree as it found it; `scripts/screenshots.sh` points it at docs/screenshots on purpose."""
    folder = Path(
        os.environ.get("HANDSUP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "handsup-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browser download is never used)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Devices:
    """Each page in a browser context of its own (its own storage: a separate person)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(
        self,
        url: str,
        *,
        phone: bool = False,
        viewport: dict[str, int] | None = None,
        locale: str | None = None,
        scale: float = 1,
    ) -> Page:
        """A page at `url` in a new context: a phone or a laptop screen, in the browser's
        language `locale` (default: Playwright's, en-US), at `scale` device pixels per px."""
        context = self.browser.new_context(
            viewport=viewport or (PHONE if phone else SCREEN),
            device_scale_factor=scale,
            is_mobile=phone,
            has_touch=phone,
            locale=locale,
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{url}: {error}"))
        page.goto(url)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


# The pixel widths of the result bars under `scope`, once no width transition is running and
# each fill's share of its track is within `tolerance` of `expected`; null until then.
_SETTLED_WIDTHS = """([scope, expected, tolerance]) => {
  const rows = [...document.querySelectorAll(`${scope} .bar-row`)];
  if (rows.length !== expected.length) return null;
  const fills = rows.map((row) => row.querySelector(".bar-fill"));
  const moving = document.getAnimations().some(
    (animation) => animation instanceof CSSTransition && fills.includes(animation.effect?.target),
  );
  if (moving) return null;
  const widths = [];
  for (const [i, row] of rows.entries()) {
    const track = row.querySelector(".bar-track").getBoundingClientRect().width;
    const fill = fills[i].getBoundingClientRect().width;
    if (!(track > 0) || Math.abs(fill / track - expected[i]) > tolerance) return null;
    widths.push(fill);
  }
  return widths;
}"""


def settled_bar_widths(
    page: Page, scope: str, expected: list[float], tolerance: float = 0.005
) -> list[float]:
    """Wait until the bars under `scope` have stopped moving at these shares of their track;
    return their widths in pixels."""
    handle = page.wait_for_function(_SETTLED_WIDTHS, arg=[scope, expected, tolerance])
    widths: list[float] = handle.json_value()
    return widths
