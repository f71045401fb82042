"""The HTML report as a reader sees it: headless Chromium loads it with no console error and
no network request, and a screenshot is saved.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands
on file descriptor 3, replies on 4), so no driver binary or extra package is needed. Without
Chromium the test is skipped, unless ``CI`` is set, where it fails.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from qualcx.report import write_report

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and Path(p).exists()),
                None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe"]


class Browser:
    """A headless Chromium and the DevTools protocol over its pipe."""

    def __init__(self, binary: str = CHROMIUM, timeout: float = 30):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="qualcx-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds():  # the protocol pipe must be fds 3 (commands) and 4 (replies) in the child
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile}",
                                      "about:blank"], preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the protocol pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def open(self, url: str, width: int = 1366, height: int = 900):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        self.send("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => 1)",
                                       "awaitPromise": True})

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", {"expression": expression,
                                              "returnByValue": True})["result"].get("value")

    def screenshot(self, path: Path, scroll_y: int | None = None):
        if scroll_y is not None:
            self.evaluate(f"window.scrollTo(0, {int(scroll_y)}); 0")
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", ""))
        return out

    def close(self):
        try:
            self.send("Browser.close", session=False)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - the browser may already be gone
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (apt-get install chromium); CI must run the "
                        "browser test")
        pytest.skip("Chromium is not installed")
    b = Browser()
    yield b
    b.close()


def test_html_report_loads_cleanly_in_chromium(coded_project, browser, tmp_path):
    html_path, _ = write_report(coded_project)
    url = html_path.resolve().as_uri()
    browser.open(url)
    assert browser.errors() == []
    others = [u for u in browser.requests() if u != url and not u.startswith("data:")]
    assert others == []
    # the injected markup is visible as text, and nothing ran
    body = browser.evaluate("document.body.innerText")
    assert "<script>alert(1)</script>" in body and "onerror=alert(2)" in body
    assert browser.evaluate("document.querySelectorAll('main script, main img').length") == 0
    assert browser.evaluate("document.querySelectorAll('svg.chart title').length") >= 2
    # every in-page link (quote -> transcript, transcript -> quote, contents) has its target
    broken = browser.evaluate("[...document.querySelectorAll('a[href^=\"#\"]')]"
                              ".map(a => a.getAttribute('href').slice(1))"
                              ".filter(id => !document.getElementById(id))")
    assert broken == []
    assert browser.evaluate("document.querySelectorAll('a.src').length") >= 4
    shot = Path(os.environ.get("QUALCX_SCREENSHOT_DIR", tmp_path)) / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
