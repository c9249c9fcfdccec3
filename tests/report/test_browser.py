"""The report in a real headless chromium: no console errors, no request but the page itself, the
numbers on the page equal to the run's own records, and the viewer opening an episode with its
diff and verdict. Chromium is Debian's, installed by scripts/ensure-chromium.sh when missing."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import Browser, Page, find_chromium
from support import TASKS, VALIDATED, records, swerve


@pytest.fixture(scope="session")
def chromium() -> str:
    binary, why = find_chromium()
    if binary is None:
        pytest.skip(f"no chromium for the browser tests: {why}")
    return binary


async def open_page(chromium: str, url: str, *, dark: bool = False) -> tuple[Browser, Page]:
    browser = await Browser(chromium).start()
    try:
        page = await browser.open("about:blank")
        if dark:
            await page.send(
                "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}]
            )
        loaded = page.event("Page.loadEventFired")
        await page.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 60)
        await page.wait_for("document.readyState === 'complete'")
        return browser, page
    except BaseException:
        browser.close()
        raise


def clean(page: Page, url: str) -> None:
    assert page.errors() == []
    assert [u for u in page.requests() if u != "about:blank"] == [url]


def text(selector: str) -> str:
    return f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent"


def choose(table: str, filter_id: str, value: str) -> str:
    """Script: pick ``value`` in a table's filter menu, as a user does."""
    select = json.dumps(f"#{table} select[data-filter={filter_id}]")
    return f"{{ const s = document.querySelector({select}); s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }}"


def search(table: str, query: str) -> str:
    """Script: type ``query`` in a table's filter box."""
    box = json.dumps(f"#{table} input[type=search]")
    return f"{{ const q = document.querySelector({box}); q.value = {json.dumps(query)}; q.dispatchEvent(new Event('input')); }}"


def natural(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def rows(table: str) -> str:
    return f"[...document.querySelectorAll('#{table} tbody tr')].map(tr => tr.dataset.row)"


async def test_a_gym_report_shows_what_its_records_hold(chromium: str, gym_run) -> None:
    out, _ = gym_run
    url = (out / "report.html").resolve().as_uri()
    stored = records(out)
    browser, page = await open_page(chromium, url)
    try:
        resolved = sum(r["verdict"]["resolved"] for r in stored)
        assert await page.evaluate(text("[data-figure=resolved] .v")) == f"{resolved} / {len(stored)}"
        mean = sum(r["reward"] for r in stored) / len(stored)
        assert await page.evaluate(text("[data-figure=reward] .v")) == f"{mean:.3f}"
        cells = await page.evaluate(
            "[...document.querySelectorAll('#task-table tbody tr')].map(tr => [tr.dataset.row, "
            "[...tr.children].map(td => td.textContent)])"
        )
        headers = await page.evaluate(
            "[...document.querySelectorAll('#task-table th')].map(th => th.textContent)"
        )
        assert sorted(row for row, _ in cells) == sorted(TASKS)
        for task, values in cells:
            mine = [r for r in stored if r["episode"]["task_id"] == task]
            got = dict(zip(headers, values, strict=True))
            assert got["resolved"] == f"{sum(r['verdict']['resolved'] for r in mine)}/{len(mine)}"
            assert (got["signal"] == "no signal") == (len({r["reward"] for r in mine}) == 1)
        episodes = await page.evaluate("document.querySelectorAll('#episode-table tbody tr').length")
        assert episodes == len(stored)
        assert await page.evaluate("document.querySelectorAll('svg.plot').length") >= 5
        clean(page, url)
    finally:
        browser.close()


async def test_clicking_a_task_opens_its_episode_with_diff_and_verdict(chromium: str, gym_run) -> None:
    out, _ = gym_run
    url = (out / "report.html").resolve().as_uri()
    browser, page = await open_page(chromium, url)
    try:
        await page.evaluate(f"document.querySelector('#task-table tr[data-row=\"{TASKS[0]}\"]').click()")
        await page.wait_for("document.querySelector('#v-diff pre') !== null")
        key = await page.evaluate("decodeURIComponent(location.hash.slice('#episode='.length))")
        record = next(r for r in records(out) if r["episode"]["key"] == key)
        assert record["episode"]["task_id"] == TASKS[0]
        added = [
            line
            for line in record["patch"].splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        shown = await page.evaluate("[...document.querySelectorAll('#v-diff .add')].map(e => e.textContent)")
        assert shown == added and added
        assert await page.evaluate(text("#verdict dd[data-field=outcome]")) == "resolved"
        f2p = await page.evaluate(
            "[...document.querySelectorAll('[data-group=FAIL_TO_PASS] li[data-result=pass]')].map(e => e.dataset.test)"
        )
        assert f2p == record["verdict"]["tests_status"]["FAIL_TO_PASS"]["success"]
        assert await page.evaluate("document.querySelectorAll('#v-conversation .msg').length") == len(
            record["messages"]
        )
        last_log_line = record["verdict"]["report"]["output_tail"].strip().splitlines()[-1]
        assert last_log_line in await page.evaluate(text("#v-log"))
        await page.evaluate("[...document.querySelectorAll('#viewer-samples button')].at(-1).click()")
        await page.wait_for(
            f"!location.hash.endsWith({json.dumps('%23' + str(record['episode']['sample']))})"
        )
        await page.wait_for("document.querySelector('#v-verdict') !== null")
        await page.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
        assert await page.evaluate("document.getElementById('viewer').hidden")
        clean(page, url)
    finally:
        browser.close()


async def test_tables_sort_and_filter(chromium: str, agent_run) -> None:
    out, _ = agent_run
    page_file = next(out.glob("*.agent.html"))
    url = page_file.resolve().as_uri()
    report = json.loads(page_file.with_suffix(".json").read_text())
    browser, page = await open_page(chromium, url)
    try:
        outcomes = await page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('#task-table tbody tr')]"
            ".map(tr => [tr.dataset.row, tr.querySelector('.pill').textContent]))"
        )
        assert {t for t, o in outcomes.items() if o == "resolved"} == set(report["resolved_ids"])
        assert {t for t, o in outcomes.items() if o == "empty_patch"} == set(report["empty_patch_ids"])
        await page.evaluate(choose("task-table", "klass", "resolved"))
        assert set(await page.evaluate(rows("task-table"))) == set(report["resolved_ids"])
        await page.evaluate(choose("task-table", "klass", ""))
        await page.evaluate(search("task-table", TASKS[1][-8:]))
        assert await page.evaluate(rows("task-table")) == [TASKS[1]]
        await page.evaluate("document.querySelector('#task-table tbody tr').click()")
        await page.wait_for("document.querySelector('#v-tests') !== null")
        assert await page.evaluate(text("#verdict dd[data-field=outcome]")) == "unresolved"
        await page.evaluate("document.getElementById('viewer-close').click()")
        await page.evaluate(search("task-table", ""))
        await page.evaluate("document.querySelector('#task-table th[data-key=task]').click()")
        order = await page.evaluate(
            "[...document.querySelectorAll('#task-table tbody tr')].map(tr => tr.dataset.row)"
        )
        assert order == sorted(TASKS, key=natural, reverse=True), "numbers inside ids sort as numbers"
        await page.evaluate(f"document.querySelector('#task-table tr[data-row=\"{TASKS[2]}\"]').click()")
        await page.wait_for("document.querySelector('#v-diff') !== null")
        assert "empty patch" in await page.evaluate(text("#v-diff"))
        clean(page, url)
    finally:
        browser.close()


