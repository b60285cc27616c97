"""A harvester written by others collects the catalogue, and a browser reads a sheet's page.

`recueil serve` runs as a user starts it, on a free port of the loopback, over the whole
sample. Sickle (a widely used OAI-PMH client) harvests every record in both formats, following
the resumption tokens itself; Chromium opens a sheet's page, served under the catalogue's
Content-Security-Policy, and reports no violation while the page's JSON-LD reads back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from playwright import sync_api as playwright_api
from sickle import Sickle

from conftest import REPO, copy_project  # type: ignore[import-not-found]
from servertools import CHROMIUM, CHROMIUM_FLAGS, running_server  # type: ignore[import-not-found]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("harvest") / "p"
    sources = [
        p.relative_to(REPO / "content").as_posix() for p in sorted((REPO / "content").rglob("*.md"))
    ]
    copy_project(root, sources)
    shutil.copytree(REPO / "collections", root / "collections")
    with running_server(root, "--jobs", "1", "--public") as base:
        yield base


def test_sickle_harvests_every_record_of_the_sample(server: str) -> None:
    sickle = Sickle(server + "/oai", max_retries=1, timeout=60)
    identify = sickle.Identify()
    assert identify.baseURL == server + "/oai" and identify.protocolVersion == "2.0"
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    assert len(records) == 40 + 3
    identifiers = {r.header.identifier for r in records}
    assert "oai:127.0.0.1:ARA-2022-004" in identifiers
    assert "oai:127.0.0.1:recueil:rencontre-nationale-2022" in identifiers
    ara = next(r for r in records if r.header.identifier.endswith(":ARA-2022-004"))
    assert ara.metadata["title"] == [
        "Des médiatrices familles-école présentes chaque jour dans les groupes scolaires"
    ]
    assert ara.metadata["creator"] == ["Berthier, Sophie", "Labo Cités"]
    assert "theme:parentalite" in ara.header.setSpecs
    marc = list(sickle.ListRecords(metadataPrefix="unimarcxml"))
    assert {r.header.identifier for r in marc} == identifiers
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="kind:resource"))
    assert len(headers) == 12
    sets = {s.setSpec for s in sickle.ListSets()}
    assert {"theme:numerique", "kind:synthesis", "collection:pack-seminaire-cpo"} <= sets
    formats = [f.metadataPrefix for f in sickle.ListMetadataFormats()]
    assert formats == ["oai_dc", "unimarcxml"]


def test_the_json_ld_of_a_sheet_page_breaks_no_content_security_policy(server: str) -> None:
    if CHROMIUM is None:  # `make test` installs it (scripts/system-libraries.sh): fail loudly
        pytest.fail("chromium is not installed: run `make install`", pytrace=False)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.add_init_script(
                "window.__violations = [];"
                "document.addEventListener('securitypolicyviolation',"
                " e => window.__violations.push(e.violatedDirective));"
            )
            messages: list[str] = []
            page.on("console", lambda message: messages.append(message.text))
            response = page.goto(server + "/fiches/ARA-2022-004")
            assert response is not None and response.status == 200
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy
            page.wait_for_load_state("load")
            assert page.evaluate("window.__violations") == []
            assert not [m for m in messages if "Content Security Policy" in m]
            text = page.evaluate(
                "document.querySelector('script[type=\"application/ld+json\"]').textContent"
            )
            data = json.loads(text)
            assert data["@type"] == "Report" and data["identifier"] == "ARA-2022-004"
            assert data["encoding"]["contentUrl"] == server + "/fiches/ARA-2022-004.pdf"
            # the listener does hear the policy: an inline script that would run is refused
            page.evaluate(
                "const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                "document.body.append(s)"
            )
            page.wait_for_function("window.__violations.length > 0")
            assert page.evaluate("window.ran") is None
        finally:
            browser.close()
