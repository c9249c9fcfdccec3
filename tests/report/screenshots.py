"""The screenshots of docs/img/, taken from report pages of real runs in a headless chromium.

    python tests/report/screenshots.py --gym RUN_DIR --eval EVAL_PAGE.html [--out docs/img]

``--gym``: a gym run directory with its report.html; ``--eval``: an agent evaluation's page.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from browser import Browser, Page, find_chromium

WIDTH, HEIGHT = 1100, 760


async def _page(browser: Browser, url: str, *, dark: bool = False) -> Page:
    page = await browser.open("about:blank")
    scheme = "dark" if dark else "light"
    await page.send(
        "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}]
    )
    loaded = page.event("Page.loadEventFired")
    await page.send("Page.navigate", url=url)
    await asyncio.wait_for(loaded, 60)
    await page.send(
        "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False
    )
    await page.wait_for("document.readyState === 'complete'")
    return page


async def take(gym: Path, eval_page: Path, out: Path) -> list[Path]:
    binary, why = find_chromium()
    if binary is None:
        raise SystemExit(f"no chromium: {why}")
    out.mkdir(parents=True, exist_ok=True)
    browser = await Browser(binary).start()
    shots = []
    try:
        page = await _page(browser, (gym / "report.html").resolve().as_uri())
        shots.append(out / "report-summary.png")
        await page.screenshot(shots[-1], width=WIDTH, height=HEIGHT)
        await page.evaluate("window.scrollTo(0, document.getElementById('groups').offsetTop - 8)")
        shots.append(out / "report-groups.png")
        await page.screenshot(shots[-1], width=WIDTH, height=HEIGHT)
        await page.evaluate("window.scrollTo(0, 0)")
        await page.evaluate(
            "document.querySelector('#episode-table select[data-filter=klass]').value = 'resolved';"
            "document.querySelector('#episode-table select[data-filter=klass]').dispatchEvent(new Event('change'));"
            "document.querySelector('#episode-table tbody tr').click()"
        )
        await page.wait_for("document.querySelector('#v-diff pre') !== null")
        shots.append(out / "report-viewer.png")
        await page.screenshot(shots[-1], width=WIDTH, height=HEIGHT)
        await page.close()
        page = await _page(browser, eval_page.resolve().as_uri(), dark=True)
        await page.evaluate("window.scrollTo(0, document.getElementById('tasks').offsetTop - 8)")
        shots.append(out / "report-tasks-dark.png")
        await page.screenshot(shots[-1], width=WIDTH, height=HEIGHT)
        await page.close()
    finally:
        browser.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gym", required=True, type=Path)
    parser.add_argument("--eval", required=True, type=Path)
    parser.add_argument("--out", default=Path("docs/img"), type=Path)
    args = parser.parse_args()
    for shot in asyncio.run(take(args.gym, args.eval, args.out)):
        print(f"{shot} ({shot.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
