"""Images from the network, only from hosts the project lists, within a size and a time limit.

By default a build never touches the network (SECURITY.md). A project that keeps its photos on
an image server lists that server in ``remote_image_hosts``; a body may then use
``![Atelier](https://images.example.org/atelier.jpg)``. The markup stage fetches each such image
once per build (and per worker process) through `RemoteImages.get`, before rendering, so that a
refusal is reported at its line like any refused image (a warning and a placeholder when the image
is only unavailable, see `_Unavailable`; an error otherwise); WeasyPrint then receives the
bytes through the render stage's fetcher under a virtual URL (`REMOTE_ROOT`) and never opens a
connection itself.

A fetch is refused when: the scheme is not https (or http for a host listed as
``http://host``); the host (or a host a redirect points to) is not listed; the URL carries a user
name; the server does not answer 200 within ``remote_image_timeout`` seconds in all (redirects
and the download included; name resolution is the system's and is not bounded); the body exceeds
``remote_image_max_bytes`` (the download stops there); the bytes are not a PNG, JPEG, GIF or
WebP image within the image limits, read from their header (`limits.raster_problem`). Remote
SVG is refused: its own references could only be judged against the server.

Connections are direct (proxy variables are ignored) and https certificates are verified.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from recueil import __version__
from recueil.core.limits import InputLimits, image_kind, raster_problem

#: Virtual origin of fetched images inside a rendered document (never resolved on a network).
REMOTE_ROOT = "https://remote.recueil.invalid/"
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_TIMEOUT = 10
MAX_REDIRECTS = 5
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WebP": "image/webp"}
_ENTRY = re.compile(r"^(?:(https?)://)?([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?/?$")
_REDIRECTS = (301, 302, 303, 307, 308)


def parse_host_entry(entry: str) -> tuple[str, str, int | None]:
    """'images.example.org' → ('https', host, None); 'http://h:8080' → ('http', 'h', 8080).

    Raises ValueError with the reason when the entry is not a host name (with an optional
    scheme and port): settings report it at its line.
    """
    match = _ENTRY.match(entry.strip().lower())
    if match is None:
        raise ValueError(
            f"'{entry}' is not a host name ('images.example.org', 'http://intranet.example', "
            "optionally with ':port')"
        )
    scheme, host, port = match.groups()
    return scheme or "https", host, int(port) if port else None


@dataclass(frozen=True)
class RemoteImage:
    """A fetched and accepted image."""

    url: str
    data: bytes
    mime: str
    sha256: str

    @property
    def virtual_url(self) -> str:
        """Where the rendered document refers to it (a name derived from the URL alone)."""
        return REMOTE_ROOT + hashlib.sha256(self.url.encode()).hexdigest()


class _Refused(Exception):
    """A fetch refused; the message is the phrase after "image 'URL' refused: "."""


class _Unavailable(_Refused):
    """A fetch that did not succeed for a reason of availability, not of safety: the host is
    not listed, the network or the server failed, the answer was not 200. The markup stage
    makes it a warning and prints a placeholder; the other refusals (a suspicious URL, a file
    over a limit, bytes that are not an image) stay errors."""


class RemoteImages:
    """The project's remote-image policy and the images fetched under it during one build."""

    def __init__(
        self,
        hosts: tuple[str, ...] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        limits: InputLimits | None = None,
    ) -> None:
        self.entries = tuple(parse_host_entry(entry) for entry in hosts)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.limits = limits or InputLimits()
        self._fetched: dict[str, RemoteImage | str] = {}
        self._unavailable: set[str] = set()
        self._by_virtual: dict[str, RemoteImage] = {}

    @property
    def enabled(self) -> bool:
        """False when no host is listed: then no image is ever fetched."""
        return bool(self.entries)

    def host_problem(self, url: str) -> str | None:
        """Why `url` may not be fetched at all (a phrase), or None when its host is listed."""
        found = self._host_check(url)
        return found[0] if found is not None else None

    def unavailable(self, url: str) -> bool:
        """True when `url` was refused for availability (see `_Unavailable`), not for safety."""
        return url in self._unavailable

    def _host_check(self, url: str) -> tuple[str, bool] | None:
        """Why `url` may not be fetched, and whether that is only a matter of availability."""
        if url != url.strip() or any(c <= " " or c == "\x7f" for c in url) or "\\" in url:
            return "its URL contains spaces, control characters or backslashes", False
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "its URL cannot be read", False
        scheme, host = parts.scheme.lower(), (parts.hostname or "")
        if scheme not in ("http", "https"):
            return (
                f"'{scheme}:' URLs are never fetched (only https, and http for hosts listed so)",
                False,
            )
        if "@" in parts.netloc:
            return "URLs with a user name are not fetched", False
        listed = [(s, p) for s, h, p in self.entries if h == host and p in (None, port)]
        if not listed:
            return f"its host '{host}' is not listed in the setting remote_image_hosts", True
        if scheme == "http" and all(s == "https" for s, _ in listed):
            return (
                f"plain http is not allowed for '{host}' (list it as 'http://{host}' in the "
                "setting remote_image_hosts)",
                True,
            )
        return None

    def get(self, url: str) -> RemoteImage | str:
        """The image at `url`, fetched once per build, or why it is refused (a phrase)."""
        if url not in self._fetched:
            try:
                found = self._host_check(url)
                if found is not None:
                    raise (_Unavailable if found[1] else _Refused)(found[0])
                data = self._download(url)
                problem = raster_problem(data, self.limits)
                if problem is not None:
                    raise _Refused(problem)
                kind = image_kind(data)
                assert kind is not None
                image = RemoteImage(url, data, _MIME[kind], hashlib.sha256(data).hexdigest())
                self._by_virtual[image.virtual_url] = image
                self._fetched[url] = image
            except _Refused as refused:
                self._fetched[url] = str(refused)
                if isinstance(refused, _Unavailable):
                    self._unavailable.add(url)
        return self._fetched[url]

    def served(self, virtual_url: str) -> RemoteImage | None:
        """The image a virtual URL of this build stands for (the render stage's fetcher)."""
        return self._by_virtual.get(virtual_url)

    def _download(self, url: str) -> bytes:
        deadline = time.monotonic() + self.timeout
        too_slow = (
            f"it could not be fetched within {self.timeout:g} s (setting remote_image_timeout)"
        )

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Unavailable(too_slow)
            return left

        current = url
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            connection: http.client.HTTPConnection
            if parts.scheme.lower() == "https":
                connection = http.client.HTTPSConnection(
                    parts.hostname or "",
                    parts.port,
                    timeout=remaining(),
                    context=ssl.create_default_context(),
                )
            else:
                connection = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=remaining()
                )
            try:
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                connection.request(
                    "GET",
                    target,
                    headers={
                        "User-Agent": f"recueil/{__version__}",
                        "Accept": "image/*",
                        "Accept-Encoding": "identity",
                    },
                )
                sock = connection.sock
                response = connection.getresponse()
                if response.status in _REDIRECTS:
                    location = response.getheader("Location")
                    if not location:
                        raise _Unavailable(
                            f"the server redirects ({response.status}) to no address"
                        )
                    following = urljoin(current, location.strip())
                    found = self._host_check(following)
                    if found is not None:
                        refusal = _Unavailable if found[1] else _Refused
                        raise refusal(f"it redirects to '{following}', and {found[0]}")
                    current = following
                    continue
                if response.status != 200:
                    raise _Unavailable(f"the server answered {response.status} {response.reason}")
                too_large = (
                    f"it is larger than {self.max_bytes:,} bytes (setting remote_image_max_bytes)"
                )
                declared = response.getheader("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise _Refused(too_large)
                data = bytearray()
                while True:
                    if sock is not None:
                        sock.settimeout(remaining())  # the whole download, not each read
                    chunk = response.read1(65536)
                    if not chunk:
                        break
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise _Refused(too_large)
                remaining()
                return bytes(data)
            except TimeoutError:
                raise _Unavailable(too_slow) from None
            except (OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "strerror", None) or exc.__class__.__name__
                raise _Unavailable(f"it could not be fetched ({reason})") from None
            finally:
                connection.close()
        raise _Unavailable(f"it redirects more than {MAX_REDIRECTS} times")
