"""Debian's chromium, headless, driven over the DevTools protocol: open a page, collect
what its console and network logged, evaluate a script, take a screenshot.

The page is opened from a file:// URL with a fresh profile; every request that is not for
a file:// URL is recorded, so a test can tell the page reached for the network.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

CHROMIUM = os.environ.get("SILOSCOPE_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


class BrowserError(RuntimeError):
    pass


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    console_messages: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    loaded: bool = False


class HeadlessChromium:
    """One browser process, one page; use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 900):
        if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
            raise BrowserError(
                f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                "(apt-get install chromium), or set SILOSCOPE_CHROMIUM"
            )
        self.width, self.height = width, height
        self._profile = tempfile.mkdtemp(prefix="siloscope-chromium-")
        self._process: subprocess.Popen | None = None
        self._socket: websocket.WebSocket | None = None
        self._next_id = 0
        self._events: list[dict] = []

    def __enter__(self) -> HeadlessChromium:
        self._process = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--window-size={self.width},{self.height}",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: closed with all its children
        )
        port = self._debugging_port()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self._socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._socket is not None:
            self._socket.close()
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
                self._process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _debugging_port(self) -> int:
        # chromium writes the port it chose to DevToolsActivePort in the profile
        active_port = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BrowserError(f"chromium exited with {self._process.returncode}")
            if active_port.exists():
                lines = active_port.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.1)
        raise BrowserError("chromium did not open its DevTools port within 30 s")

    def send(self, method: str, **params) -> dict:
        assert self._socket is not None
        self._next_id += 1
        message_id = self._next_id
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    def _drain(self, seconds: float) -> None:
        assert self._socket is not None
        deadline = time.monotonic() + seconds
        self._socket.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    self._events.append(json.loads(self._socket.recv()))
                except websocket.WebSocketTimeoutException:
                    continue
        finally:
            self._socket.settimeout(30)

    def open(self, path: Path, settle_seconds: float = 1.0) -> PageVisit:
        """Load a local file and wait for its load event, then a moment for late errors."""
        self._events.clear()
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        deadline = time.monotonic() + 30
        visit = PageVisit()
        while time.monotonic() < deadline and not visit.loaded:
            self._drain(0.2)
            visit.loaded = any(e.get("method") == "Page.loadEventFired" for e in self._events)
        if not visit.loaded:
            raise BrowserError(f"{path} did not finish loading within 30 s")
        self._drain(settle_seconds)
        for event in self._events:
            _record(visit, event.get("method"), event.get("params", {}))
        return visit

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> bytes:
        """The whole page, not only the window, as PNG."""
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        png = base64.b64decode(shot["data"])
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(png)
        return png


def _record(visit: PageVisit, method: str | None, params: dict) -> None:
    """What one DevTools event tells of the page: a console line, an error, a request."""
    if method == "Runtime.consoleAPICalled":
        text = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
        visit.console_messages.append(f"{params['type']}: {text}")
        if params["type"] in ("error", "assert"):
            visit.console_errors.append(text)
    elif method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        visit.console_errors.append(
            details.get("exception", {}).get("description") or details["text"]
        )
    elif method == "Log.entryAdded":
        entry = params["entry"]
        visit.console_messages.append(f"{entry['level']}: {entry['text']}")
        if entry["level"] == "error":
            visit.console_errors.append(f"{entry['text']} {entry.get('url', '')}")
    elif method == "Network.requestWillBeSent":
        url = params["request"]["url"]
        if not url.startswith(("file:", "data:", "about:")):
            visit.network_requests.append(url)
