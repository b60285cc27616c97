"""Remote images: fetched only from listed hosts, within size and time limits, or refused.

A local HTTP server on 127.0.0.1 (in a thread) plays the image server; the project lists
'http://127.0.0.1', so 'localhost' (the same machine under another name) is a host that is not
listed. Every refusal is reported at the image's line. Since issue 17 an image that is only out
of reach (a host that is not listed, a server that fails or answers too slowly) is a warning and
its sheet is built with a placeholder; a suspicious URL or an image over a limit stays an error
and its sheet is not rendered.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hostile import BODY_LINE, png, resource
from PIL import Image
from pypdf import PdfReader

from conftest import copy_project, run_cli  # type: ignore[import-not-found]
from recueil.core.remote_images import RemoteImages

R = "content/resources"


def photo(width: int, height: int) -> bytes:
    """A real PNG, decoded by WeasyPrint and found again in the PDF by its size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


class ImageServer(ThreadingHTTPServer):
    """What each path answers, and which paths were asked for."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[str] = []
        self.photo = photo(40, 30)
        self.stop = threading.Event()  # ends the slow answers at teardown

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class Handler(BaseHTTPRequestHandler):
    server: ImageServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        port = self.server.port
        if self.path == "/photo.png":
            self.answer(200, self.server.photo, length=True)
        elif self.path == "/moved.png":  # to the same, listed host: followed
            self.answer(302, b"", location="/photo.png")
        elif self.path == "/redirect.png":
            self.answer(302, b"", location=f"http://localhost:{port}/photo.png")
        elif self.path == "/big.png":  # no Content-Length: only counting stops it
            self.answer(200, png(10, 10) + b"\x00" * 50_000, length=False)
        elif self.path == "/big-declared.png":
            self.answer(200, png(10, 10) + b"\x00" * 50_000, length=True)
        elif self.path == "/bomb.png":
            self.answer(200, png(20_000, 20_000), length=True)
        elif self.path == "/page.png":
            self.answer(200, b"<html>not an image</html>", length=True)
        elif self.path == "/drip.png":  # a byte every 0.3 s: each read is quick, the whole is not
            self.send_response(200)
            self.end_headers()
            for byte in self.server.photo:
                if self.server.stop.wait(0.3):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        else:
            self.answer(404, b"", length=True)

    def answer(self, status: int, body: bytes, length: bool = True, location: str = "") -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[ImageServer]:
    httpd = ImageServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


SETTINGS = """remote_image_hosts:
  - http://127.0.0.1
