"""Starting `recueil serve` for a test, as a user would, on a free port of the loopback."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

#: a small copy of the sample that the web tests serve (themes, kinds, see-also links)
SOURCES = [
    "experiences/hdf-2022-003-cafe-des-parents.md",  # parentalite, see_also three others
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/ara-2022-004-mediatrices-familles-ecole.md",
    "experiences/occ-2023-005-francais-parents.md",
    "experiences/hdf-2022-013-fablab-mobile.md",
    "resources/res-2022-002-podcast-mediatrices.md",
    "syntheses/syn-2023-002-place-des-parents.md",
    "syntheses/syn-2021-001-seminaire-cpo.md",
    "resources/res-2022-004-article-metier-cpo.md",
]

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(root: Path, *options: str) -> Iterator[str]:
    """The base URL of `recueil serve --project ROOT` until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "recueil.cli", "serve", "--project", str(root),
         "--port", str(port), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"the server did not start:\n{output}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (installed by `make install`)."""
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run `make install`", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
