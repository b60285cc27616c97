"""The web catalogue, called in-process over HTTP as a browser would (Starlette's test client).

A small copy of the sample project is built once (its renders cached, its collection written),
then served in local and in public mode. Renders requested through the web run in real worker
processes (spawned, warm), like in production.
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from starlette.testclient import TestClient

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from recueil.render.accessibility_check import problems as accessibility_problems
from recueil.serve.app import ServerOptions, create_app
from servertools import SOURCES  # type: ignore[import-not-found]

COLLECTION = """\
title: Recueil d'essai
date: 2024-05-02
select:
  kinds: [experience]
group_by: theme
order: title
colophon:
  publisher: Centre d'essai
  publisher_address: 1 rue de l'Essai, 59000 Lille
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("serve") / "p", SOURCES)
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    broken = root / "content" / "experiences" / "zz-broken.md"
    text = (REPO / "content" / SOURCES[4]).read_text(encoding="utf-8")
    text = re.sub(r"(?m)^slug: .*$", "slug: HDF-2099-999", text, count=1)
    text = re.sub(r"(?m)^date: .*$", "date: 2022-13-45", text, count=1)
    broken.write_text(text, encoding="utf-8")
    result = run_cli("build", "--project", root, "--quiet", "--allow-incomplete")
    assert result.exit_code == 1  # the broken sheet only
    assert (root / "build" / "collections" / "essai.pdf").is_file()
    return root


@pytest.fixture(scope="module")
def local(project: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServerOptions(project, public=False, jobs=1, queue=4))) as c:
        yield c


@pytest.fixture(scope="module")
def public(project: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServerOptions(project, public=True, jobs=1, queue=4))) as c:
        yield c


def raw_status(app: object, path: str, query: bytes) -> int:
    """Status of a GET sent straight to the application (clients refuse URLs this long)."""
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
        "query_string": query, "headers": [], "scheme": "http", "server": ("test", 80),
        "client": ("127.0.0.1", 1), "http_version": "1.1", "root_path": "",
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return statuses[0]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_home_lists_themes_collections_and_latest_sheets(local: TestClient) -> None:
    response = local.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="fr">' in html
    assert 'href="/recherche?theme=parentalite"' in html
    assert "/styles/pictos/parentalite.svg" in html
    assert 'href="/recueils/essai"' in html
    assert 'href="/fiches/HDF-2022-003"' in html
    page = text_of(html)
    assert "Parentalité et relations familles-école" in page
    assert "9 fiches à lire en ligne" in page  # the broken one is not counted


