"""The catalogue's OAI-PMH endpoint (``/oai``): every verb, every error of the protocol.

The whole sample (40 sheets, 3 collections) is served in-process; every response is validated
against the OAI-PMH 2.0 schema with the schemas of the metadata it carries (tests/schemas/).
The repository is also driven directly for the two errors the catalogue never has a reason to
give (a repository without sets, an item without formats).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from starlette.testclient import TestClient

from conftest import REPO, copy_project  # type: ignore[import-not-found]
from recueil.records.oai import Item, Repository
from recueil.serve.app import ServerOptions, create_app

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marc": "http://www.loc.gov/MARC21/slim",
}
PREFIX = "oai:testserver:"
GONE = "HDF-2019-000"  # in the last edition, not in the catalogue any more


def sample(root: Path) -> Path:
    """The whole sample project, with an edition that had one more sheet."""
    sources = [
        p.relative_to(REPO / "content").as_posix() for p in sorted((REPO / "content").rglob("*.md"))
    ]
    copy_project(root, sources)
    shutil.copytree(REPO / "collections", root / "collections")
    edition = root / "build" / "editions" / "2023"
    edition.mkdir(parents=True)
    manifest = {
        "version": "2023",
        "date": "2023-01-01",
        "title": "",
        "sheets": [{"slug": GONE}, {"slug": "HDF-2022-003"}],
    }
    (edition / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = sample(tmp_path_factory.mktemp("oai") / "p")
    yield TestClient(create_app(ServerOptions(root, public=True, jobs=1, queue=2)))


@pytest.fixture(scope="module")
def validator() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "all.xsd")))


def ask(client: TestClient, validator: etree.XMLSchema, **params: str) -> etree._Element:
    """A GET on /oai; the response, checked against the schemas."""
    response = client.get("/oai", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    document = etree.fromstring(response.content)
    assert validator.validate(document), validator.error_log
    return document


def error_of(document: etree._Element) -> str | None:
    found = document.find("o:error", NS)
    return None if found is None else found.get("code")


def test_identify(client: TestClient, validator: etree.XMLSchema) -> None:
    answer = ask(client, validator, verb="Identify")
    assert answer.findtext("o:Identify/o:baseURL", namespaces=NS) == "http://testserver/oai"
    assert answer.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DD"
    assert answer.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "transient"
    assert answer.findtext("o:Identify/o:protocolVersion", namespaces=NS) == "2.0"
    assert answer.find("o:request", NS).get("verb") == "Identify"


def test_list_metadata_formats(client: TestClient, validator: etree.XMLSchema) -> None:
    answer = ask(client, validator, verb="ListMetadataFormats")
    prefixes = answer.xpath("//o:metadataPrefix/text()", namespaces=NS)
    assert prefixes == ["oai_dc", "unimarcxml"]
    one = ask(client, validator, verb="ListMetadataFormats", identifier=PREFIX + "ARA-2022-004")
    assert one.xpath("//o:metadataPrefix/text()", namespaces=NS) == prefixes
    unknown = ask(client, validator, verb="ListMetadataFormats", identifier=PREFIX + "NOPE")
    assert error_of(unknown) == "idDoesNotExist"


def test_list_sets_are_themes_kinds_and_collections(
    client: TestClient, validator: etree.XMLSchema
) -> None:
    answer = ask(client, validator, verb="ListSets")
    specs = answer.xpath("//o:setSpec/text()", namespaces=NS)
    assert {"theme", "kind", "collection"} <= set(specs)
    assert {"theme:parentalite", "kind:experience", "collection:rencontre-nationale-2022"} <= set(
        specs
    )
    assert len([s for s in specs if s.startswith("theme:")]) == 11
    token = ask(client, validator, verb="ListSets", resumptionToken="abc")
    assert error_of(token) == "badResumptionToken"


def harvest(
    client: TestClient, validator: etree.XMLSchema, verb: str, **params: str
) -> list[etree._Element]:
    """Every record (or header) of a list, following resumption tokens."""
    found: list[etree._Element] = []
    answer = ask(client, validator, verb=verb, **params)
    pages = 0
    while True:
        pages += 1
        assert error_of(answer) is None, etree.tostring(answer)
        found += answer.findall(f"o:{verb}/o:{'record' if verb == 'ListRecords' else 'header'}", NS)
        token = answer.find(f"o:{verb}/o:resumptionToken", NS)
        if token is None or not token.text:
            if token is not None:
                assert int(token.get("completeListSize")) == len(found)
            break
        assert token.get("cursor") == str(len(found) - len(answer.findall(f"o:{verb}/*", NS)) + 1)
        answer = ask(client, validator, verb=verb, resumptionToken=token.text)
    assert pages >= 2  # the sample's 44 records do not fit in one page
    return found


def test_list_records_pages_through_every_record_in_both_formats(
    client: TestClient, validator: etree.XMLSchema
) -> None:
    records = harvest(client, validator, "ListRecords", metadataPrefix="oai_dc")
    identifiers = [r.findtext("o:header/o:identifier", namespaces=NS) for r in records]
    assert len(identifiers) == len(set(identifiers)) == 40 + 3 + 1
    gone = next(
        r for r in records if r.findtext("o:header/o:identifier", namespaces=NS) == PREFIX + GONE
    )
    assert gone.find("o:header", NS).get("status") == "deleted"
    assert gone.find("o:metadata", NS) is None
    ara = next(
        r
        for r in records
        if r.findtext("o:header/o:identifier", namespaces=NS) == PREFIX + "ARA-2022-004"
    )
    assert ara.findtext(".//dc:title", namespaces=NS).startswith("Des médiatrices")
    assert ara.findtext(".//dc:relation", namespaces=NS) == (
        "http://testserver/recueils/rencontre-nationale-2022"
    )
    marc = harvest(client, validator, "ListRecords", metadataPrefix="unimarcxml")
    assert len(marc) == len(records)
    titles = marc[0].xpath(
        ".//marc:datafield[@tag='200']/marc:subfield[@code='a']/text()", namespaces=NS
    )
    assert titles


def test_list_identifiers_by_set_and_dates(client: TestClient, validator: etree.XMLSchema) -> None:
    headers = harvest(client, validator, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(headers) == 44
    numerique = ask(
        client, validator, verb="ListIdentifiers", metadataPrefix="oai_dc", set="theme:numerique"
    )
    for header in numerique.findall(".//o:header", NS):
        assert "theme:numerique" in header.xpath("o:setSpec/text()", namespaces=NS)
    kind = ask(client, validator, verb="ListIdentifiers", metadataPrefix="oai_dc", set="kind")
    assert len(kind.findall(".//o:header", NS)) == 25  # a page of the 40 sheets (not collections)
    window = ask(
        client,
        validator,
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2023-01-01", "until": "2023-12-31"},
    )
    stamps = window.xpath("//o:datestamp/text()", namespaces=NS)
    assert stamps and all("2023-01-01" <= s <= "2023-12-31" for s in stamps)
    ara = ask(
        client,
        validator,
        verb="ListIdentifiers",
        metadataPrefix="oai_dc",
        **{"from": "2023-09-12", "until": "2023-09-12"},
    )
    assert PREFIX + "ARA-2022-004" in ara.xpath("//o:identifier/text()", namespaces=NS)


def test_get_record(client: TestClient, validator: etree.XMLSchema) -> None:
    answer = ask(
        client,
        validator,
        verb="GetRecord",
        identifier=PREFIX + "recueil:pack-seminaire-cpo",
        metadataPrefix="unimarcxml",
    )
    parts = answer.xpath(
        ".//marc:datafield[@tag='463']/marc:subfield[@code='0']/text()", namespaces=NS
    )
    # in printed order: grouped by kind, in the order the collection names them
    assert parts == ["HDF-2020-110", "CVL-2022-111", "RES-2022-004", "RES-2021-002", "SYN-2021-001"]
    posted = client.post(
        "/oai",
        content=f"verb=GetRecord&identifier={PREFIX}ARA-2022-004&metadataPrefix=oai_dc",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    document = etree.fromstring(posted.content)
    assert validator.validate(document)
    assert document.findtext(".//o:datestamp", namespaces=NS) == "2023-09-12"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": ["Identify", "Identify"]}, "badVerb"),
        ({"verb": "Identify", "set": "theme"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "GetRecord", "identifier": PREFIX + "ARA-2022-004"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "hier"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2023-02-30"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2023-01-01T00:00:00Z"},
         "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
         "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "not a token"}, "badResumptionToken"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": PREFIX + "ARA-2022-004", "metadataPrefix": "mods"},
         "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": "oai:ailleurs:ARA-2022-004",
          "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2099-01-01"},
         "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "theme:inconnu"},
         "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01",
          "until": "2023-01-01"}, "noRecordsMatch"),
    ],
)  # fmt: skip
def test_protocol_errors(
    client: TestClient, validator: etree.XMLSchema, params: dict[str, str | list[str]], code: str
) -> None:
    answer = ask(client, validator, **params)  # type: ignore[arg-type]
    assert error_of(answer) == code
    request = answer.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert dict(request.attrib) == {}  # the specification: no attribute is echoed
    assert request.text == "http://testserver/oai"


def test_a_token_must_be_for_the_same_verb_and_within_the_list(
    client: TestClient, validator: etree.XMLSchema
) -> None:
    first = ask(client, validator, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.find(".//o:resumptionToken", NS).text
    other = ask(client, validator, verb="ListRecords", resumptionToken=token)
    assert error_of(other) == "badResumptionToken"
    from recueil.records.oai_tokens import Token

    beyond = Token("ListIdentifiers", "oai_dc", "", "", "", 10_000).encode()
    assert error_of(ask(client, validator, verb="ListIdentifiers", resumptionToken=beyond)) == (
        "badResumptionToken"
    )
    forged = Token("ListIdentifiers", "oai_dc", "", "demain", "", 0).encode()
    assert error_of(ask(client, validator, verb="ListIdentifiers", resumptionToken=forged)) == (
        "badResumptionToken"
    )


def test_errors_the_catalogue_never_gives_where_they_apply(validator: etree.XMLSchema) -> None:
    now = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    bare = Repository(
        "Essai",
        "http://x.example/oai",
        "a@x.example",
        "x.example",
        [Item("A", dt.date(2024, 1, 1), formats=())],
        now=now,
    )

    def code(**params: str) -> str | None:
        document = etree.fromstring(bare.respond(list(params.items())))
        assert validator.validate(document), validator.error_log
        return error_of(document)

    assert code(verb="ListSets") == "noSetHierarchy"
    assert code(verb="ListRecords", metadataPrefix="oai_dc", set="theme") == "noSetHierarchy"
    assert code(verb="ListMetadataFormats", identifier="oai:x.example:A") == "noMetadataFormats"
    assert code(verb="GetRecord", identifier="oai:x.example:A", metadataPrefix="oai_dc") == (
        "cannotDisseminateFormat"
    )
    assert code(verb="ListIdentifiers", metadataPrefix="oai_dc") == "noRecordsMatch"


def test_every_sheet_page_carries_its_schema_org_description(client: TestClient) -> None:
    page = client.get("/fiches/ARA-2022-004").text
    start = page.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["@context"] == "https://schema.org" and data["@type"] == "Report"
    assert data["name"].startswith("Des médiatrices familles-école")
    assert data["abstract"].startswith("À Vaulx-en-Velin")
    assert data["author"][0] == {
        "@type": "Person",
        "name": "Sophie Berthier",
        "familyName": "Berthier",
        "givenName": "Sophie",
    }
    assert data["datePublished"] == "2022-06-27" and data["inLanguage"] == "fr"
    assert {"@type": "Thing", "name": "Parentalité et relations familles-école"} in data["about"]
    assert {"@type": "Place", "name": "Vaulx-en-Velin"} in data["spatialCoverage"]
    assert data["encoding"]["contentUrl"] == "http://testserver/fiches/ARA-2022-004.pdf"
    assert data["encoding"]["encodingFormat"] == "application/pdf"
    # size and pages are those of the PDF the catalogue sends (read from the render cache's
    # records, not by opening the file): checked against the download itself
    served = client.get("/fiches/ARA-2022-004.pdf").content  # rendered now if not built
    page = client.get("/fiches/ARA-2022-004").text
    start = page.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["encoding"]["contentSize"] == f"{len(served)} B"
    assert data["numberOfPages"] == len(PdfReader(io.BytesIO(served)).pages)