async def test_validation_and_compare_pages(
    chromium: str, validation_run, gym_run, agent_run, scratch: Path
) -> None:
    out, _ = validation_run
    url = (out / "validation.val.html").resolve().as_uri()
    browser, page = await open_page(chromium, url)
    try:
        assert await page.evaluate(text("[data-figure=valid] .v")) == f"{len(VALIDATED)} / {len(VALIDATED)}"
        await page.evaluate(f"document.querySelector('#task-table tr[data-row=\"{VALIDATED[0]}\"]').click()")
        await page.wait_for("document.querySelectorAll('#viewer-samples button').length === 2")
        await page.evaluate(
            "[...document.querySelectorAll('#viewer-samples button')].find(b => b.textContent === 'no-patch').click()"
        )
        await page.wait_for(
            "document.querySelector('[data-group=FAIL_TO_PASS] li[data-result=fail]') !== null"
        )
        clean(page, url)
    finally:
        browser.close()
    compare = scratch / "compare-browser.html"
    done = swerve("report", str(gym_run[0]), "--compare", str(agent_run[0]), "-o", str(compare))
    assert done.returncode == 0, done.stderr
    url = compare.resolve().as_uri()
    browser, page = await open_page(chromium, url)
    try:
        assert await page.evaluate("document.querySelectorAll('#compare-table tbody tr').length") == len(
            TASKS
        )
        assert "pts" in await page.evaluate(text("[data-figure=difference] .v"))
        clean(page, url)
    finally:
        browser.close()


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_light_and_dark_schemes(chromium: str, dir_run: Path, scratch: Path) -> None:
    target = scratch / "dirs.html"
    assert swerve("report", str(dir_run), "-o", str(target)).returncode == 0
    url = target.resolve().as_uri()
    shades = {}
    for dark in (False, True):
        browser, page = await open_page(chromium, url, dark=dark)
        try:
            body = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            label = await page.evaluate("getComputedStyle(document.querySelector('svg .lbl')).fill")
            shades[dark] = (_luminance(body), _luminance(label))
            assert await page.evaluate(text("[data-figure=infra] .v")) == str(
                sum(1 for r in records(dir_run) if r.get("infra_error"))
            )
            clean(page, url)
        finally:
            browser.close()
    assert shades[False][0] > 200 > shades[True][0], "light background, then dark"
    assert shades[False][1] < 100 < shades[True][1], "plot labels follow the scheme"


async def test_served_page_follows_a_live_run(chromium: str, dir_run: Path, scratch: Path) -> None:
    live = scratch / "live"
    shutil.copytree(dir_run, live)
    server = subprocess.Popen(
        [sys.executable, "-m", "swerve.cli.main", "report", str(live), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 60)
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line + (server.stderr.read() if server.poll() is not None and server.stderr else "")
        base = f"http://127.0.0.1:{m[1]}/"
        browser, page = await open_page(chromium, base)
        try:
            before = await page.evaluate("D.episodes.length")
            assert before == len(records(live))
            added = next(r for r in records(live) if r["episode"]["task_id"] == "passes")
            added["episode"].update(key="passes#9", sample=9)
            with open(live / "episodes.jsonl", "a") as f:
                f.write(json.dumps(added) + "\n")
            await page.wait_for(
                f"typeof D !== 'undefined' && D.episodes.length === {before + 1}", timeout_s=30
            )
            await page.evaluate("openEpisode('passes#9')")
            await page.wait_for(
                "document.querySelector('#v-verdict') !== null && !document.querySelector('#no-detail')"
            )
            assert page.errors() == []
            assert all(u.startswith(base) for u in page.requests() if u != "about:blank")
            assert any("/chunk/" in u for u in page.requests()), "details are paged in from the server"
        finally:
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
