"""Open a local HTML page in headless Chromium and read what a user would see, over the DevTools protocol.

Used by the report tests: console errors and exceptions, every request the page made (it must make none
beyond its own file and data: URIs), the load state of every image, the value of a JS expression, and a
full-page screenshot. Chromium runs with a fresh profile and everything that would reach the network
turned off.
"""

from __future__ import annotations

import base64
import itertools
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
from typing import Any

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# `make test` installs Chromium first (scripts/ensure-chromium.sh), so under CI a missing browser is a
# failure, never a silent skip; a developer running pytest by hand without it is told how to get it.
needs_chromium = pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                                    reason="chromium not installed: run scripts/ensure-chromium.sh (make test does)")


@dataclass
class PageCheck:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class _Session:
    def __init__(self, ws_url: str):
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.ws.recv()))


def _devtools_port(profile: Path, proc: subprocess.Popen, timeout: float = 30) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def session_pids(session: int) -> list[int]:
    """Live (not zombie) processes of a session, from /proc."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


def stop_session(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the browser's session, SIGKILL what is left after ``timeout``; return once none is alive."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in session_pids(proc.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None and not session_pids(proc.pid):
                return
            time.sleep(0.02)
    raise RuntimeError(f"chromium's processes {session_pids(proc.pid)} survived SIGKILL for {timeout} s")


def check_page(page: Path, screenshot: Path | None = None, expressions: dict[str, str] | None = None,
               width: int = 1200) -> PageCheck:
    """Load ``page`` (a local file), wait for its load event, and report what the browser saw."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("chromium not found: run scripts/ensure-chromium.sh")
    result = PageCheck()
    profile = Path(tempfile.mkdtemp(prefix="report-chromium-"))
    try:
        # Its own session, so that teardown can stop every process Chromium started (renderer, GPU,
        # utility, crashpad), not only the browser: a child still writing to the profile made
        # removing it fail with "Directory not empty" (CI, 6 December).
        proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                 f"--window-size={width},900", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            port = _devtools_port(profile, proc)
            targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
            target = next(t for t in targets if t.get("type") == "page")
            session = _Session(target["webSocketDebuggerUrl"])
            for domain in ("Runtime", "Log", "Network", "Page"):
                session.call(f"{domain}.enable")
            session.call("Page.navigate", url=page.resolve().as_uri())
            session.wait_for("Page.loadEventFired")
            result.images = session.call("Runtime.evaluate", returnByValue=True, awaitPromise=True, expression=(
                "Promise.all(Array.from(document.images).map(i => i.decode().then(() => true, () => false)"
                ".then(ok => ({src: i.src.slice(0, 40), ok: ok, complete: i.complete, width: i.naturalWidth}))))"
            ))["result"]["value"]
            for name, expression in (expressions or {}).items():
                result.values[name] = session.call("Runtime.evaluate", expression=expression,
                                                   returnByValue=True)["result"].get("value")
            if screenshot is not None:
                size = session.call("Page.getLayoutMetrics")["cssContentSize"]
                height = min(int(size["height"]) + 1, 30000)
                session.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                             deviceScaleFactor=1, mobile=False)
                shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            session.ws.close()
        finally:
            stop_session(proc)
    finally:
        shutil.rmtree(profile)
    for event in session.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            result.console_errors.append(json.dumps(params.get("args"))[:500])
        elif method == "Runtime.exceptionThrown":
            result.console_errors.append(json.dumps(params.get("exceptionDetails"))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            result.console_errors.append(params["entry"].get("text", "")[:500])
        elif method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"][:80])
    return result
