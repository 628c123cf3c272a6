"""Look at the Airflow UI the way a person does: a real headless Chromium, page by page.

Drives Debian's ``chromium`` over the DevTools protocol (one browser for every page),
waits until each page shows the text it must show, and saves a screenshot for a
person to look at. Used by the UI test and by ``reelops airflow check-ui``.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class UICheckError(RuntimeError):
    """A page did not show what it must; the message names the page and what was missing."""


@dataclass(frozen=True)
class Page:
    """One page to look at: its path under the UI, the text it must show, a file name."""

    name: str
    path: str
    expect: tuple[str, ...]


def find_chromium() -> str | None:
    """The path of a Chromium on this machine, or None."""
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Browser:
    """A headless Chromium and one DevTools session on one tab."""

    def __init__(self, chromium: str, width: int = 1400, height: int = 900):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="reelops-chromium-")
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",  # runs as root in CI containers
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={self.port}",
                "--remote-allow-origins=*",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ids = itertools.count(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                tabs = httpx.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise UICheckError(f"{chromium} did not start its DevTools endpoint") from None
                time.sleep(0.3)
        page = next(t for t in tabs if t.get("type") == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20)

    def call(self, method: str, **params):
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == ident:
                if "error" in message:
                    raise UICheckError(f"{method}: {message['error']}")
                return message.get("result", {})

    def text(self) -> str:
        result = self.call(
            "Runtime.evaluate", expression="document.body ? document.body.innerText : ''"
        )
        return str(result.get("result", {}).get("value", ""))

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def check_pages(
    base_url: str, pages: list[Page], out_dir: Path, timeout_s: float = 60.0
) -> dict[str, Path]:
    """Open every page, wait for its expected text, save a screenshot of each.

    Args:
        base_url: The Airflow UI, e.g. ``http://127.0.0.1:8080``.
        pages: What to open and what each must show.
        out_dir: Where the screenshots go (``<name>.png``).
        timeout_s: How long a page may take to show its text.

    Returns:
        Page name -> screenshot path.

    Raises:
        UICheckError: No Chromium, or a page never showed its text (its screenshot and
            the text it did show are still saved, for the person debugging).
    """
    chromium = find_chromium()
    if chromium is None:
        raise UICheckError(
            "no Chromium found: install Debian's package (`apt-get install chromium`)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = _Browser(chromium)
    shots: dict[str, Path] = {}
    try:
        browser.call("Page.enable")
        for page in pages:
            browser.call("Page.navigate", url=base_url.rstrip("/") + page.path)
            deadline = time.monotonic() + timeout_s
            text = ""
            while time.monotonic() < deadline:
                time.sleep(1.0)
                text = browser.text()
                if all(expected in text for expected in page.expect):
                    break
            time.sleep(1.0)  # let charts and iframes finish drawing before the picture
            shot = browser.call("Page.captureScreenshot", format="png")
            path = out_dir / f"{page.name}.png"
            path.write_bytes(base64.b64decode(shot["data"]))
            shots[page.name] = path
            if missing := [e for e in page.expect if e not in text]:
                (out_dir / f"{page.name}.txt").write_text(text)
                raise UICheckError(
                    f"{page.name} ({page.path}) never showed {missing} within {timeout_s:.0f} s; "
                    f"screenshot {path}, its text {out_dir / (page.name + '.txt')}"
                )
    finally:
        browser.close()
    return shots