def test_every_answer_carries_the_security_headers(local: TestClient) -> None:
    for path in ("/", "/fiches/HDF-2022-003.pdf", "/fiches/nope", "/site/site.css"):
        headers = local.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_a_sheet_page_shows_the_sheet_as_html_with_links_and_downloads(local: TestClient) -> None:
    response = local.get("/fiches/HDF-2022-003")
    assert response.status_code == 200
    html = response.text
    assert "Le café des parents du collège" in text_of(html)
    assert "CARTE D’IDENTITÉ DE L’ACTION".lower() in text_of(html).lower()
    assert 'href="/fiches/HDF-2022-001"' in html  # "voir aussi" points to that page
    assert 'src="/fiches/HDF-2022-003/apercu.png"' in html
    said = re.search(r"Télécharger la fiche \(PDF, (\d+) pages?, (\d+) Ko\)", text_of(html))
    assert said, text_of(html)
    pdf = local.get("/fiches/HDF-2022-003.pdf").content  # the figures are those of the file
    assert int(said[1]) == len(PdfReader(io.BytesIO(pdf)).pages)
    assert int(said[2]) == round(len(pdf) / 1024)
    assert 'href="/selection/ajouter?fiche=HDF-2022-003"' in html
    assert "project.recueil.invalid" not in html
    image = local.get("/fiches/HDF-2022-003/apercu.png")
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_a_sheet_pdf_is_served_with_validators_ranges_and_head(local: TestClient) -> None:
    response = local.get("/fiches/HDF-2022-003.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.content
    assert PdfReader(io.BytesIO(body)).pages[0].extract_text().count("café des parents") >= 1
    etag = response.headers["etag"]
    assert local.get("/fiches/HDF-2022-003.pdf", headers={"If-None-Match": etag}).status_code == 304
    part = local.get("/fiches/HDF-2022-003.pdf", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == body[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(body)}"
    tail = local.get("/fiches/HDF-2022-003.pdf", headers={"Range": "bytes=-5"})
    assert tail.content == body[-5:]
    bad = local.get("/fiches/HDF-2022-003.pdf", headers={"Range": "bytes=999999999-"})
    assert bad.status_code == 416
    assert (
        local.get("/fiches/HDF-2022-003.pdf", headers={"Range": "bytes=0-1,5-6"}).status_code == 416
    )
    head = local.head("/fiches/HDF-2022-003.pdf")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(body))
    assert head.headers["etag"] == etag


def test_search_finds_stems_and_accents_and_facets_combine(local: TestClient) -> None:
    html = local.get("/recherche", params={"q": "educatives parent"}).text
    assert 'href="/fiches/HDF-2022-003"' in html
    assert "<mark>" in html
    themed = local.get("/recherche", params=[("q", "parents"), ("theme", "parentalite")]).text
    assert 'aria-current="true"' in themed
    assert 'href="/fiches/HDF-2022-013"' not in themed  # numérique
    assert local.get("/recherche", params={"couleur": "bleu"}).status_code == 400
    assert local.get("/recherche", params={"q": "x" * 600}).status_code == 400


def test_links_built_from_a_query_keep_its_words_as_typed(local: TestClient) -> None:
    """A facet, a page or a selection link carries the visitor's words percent-encoded, as
    typed: the French typography given to the page's text (a no-break space before '%', ':'
    or '!', which would turn '%C3%A9' into another word) never reaches an attribute."""
    import html as html_module
    from urllib.parse import parse_qs, urlsplit

    page = local.get("/recherche", params={"q": "école : parents !"}).text
    links = [html_module.unescape(h) for h in re.findall(r'href="(/recherche\?[^"]*)"', page)]
    assert links and all(parse_qs(urlsplit(h).query)["q"] == ["école : parents !"] for h in links)
    chosen = local.get(links[0]).text  # following a facet keeps the words searched
    assert "<h1>Résultats pour « école\u00a0: parents\u202f!\u202f»</h1>" in chosen
    assert 'aria-current="true"' in chosen
    params = [("fiche", "HDF-2022-001"), ("fiche", "HDF-2022-003"), ("titre", "Réunion : 12 %")]
    shown = local.get("/selection", params=params).text
    moves = [html_module.unescape(h) for h in re.findall(r'href="(/selection\?[^"]*)"', shown)]
    assert moves and all(
        parse_qs(urlsplit(h).query)["titre"] == ["Réunion : 12 %"] for h in moves
    ), moves


def test_selection_is_kept_in_the_url_and_the_browser_and_downloads_as_a_collection(
    local: TestClient, tmp_path: Path
) -> None:
    local.cookies.clear()
    for slug in ("OCC-2023-005", "HDF-2022-001", "HDF-2022-003"):
        added = local.get("/selection/ajouter", params={"fiche": slug}, follow_redirects=False)
        assert added.status_code == 303
    url = added.headers["location"]
    assert url == "/selection?fiche=OCC-2023-005&fiche=HDF-2022-001&fiche=HDF-2022-003"
    page = local.get(url).text
    assert "Monter" in page and "Retirer" in page
    params = [("fiche", "OCC-2023-005"), ("fiche", "HDF-2022-001"), ("fiche", "HDF-2022-003")]
    params.append(("titre", "Réunion du 12 mars"))
    first = local.get("/selection.pdf", params=params)
    assert first.status_code == 200, first.text
    reader = PdfReader(io.BytesIO(first.content))
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    starts = ("Apprendre le français", "Classe passerelle", "Le café des parents")
    titles = [t for t in outline if t.startswith(starts)]
    assert [next(s for s in starts if t.startswith(s)) for t in titles] == list(starts)
    assert "Réunion du 12\u00a0mars" in reader.pages[0].extract_text()  # typeset as printed
    # cover, contents, the three sheets, colophon: no index pages for a visitor's few sheets
    assert not any(t.startswith("Index") for t in outline), outline
    assert "Sommaire" in outline and "Colophon" in outline, outline
    (tmp_path / "selection.pdf").write_bytes(first.content)
    assert accessibility_problems(tmp_path / "selection.pdf") == []  # tagged, PDF/UA-1
    runs = local.app.state.site.service.runs  # type: ignore[attr-defined]
    again = local.get("/selection.pdf", params=params)
    assert again.content == first.content
    assert local.app.state.site.service.runs == runs  # type: ignore[attr-defined]


def test_hostile_requests_get_a_4xx_and_nothing_leaks(local: TestClient, project: Path) -> None:
    for path in (
        "/fiches/..%2F..%2Fetc%2Fpasswd.pdf",
        "/fiches/%00.pdf",
        "/fiches/" + "A" * 300,
        "/medias/../../../etc/passwd",
        "/medias/%2e%2e/recueil.yaml",
        "/styles/../recueil.yaml",
        "/editions/../../etc/passwd",
        "/recueils/..%2Fsheets.pdf",
    ):
        response = local.get(path)
        assert 400 <= response.status_code < 500, path
        assert "root:" not in response.text and str(project) not in response.text
    many = "&".join(f"fiche=S{i}" for i in range(10_000)).encode()
    assert raw_status(local.app, "/selection.pdf", many) == 414
    assert raw_status(local.app, "/selection.pdf", b"q=" + b"x" * 1_000_000) == 414
    too_many = [("fiche", "HDF-2022-003")] * 61
    assert local.get("/selection", params=too_many).status_code == 400
    assert local.get("/selection.pdf", params={"fiche": "NOPE-1"}).status_code == 404


def test_public_mode_hides_problems_and_broken_sheets(
    public: TestClient, local: TestClient
) -> None:
    assert public.get("/problemes").status_code == 404
    hidden = public.get("/fiches/HDF-2099-999")
    assert hidden.status_code == 404
    assert "zz-broken" not in hidden.text and "2022-13-45" not in hidden.text
    shown = local.get("/fiches/HDF-2099-999")
    assert shown.status_code == 404
    assert "content/experiences/zz-broken.md" in shown.text
    assert "2022-13-45" in local.get("/problemes").text


def test_catalogue_json_lists_every_visible_sheet_with_its_urls(local: TestClient) -> None:
    data = local.get("/catalogue.json").json()
    slugs = {s["slug"] for s in data["sheets"]}
    assert len(slugs) == 9 and "HDF-2099-999" not in slugs
    cafe = next(s for s in data["sheets"] if s["slug"] == "HDF-2022-003")
    assert cafe["pdf"].endswith("/fiches/HDF-2022-003.pdf")
    assert cafe["territory"]["cite_educative"] == "Cité éducative de Roubaix"
    assert "contact" not in cafe


def test_collections_are_listed_and_downloaded(local: TestClient) -> None:
    page = local.get("/recueils/essai").text
    assert 'href="/recueils/essai.pdf"' in page
    pdf = local.get("/recueils/essai.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert local.get("/recueils/inconnu").status_code == 404


def test_cached_pdfs_are_located_at_start_not_by_their_first_download(local: TestClient) -> None:
    """Finding a sheet's render (its key hashed, its cache entry checked) is done for every
    sheet when a snapshot is prepared: twenty visitors' first downloads queued behind it."""
    snapshot = local.app.state.site.snapshot()  # type: ignore[attr-defined]
    sheets = list(snapshot.sheets.values())
    assert sheets and all(snapshot.located(sheet) for sheet in sheets)
    answer = local.get(f"/fiches/{sheets[0].slug}.pdf")
    known = snapshot.pdf_file(sheets[0])
    assert answer.content == known.path.read_bytes() and answer.headers["etag"] == known.etag


def test_a_new_snapshots_stamp_is_told_before_the_server_loads_it(tmp_path: Path) -> None:
    """The render workers load an edited project while the server does (the stamp is known
    once the files are looked at), not after it: the author's preview waited for both."""
    from recueil.serve.catalogue import Catalogue

    root = copy_project(tmp_path / "p", SOURCES[:2])
    catalogue = Catalogue(root)
    told: list[tuple[str, object]] = []
    source = root / "content" / SOURCES[0]
    source.write_text(source.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", "utf-8")
    before, after = catalogue.refresh(lambda stamp: told.append((stamp, catalogue.snapshot)))
    assert after is not before and told == [(after.stamp, before)]  # told while still before
    catalogue.refresh(lambda stamp: told.append((stamp, catalogue.snapshot)))
    assert len(told) == 1  # nothing changed: nothing told


def test_after_an_edit_only_the_changed_sheets_renders_are_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new snapshot takes the PDFs the previous one found for the sheets whose key did not
    change, when only sources changed (Snapshot.pdf_file); any other change looks again."""
    from recueil.render.cache import RenderCache
    from recueil.serve.catalogue import Catalogue

    root = copy_project(tmp_path / "p", SOURCES[:4])
    built = run_cli("build", "--project", root, "--quiet")
    assert built.exit_code == 0, built.output
    catalogue = Catalogue(root)
    catalogue.snapshot.locate_pdfs()
    looked: list[str] = []
    standalone = RenderCache.standalone

    def counted(self: RenderCache, key: str) -> object:
        looked.append(key)
        return standalone(self, key)

    monkeypatch.setattr(RenderCache, "standalone", counted)
    source = root / "content" / SOURCES[0]
    source.write_text(source.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", "utf-8")
    before, after = catalogue.refresh()
    after.locate_pdfs()
    edited = next(s for s in after.sheets.values() if s.path == source)
    assert looked == [after.key(edited)]  # the edited sheet's new key only
    assert not after.located(edited)  # not rendered yet
    for slug, sheet in after.sheets.items():
        if sheet is not edited:
            assert after.pdf_file(sheet) is before.pdf_file(before.sheets[slug])
    # a stylesheet changed: every render may differ, every entry is looked at again
    style = root / "styles" / "sheet.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n/* retouche */\n", "utf-8")
    looked.clear()
    _, restyled = catalogue.refresh()
    restyled.locate_pdfs()
    assert len(looked) == len(restyled.sheets)


def test_a_sheet_not_yet_rendered_is_rendered_on_request(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", SOURCES[:2])
    with TestClient(create_app(ServerOptions(root, jobs=1, queue=2))) as client:
        response = client.get("/fiches/HDF-2022-001.pdf")
        assert response.status_code == 200
        assert (
            "Classe passerelle" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        )
        assert client.app.state.site.service.runs == 1  # type: ignore[attr-defined]
        assert client.get("/fiches/HDF-2022-001.pdf").content == response.content
        assert client.app.state.site.service.runs == 1  # type: ignore[attr-defined]


def test_identical_concurrent_requests_share_one_render_and_a_full_queue_says_503(
    tmp_path: Path,
) -> None:
    root = copy_project(tmp_path / "p", SOURCES[:4])
    app = create_app(ServerOptions(root, jobs=1, queue=0))
    site = app.state.site

    async def scenario() -> tuple[list[int], list[int]]:
        await site.service.warm(str(site.catalogue.root), site.catalogue.snapshot.stamp)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            params = [("fiche", "HDF-2022-001"), ("fiche", "HDF-2022-003")]
            same = [client.get("/selection.pdf", params=params) for _ in range(20)]
            answers = await asyncio.gather(*same)
            other = [client.get(f"/fiches/{slug}.pdf") for slug in ("ARA-2022-004", "OCC-2023-005")]
            busy = await asyncio.gather(*other)
        return [a.status_code for a in answers], [b.status_code for b in busy]

    try:
        shared, busy = asyncio.run(scenario())
    finally:
        site.service.close()
    assert shared == [200] * 20
    assert site.service.runs == 2  # one assembly, then one of the two sheets, the other refused
    assert sorted(busy) == [200, 503]


def test_a_worker_killed_fails_only_its_request(tmp_path: Path) -> None:
    import os
    import signal
    import threading

    root = copy_project(tmp_path / "p", SOURCES[:2])
    source = root / "content" / SOURCES[1]  # long enough to be still laid out when killed
    paragraph = "Les parents viennent au collège chaque mardi pour un café partagé. " * 12
    source.write_text(source.read_text() + f"\n\n{paragraph}" * 150, encoding="utf-8")
    with TestClient(create_app(ServerOptions(root, jobs=1, queue=2))) as client:
        service = client.app.state.site.service  # type: ignore[attr-defined]
        (pid,) = service.pids()
        killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
        killer.start()
        failed = client.get("/fiches/HDF-2022-001.pdf")
        killer.join()
        assert failed.status_code == 500
        assert "Traceback" not in failed.text
        again = client.get("/fiches/HDF-2022-001.pdf")
        assert again.status_code == 200


def _once_shown(client: TestClient, url: str, word: str, seconds: float) -> str:
    """The page at ``url`` once it shows ``word`` (the catalogue looks at the files once a
    second, on a thread of its own), or as it is after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    page = client.get(url).text
    while word not in page and time.monotonic() < deadline:
        time.sleep(0.2)
        page = client.get(url).text
    return page


def test_the_server_answers_while_a_build_replaces_the_files(
    local: TestClient, project: Path
) -> None:
    source = project / "content" / SOURCES[1]
    before = local.get("/fiches/HDF-2022-001").text
    text = source.read_text(encoding="utf-8")
    try:
        source.write_text(text.replace("Classe passerelle", "Classe passerelle renouvelée", 1),
                          encoding="utf-8")  # fmt: skip
        after = _once_shown(local, "/fiches/HDF-2022-001", "renouvelée", 5)
    finally:
        source.write_text(text, encoding="utf-8")
    assert "renouvelée" not in before
    assert "Classe passerelle renouvelée" in text_of(after)


def test_no_diagnostic_file_or_traceback_reaches_the_public_on_a_server_error(
    public: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet = TestClient(public.app, raise_server_exceptions=False)
    from recueil.serve import pages

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("/secret/path exploded")

    monkeypatch.setattr(pages, "_pages", boom)
    response = quiet.get("/recueils/essai")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text


def test_editions_page_says_when_there_is_none(local: TestClient) -> None:
    response = local.get("/editions")
    assert response.status_code == 200
    assert "Aucune édition n’a encore été publiée." in text_of(response.text)
    assert local.get("/editions/2099").status_code == 404
    assert local.get("/editions/2099/sheets/x.pdf").status_code == 404


def test_a_published_edition_shows_its_contents_checksums_and_files(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", SOURCES[1:2] + SOURCES[3:4])
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    created = run_cli("edition", "create", "2024", "--project", root, "--date", "2024-05-02")
    assert created.exit_code == 0, created.output
    with TestClient(create_app(ServerOptions(root, jobs=1, queue=2))) as client:
        listing = client.get("/editions").text
        assert 'href="/editions/2024"' in listing
        page = client.get("/editions/2024").text
        manifest = client.get("/editions/2024/manifest.json").json()
        assert manifest["version"] == "2024"
        collection = manifest["collections"][0]
        assert collection["sha256"] in page
        assert 'href="/editions/2024/collections/essai.pdf"' in page
        pdf = client.get("/editions/2024/collections/essai.pdf")
        assert pdf.status_code == 200
        import hashlib

        assert hashlib.sha256(pdf.content).hexdigest() == collection["sha256"]
        sums = client.get("/editions/2024/SHA256SUMS")
        assert sums.status_code == 200 and "collections/essai.pdf" in sums.text
        assert client.get("/editions/2024/.lock").status_code == 404


def test_idle_workers_beyond_the_first_stop_and_start_again_on_demand(tmp_path: Path) -> None:
    """At rest the server keeps one warm worker; the others return their memory."""
    root = copy_project(tmp_path / "p", SOURCES[:3])
    options = ServerOptions(root, jobs=2, queue=2, idle_seconds=3600)
    with TestClient(create_app(options)) as client:
        service = client.app.state.site.service  # type: ignore[attr-defined]
        assert len(service.pids()) == 2  # both warmed at start
        first = service.pids()[0]
        assert service.retire_idle(0) == 1
        assert service.pids() == [first]  # the first one stays, warm
        assert service.retire_idle(0) == 0
        # one render goes to the warm worker: the retired one is not started for it
        assert client.get("/fiches/HDF-2022-001.pdf?une").status_code == 200
        assert service.pids() == [first]


def test_a_server_without_requests_rests_and_answers_the_same_after(tmp_path: Path) -> None:
    """After ``idle_seconds`` without a request the server forgets the files, articles and
    snippets it kept and stops its search process (its memory at rest is that of a server
    just started, less that process); the next answers are the same, made again from the
    files."""
    import time

    from recueil.serve.search_snippets import SHOWN, SNIPPETS, STEMS

    root = copy_project(tmp_path / "p", SOURCES[:3])
    with TestClient(create_app(ServerOptions(root, jobs=1, idle_seconds=1))) as client:
        site = client.app.state.site  # type: ignore[attr-defined]
        page = client.get("/fiches/HDF-2022-001").text
        deadline = time.monotonic() + 30
        while not site.searches.running and time.monotonic() < deadline:
            time.sleep(0.05)
        found = client.get("/recherche?q=parents").text
        css = client.get("/site/site.css")
        assert site.files._known and site._articles[1]
        assert site.searches.answered == 1  # by the search process (its own memos)
        deadline = time.monotonic() + 15
        while not site.resting and time.monotonic() < deadline:
            time.sleep(0.2)
        assert site.resting, "the server did not rest after 1 s without requests"
        assert not site.files._known and not site._articles[1] and not SNIPPETS._known
        assert not STEMS._known and not SHOWN._known
        assert not site.searches.running  # stopped: its memory given back
        assert client.get("/fiches/HDF-2022-001").text == page
        assert client.get("/recherche?q=parents").text == found
        again = client.get("/site/site.css", headers={"if-none-match": css.headers["etag"]})
        assert again.status_code == 304
        assert not site.resting


def test_a_retired_worker_starts_again_when_every_running_one_is_busy() -> None:
    import asyncio
    import time

    from recueil.serve.renders import RenderService

    async def scenario() -> list[int]:
        service = RenderService(jobs=2, queue=2, timeout=60, memory_mb=0)
        try:
            await asyncio.gather(*(service.run(k, time.sleep, 0.3) for k in "ab"))
            counts = [len(service.pids())]
            service.retire_idle(0)
            counts.append(len(service.pids()))
            await service.run("c", time.sleep, 0.01)  # the running worker is enough
            counts.append(len(service.pids()))
            await asyncio.gather(*(service.run(k, time.sleep, 0.3) for k in "de"))
            counts.append(len(service.pids()))
            return counts
        finally:
            service.close()

    assert asyncio.run(scenario()) == [2, 1, 1, 2]


def test_requests_one_after_the_other_go_to_the_worker_idle_longest() -> None:
    """Each render leaves its worker some garbage to collect once it has answered: the next
    request goes to the other running worker, not to the one still collecting."""
    import asyncio
    import itertools
    import os
    import time

    from recueil.serve.renders import RenderService

    async def scenario() -> list[int]:
        service = RenderService(jobs=2, queue=2, timeout=60, memory_mb=0)
        try:
            await asyncio.gather(*(service.run(k, time.sleep, 0.3) for k in "ab"))  # both run
            return [await service.run(k, os.getpid) for k in "cdef"]
        finally:
            service.close()

    pids = asyncio.run(scenario())
    assert len(set(pids)) == 2 and all(a != b for a, b in itertools.pairwise(pids))


_LEAN_SERVER = """
import sys
from pathlib import Path
from typing import Any
from starlette.testclient import TestClient
from recueil.serve.app import ServerOptions, create_app
client = TestClient(create_app(ServerOptions(Path(sys.argv[1]), public=True)))
slug = client.get("/catalogue.json").json()["sheets"][0]["slug"]
for path in ("/", "/recherche?q=parents&theme=parentalite", f"/fiches/{slug}", "/recueils"):
    assert client.get(path).status_code == 200, path
print(" ".join(m for m in ("weasyprint", "pypdf", "fontTools", "pymarc") if m in sys.modules))
"""


def test_the_server_process_answers_pages_without_loading_the_pdf_libraries() -> None:
    """The server lays nothing out (its workers do): pages, searches and keys need neither
    WeasyPrint nor pypdf, which would weigh some 40 MB in its memory at rest."""
    found = subprocess.run(
        [sys.executable, "-c", _LEAN_SERVER, str(REPO)], capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == []


def test_a_worker_rehearses_a_layout_when_it_warms_and_keeps_nothing_of_it(tmp_path: Path) -> None:
    """Warming lays a sheet out once (styles parsed, fonts loaded) so that the first render
    asked is only its own layout; the rehearsal is neither cached, remembered nor counted, and
    a state where only sources changed keeps the compiled templates."""
    from recueil.serve import tasks

    root = copy_project(tmp_path / "p", SOURCES[:3])
    renders = root / "build" / ".cache" / "renders"
    assert tasks.warm(str(root), "ctx-1")
    _, _, renderer = tasks._state(str(root), "ctx-1")
    assert tasks._LOADED["rehearsed"] == (str(root), "ctx")
    assert renderer.layouts == 0 and not renderer.renders
    # the page-number stamps of sheets of one to four pages are ready, for the next states too
    assert sorted(renderer.overlays) == [1, 2, 3, 4]
    assert not renders.exists() or not any(renders.rglob("facts.json"))
    assert tasks.warm(str(root), "ctx-2")  # only sources changed (same context)
    _, _, again = tasks._state(str(root), "ctx-2")
    assert again is not renderer and again.env is renderer.env
    assert again.overlays is renderer.overlays
    assert again.image_cache is not renderer.image_cache  # images are looked at again
    assert tasks.warm(str(root), "other-3")  # styles or templates changed: all made again
    _, _, other = tasks._state(str(root), "other-3")
    assert other.env is not renderer.env
    assert tasks._LOADED["rehearsed"] == (str(root), "other")


def test_a_project_page_template_added_while_serving_is_shown(tmp_path: Path) -> None:
    """The web templates are compiled once per state of the project's files (not looked at
    on disk per page): a template the project adds to ``web/`` makes a new state."""
    import time

    root = copy_project(tmp_path / "p", SOURCES[:2])
    with TestClient(create_app(ServerOptions(root, jobs=1, watch=False))) as client:
        assert "Bienvenue au centre" not in client.get("/").text
        (root / "web").mkdir()
        (root / "web" / "home.html").write_text(
            '{% extends "base.html" %}{% block content %}<p>Bienvenue au centre</p>{% endblock %}',
            encoding="utf-8",
        )
        deadline = time.monotonic() + 15
        while "Bienvenue au centre" not in client.get("/").text:
            assert time.monotonic() < deadline, "the new template was never used"
            time.sleep(0.3)


def test_a_search_page_asked_again_is_kept_until_the_sheets_or_the_selection_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same search is answered from the page kept for it, without searching; a selection
    of another size, or a sheet edited (a new snapshot and index), makes the page again."""

    from recueil.serve.search import SearchIndex

    root = copy_project(tmp_path / "p", SOURCES[:3])
    with TestClient(create_app(ServerOptions(root, jobs=1))) as client:
        first = client.get("/recherche?q=passerelle").text
        assert 'href="/fiches/HDF-2022-001"' in first
        searches: list[str] = []
        real = SearchIndex.search

        def counted(self: SearchIndex, query: str = "", *args: Any, **kwargs: Any) -> Any:
            searches.append(query)
            return real(self, query, *args, **kwargs)

        monkeypatch.setattr(SearchIndex, "search", counted)
        assert client.get("/recherche?q=passerelle").text == first
        assert searches == []
        client.get("/selection/ajouter", params={"fiche": "HDF-2022-001"}, follow_redirects=False)
        chosen = client.get("/recherche?q=passerelle").text
        assert 'Ma sélection <span class="count">(1)</span>' in chosen
        assert searches == ["passerelle"]
        source = root / "content" / SOURCES[1]
        text = source.read_text(encoding="utf-8")
        source.write_text(text.replace("Classe passerelle", "Classe passerelle renouvelée", 1),
                          encoding="utf-8")  # fmt: skip
        after = _once_shown(client, "/recherche?q=passerelle", "renouvelée", 10)
        assert "Classe passerelle renouvelée" in text_of(after)


def test_the_search_index_is_read_at_start_not_by_the_first_search(project: Path) -> None:
    """The facet table (search_facets.py) is read when the server starts, so the first
    visitors' searches do not wait behind it."""
    from recueil.serve import search_facets
    from recueil.serve.search import SearchIndex

    path = project / "build" / ".cache" / "search.sqlite"
    search_facets.forget()
    assert path not in search_facets._TABLES
    with TestClient(create_app(ServerOptions(project, public=True, jobs=1, queue=4))):
        held = search_facets._TABLES.get(path)
        with SearchIndex(path) as index:
            assert held is not None and held.generation == index.generation()
            assert len(held.rows) == index.search("", per_page=100).total > 0


@pytest.mark.parametrize("busy", [True, False])
def test_a_worker_retired_while_requests_come_does_not_stop_them_for_a_collection(
    busy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retiring an idle render worker used to run a full collection in the server at once
    (some 50 ms at 1,000 sheets, every request waiting); now only once requests pause."""
    import time

    import recueil.serve.app as app_module

    settled: list[float] = []
    monkeypatch.setattr(app_module, "settle", lambda: settled.append(time.monotonic()))

    class Service:
        def retire_idle(self, idle: float) -> int:
            return 1  # a worker retires at every look

    class Site:
        service = Service()
        resting = False
        last_request = time.monotonic() - 2.0  # a pause in the requests, shorter than idle

        def rest(self) -> None:
            self.resting = True

    site = Site()

    async def scenario() -> None:
        stop = asyncio.Event()
        watcher = asyncio.create_task(app_module.rest_when_idle(site, 8.0, stop))  # type: ignore[arg-type]
        for _ in range(25):  # 2.5 s: two looks (one every 2 s)
            if busy:
                site.last_request = time.monotonic()
            await asyncio.sleep(0.1)
        stop.set()
        await watcher

    asyncio.run(scenario())
    assert not site.resting
    assert (settled == []) if busy else len(settled) >= 1


def test_style_attributes_are_taken_out_of_articles_as_the_pattern_would() -> None:
    """The page's Content-Security-Policy allows no style attribute: each one goes, with the
    whitespace before it, and nothing else (the same as one regular expression, faster)."""
    from recueil.serve.site import without_styles

    pattern = re.compile(r"""\sstyle=(?:"[^"]*"|'[^']*')""")
    cases = [
        '<div class="band" style="--theme: #3D5A80"><p>Texte</p></div>',
        "<span\nstyle='color: red'>a</span><span style=\"\">b</span>",
        '<p data-style="x">style="not an attribute" at the start</p>',
        'style="first" <b style="x" style=\'y\'>two</b> <i xstyle="z">',
        '<a title="a style=\'inside\'" href="/">lien</a>',
        '<p style="unterminated>rest</p>',
    ]
    cases += [path.read_text(encoding="utf-8") for path in
              sorted((REPO / "build").rglob("page.html"))[:20]]  # fmt: skip
    for html in cases:
        assert without_styles(html) == pattern.sub("", html)
    assert without_styles(cases[0]) == '<div class="band"><p>Texte</p></div>'