remote_image_max_bytes: 10000
remote_image_timeout: 1
"""


def project(tmp_path: Path, sheets: dict[str, str]) -> Path:
    root = copy_project(tmp_path / "project", [], images=False)
    (root / "recueil.yaml").write_text(SETTINGS, encoding="utf-8")
    for slug, body in sheets.items():
        path = root / R / f"{slug.lower()}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(resource(slug, body), encoding="utf-8")
    return root


def image_sizes(pdf: Path) -> list[tuple[int, int]]:
    return [image.image.size for page in PdfReader(pdf).pages for image in page.images]


def test_remote_images(server: ImageServer, tmp_path: Path) -> None:
    """One build, one sheet per case: the accepted images print, each refusal is located."""
    base = f"http://127.0.0.1:{server.port}"
    other = f"http://localhost:{server.port}"
    cases = {
        "REM-OK": f"![photo]({base}/photo.png)",
        "REM-MOVED": f"![photo]({base}/moved.png)",
        "REM-NOT-LISTED": f"![photo]({other}/photo.png)",
        "REM-REDIRECT": f"![photo]({base}/redirect.png)",
        "REM-BIG": f"![photo]({base}/big.png)",
        "REM-BIG-DECLARED": f"![photo]({base}/big-declared.png)",
        "REM-BOMB": f"![photo]({base}/bomb.png)",
        "REM-PAGE": f"![photo]({base}/page.png)",
        "REM-MISSING": f"![photo]({base}/missing.png)",
        "REM-DRIP": f"![photo]({base}/drip.png)",
        "REM-USER": f"![photo](http://127.0.0.1@localhost:{server.port}/photo.png)",
        "REM-FTP": "![photo](ftp://127.0.0.1/photo.png)",
    }
    root = project(tmp_path, cases)
    started = time.monotonic()
    result = run_cli("build", "--project", root, "-j", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1

    def refused(slug: str, url: str, why: str) -> str:
        return f"{R}/{slug.lower()}.md:{BODY_LINE}: error: image '{url}' refused: {why}"

    def unavailable(slug: str, url: str, why: str) -> str:
        return (
            f"{R}/{slug.lower()}.md:{BODY_LINE}: warning: image '{url}' is not available: {why}; "
            "a placeholder is printed in its place"
        )

    not_listed = "its host 'localhost' is not listed in the setting remote_image_hosts"
    too_large = "it is larger than 10,000 bytes (setting remote_image_max_bytes)"
    warned = [
        unavailable("REM-NOT-LISTED", f"{other}/photo.png", not_listed),
        unavailable(
            "REM-REDIRECT",
            f"{base}/redirect.png",
            f"it redirects to '{other}/photo.png', and {not_listed}",
        ),
        unavailable("REM-MISSING", f"{base}/missing.png", "the server answered 404 Not Found"),
        unavailable(
            "REM-DRIP",
            f"{base}/drip.png",
            "it could not be fetched within 1 s (setting remote_image_timeout)",
        ),
    ]
    expected = [
        refused("REM-BIG", f"{base}/big.png", too_large),
        refused("REM-BIG-DECLARED", f"{base}/big-declared.png", too_large),
        refused(
            "REM-BOMB",
            f"{base}/bomb.png",
            "it is 20,000 × 20,000 pixels (400,000,000), above the limit of 40,000,000 pixels "
            "(setting max_image_pixels)",
        ),
        refused(
            "REM-PAGE", f"{base}/page.png", "its content is not a PNG, JPEG, GIF or WebP image"
        ),
        refused(
            "REM-USER",
            f"http://127.0.0.1@localhost:{server.port}/photo.png",
            "URLs with a user name are not fetched",
        ),
        refused(
            "REM-FTP",
            "ftp://127.0.0.1/photo.png",
            "images must be files of the project (no network, data: or file: URLs)",
        ),
    ]
    lines = result.output.splitlines()
    for line in expected + warned:
        assert line in lines, result.output
    assert sum(": error: " in line for line in lines) == len(expected), result.output
    assert sum(": warning: " in line for line in lines) == len(warned), result.output
    sheets = root / "build" / "sheets"
    assert sorted(p.stem for p in sheets.glob("*.pdf")) == [
        "REM-DRIP", "REM-MISSING", "REM-MOVED", "REM-NOT-LISTED", "REM-OK", "REM-REDIRECT"
    ]  # fmt: skip
    for slug in ("REM-DRIP", "REM-MISSING", "REM-NOT-LISTED", "REM-REDIRECT"):
        assert image_sizes(sheets / f"{slug}.pdf") == []
        text = " ".join(PdfReader(sheets / f"{slug}.pdf").pages[0].extract_text().split())
        assert "Image indisponible : photo" in text
    assert image_sizes(sheets / "REM-OK.pdf") == [(40, 30)]
    assert image_sizes(sheets / "REM-MOVED.pdf") == [(40, 30)]
    # hosts that are not listed are never asked; the redirect to one is not followed
    assert sorted(server.requests) == sorted(
        ["/photo.png", "/moved.png", "/photo.png", "/redirect.png", "/big.png",
         "/big-declared.png", "/bomb.png", "/page.png", "/missing.png", "/drip.png"]
    )  # fmt: skip
    assert elapsed < 60


def test_a_remote_image_is_fetched_again_at_each_build(server: ImageServer, tmp_path: Path) -> None:
    """Sheets with a remote image are not cached: when the image changes on its server, the
    next build prints the new one (a cached render would keep the old one forever)."""
    root = project(
        tmp_path,
        {"REM-OK": f"![photo](http://127.0.0.1:{server.port}/photo.png)", "REM-LOCAL": "Texte."},
    )
    pdf = root / "build" / "sheets" / "REM-OK.pdf"
    first = run_cli("build", "--project", root, "-j", "1")
    assert first.exit_code == 0, first.output
    assert "2 rendered, 0 unchanged" in first.output
    assert image_sizes(pdf) == [(40, 30)]
    server.photo = photo(50, 20)
    second = run_cli("build", "--project", root, "-j", "1")
    assert second.exit_code == 0, second.output
    assert "1 rendered, 1 unchanged" in second.output  # the local sheet comes from the cache
    assert image_sizes(pdf) == [(50, 20)]
    assert server.requests == ["/photo.png", "/photo.png"]


def test_no_listed_host_means_no_network(server: ImageServer, tmp_path: Path) -> None:
    """The default: an http(s) image is not fetched (a warning and a placeholder since issue
    17), and nothing is asked."""
    root = project(tmp_path, {"REM-OK": f"![photo](http://127.0.0.1:{server.port}/photo.png)"})
    (root / "recueil.yaml").unlink()
    result = run_cli("build", "--project", root, "-j", "1")
    assert result.exit_code == 0, result.output
    assert (
        f"{R}/rem-ok.md:{BODY_LINE}: warning: image 'http://127.0.0.1:{server.port}/photo.png' "
        "is not fetched: the build does not use the network (the setting remote_image_hosts "
        "lists no host); a placeholder is printed in its place"
    ) in result.output
    assert server.requests == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://images.example.org/a.png", None),
        ("https://IMAGES.example.org:8443/a.png", None),
        ("http://images.example.org/a.png",
         "plain http is not allowed for 'images.example.org' (list it as "
         "'http://images.example.org' in the setting remote_image_hosts)"),
        ("http://intranet.example/a.png", None),
        ("https://intranet.example/a.png", None),
        ("https://cdn.example:8443/a.png", None),
        ("https://cdn.example/a.png",
         "its host 'cdn.example' is not listed in the setting remote_image_hosts"),
        ("https://images.example.org.evil.test/a.png",
         "its host 'images.example.org.evil.test' is not listed in the setting "
         "remote_image_hosts"),
        ("https://images.example.org@evil.test/a.png", "URLs with a user name are not fetched"),
        ("https://evil.test\\@images.example.org/a.png",
         "its URL contains spaces, control characters or backslashes"),
        ("https://images.example.org/a b.png",
         "its URL contains spaces, control characters or backslashes"),
        ("https://images.example.org:99999/a.png", "its URL cannot be read"),
        ("ftp://images.example.org/a.png",
         "'ftp:' URLs are never fetched (only https, and http for hosts listed so)"),
    ],
)  # fmt: skip
def test_which_urls_may_be_fetched(url: str, problem: str | None) -> None:
    remote = RemoteImages(("images.example.org", "http://intranet.example", "cdn.example:8443"))
    assert remote.host_problem(url) == problem


def test_a_malformed_host_entry_is_a_settings_error(tmp_path: Path) -> None:
    root = project(tmp_path, {})
    (root / "recueil.yaml").write_text(
        "remote_image_hosts:\n  - images.example.org\n  - https://images.example.org/photos\n",
        encoding="utf-8",
    )
    result = run_cli("check", "--project", root)
    assert result.exit_code == 1
    assert (
        "recueil.yaml:3:5: error: field 'remote_image_hosts': 'https://images.example.org/photos'"
        " is not a host name ('images.example.org', 'http://intranet.example', optionally with "
        "':port')"
    ) in result.output
