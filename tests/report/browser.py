"""A headless chromium driven over the DevTools protocol, for the report's browser tests.

``Browser.start()`` runs Debian's chromium headless with a private profile and remote debugging
on a loopback port; ``open(url)`` loads a page in a fresh tab and records what the page did:
console errors, uncaught exceptions, and every network request. ``evaluate`` runs JavaScript in
the page and returns its (awaited) value; ``screenshot`` returns a PNG.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[2]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def find_chromium() -> tuple[str | None, str]:
    """(the chromium binary, "") or (None, why not), installing it with scripts/ensure-chromium.sh."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name), ""
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "ensure-chromium.sh")], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"scripts/ensure-chromium.sh could not run: {exc}"
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name), ""
    return None, (done.stderr.strip() or "chromium is not installed and could not be installed")


class Page:
    """One tab, with what it logged and requested."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.waiters: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message and message["id"] in self.pending:
                future = self.pending.pop(message["id"])
                if "error" in message:
                    future.set_exception(RuntimeError(str(message["error"])))
                else:
                    future.set_result(message.get("result", {}))
            elif "method" in message:
                self.events.setdefault(message["method"], []).append(message.get("params", {}))
                for name, future in list(self.waiters):
                    if name == message["method"] and not future.done():
                        future.set_result(message.get("params", {}))
                        self.waiters.remove((name, future))

    async def send(self, method: str, **params: Any) -> Any:
        number = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        return await asyncio.wait_for(future, 60)

    def event(self, method: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters.append((method, future))
        return future

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (promises awaited); raises with the page's error message."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        """Poll ``expression`` until it is truthy (errors while the page reloads count as false)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        problem = ""
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError as exc:  # the page is reloading: no context to evaluate in yet
                value, problem = None, str(exc)
            if value:
                return value
            if loop.time() > end:
                raise TimeoutError(f"still false after {timeout_s} s: {expression} {problem}")
            await asyncio.sleep(0.1)

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, as text."""
        found = []
        for call in self.events.get("Runtime.consoleAPICalled", []):
            if call.get("type") in ("error", "assert"):
                found.append(
                    " ".join(str(a.get("value", a.get("description", ""))) for a in call.get("args", []))
                )
        for thrown in self.events.get("Runtime.exceptionThrown", []):
            details = thrown.get("exceptionDetails", {})
            found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        for entry in self.events.get("Log.entryAdded", []):
            if entry.get("entry", {}).get("level") == "error":
                found.append(entry["entry"].get("text", ""))
        return found

    def requests(self) -> list[str]:
        return [r["request"]["url"] for r in self.events.get("Network.requestWillBeSent", [])]

    async def screenshot(
        self, path: Path, *, width: int = 1280, height: int = 900, top: int | None = None
    ) -> None:
        """A PNG of the viewport (``top``: of the page from that offset, ``height`` tall)."""
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
        params: dict[str, Any] = {"format": "png"}
        if top is not None:
            params["clip"] = {"x": 0, "y": top, "width": width, "height": height, "scale": 1}
            params["captureBeyondViewport"] = True
        shot = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()


class Browser:
    """A headless chromium with a private profile, killed (its whole process group) at ``close``."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.profile = tempfile.mkdtemp(prefix="swerve-chromium-")
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = Path(self.profile) / "stderr.log"

    async def start(self, *, dark: bool = False) -> Browser:
        argv = [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"]
        if dark:
            argv.insert(1, "--force-dark-mode")
        self.log = Path(self.profile) / "stderr.log"
        with open(self.log, "w") as err:  # a file, never a pipe nobody drains
            self.process = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        while loop.time() < end:
            m = re.search(
                r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", self.log.read_text(errors="replace")
            )
            if m:
                self.port = int(m.group(1))
                return self
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        raise RuntimeError(f"chromium did not start: {self.log.read_text(errors='replace')[-2000:]}")

    async def open(self, url: str) -> Page:
        """A fresh tab that has loaded ``url``, with console, log and network recorded from the start."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        target = await asyncio.to_thread(
            lambda: json.loads(urllib.request.urlopen(request, timeout=30).read())
        )
        ws = await websockets.connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        page = Page(ws)
        for domain in ("Runtime", "Log", "Network", "Page"):
            await page.send(f"{domain}.enable")
        loaded = page.event("Page.loadEventFired")
        await page.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 60)
        return page

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)
