"""Library records (``recueil records``): every format read back by other tools.

The UNIMARC records are read back with pymarc, the XML validated against the published
schemas (tests/schemas/, written from the specifications: no package ships them), the CSV read
with the csv module as a spreadsheet would, the JSON-LD with json. The PDFs the records point
to are stand-ins of known sizes and pages (the records read only those two facts), so these
tests need no rendering; one test publishes a real edition, whose records must be in its
manifest and checksums.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfWriter

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from recueil.records.mapping import split_name
from recueil.records.unimarc import read_iso2709
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SOURCES = [  # each one's "voir aussi" is among them
    "experiences/ara-2022-004-mediatrices-familles-ecole.md",
    "experiences/hdf-2022-003-cafe-des-parents.md",
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/occ-2023-005-francais-parents.md",
    "resources/res-2022-002-podcast-mediatrices.md",
    "syntheses/syn-2023-002-place-des-parents.md",
    "syntheses/syn-2021-001-seminaire-cpo.md",
    "resources/res-2022-004-article-metier-cpo.md",
]
#: two sheets that link to no other
ALONE = [
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/hdf-2022-013-fablab-mobile.md",
]
BASE = "https://fiches.example.org/"
COLLECTION = """\
title: "Parents et école : un recueil d'essai"
subtitle: Fiches choisies
edition: 1re édition
date: 2024-03-01
blurb: Un recueil pour les essais des notices.
select:
  kinds: [experience]
group_by: theme
colophon:
  publisher: Centre de ressources d'essai
  publisher_address: 2 place de l'Essai, 59000 Lille
  director: Claire Dumont
  editors: [Inès Berthier]
  isbn: 978-2-9585474-0-0
  licence: CC BY-NC-ND 4.0
"""


def blank_pdf(path: Path, pages: int) -> int:
    """A PDF of ``pages`` blank pages at ``path``; its size."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        writer.write(stream)
    return path.stat().st_size


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "all.xsd")))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("records") / "p", SOURCES)
    (root / "recueil.yaml").write_text(
        f"title: Fiches d'essai\npublisher: Réseau d'essai\n"
        f"publisher_address: 1 rue de l'Essai, 75000 Paris\npdf_base_url: {BASE}\n",
        encoding="utf-8",
    )
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    project, _ = load_project(root)
    for index, sheet in enumerate(load_corpus(project).sheets):
        blank_pdf(root / "build" / "sheets" / f"{sheet.slug}.pdf", 1 + index % 3)
    blank_pdf(root / "build" / "collections" / "essai.pdf", 12)
    return root


def export(root: Path, format_name: str, *extra: object) -> tuple[bytes, str]:
    target = root / "build" / "out" / f"notices.{format_name}"
    result = run_cli("records", "--project", root, "--format", format_name, "-o", target, *extra)
    assert result.exit_code == 0, result.output
    return target.read_bytes(), result.output


def sheets_of(root: Path) -> dict[str, object]:
    project, _ = load_project(root)
    return {sheet.slug: sheet for sheet in load_corpus(project).sheets}


def values(record: object, tag: str, code: str) -> list[str]:
    return [v for f in record.get_fields(tag) for v in f.get_subfields(code)]  # type: ignore[attr-defined]


def test_every_unimarc_record_reads_back_with_the_sheets_data(project: Path) -> None:
    data, output = export(project, "unimarc")
    assert "warning" not in output
    records = {r["001"].data: r for r in read_iso2709(data)}
    sheets = sheets_of(project)
    assert set(records) == {*sheets, "recueil:essai"}
    labels = {t.code: t.label for t in load_project(project)[0].themes}
    for slug, sheet in sheets.items():
        record, meta = records[slug], sheet.meta  # type: ignore[attr-defined]
        assert record.leader[20:24] == "450 " and record.leader[9] == " "
        assert values(record, "200", "a") == [sheet.title]  # type: ignore[attr-defined]
        authors = [f"{f['b']} {f['a']}" for f in record.get_fields("700", "701")]
        assert authors == [" ".join(split_name(a)) for a in meta["authors"]]
        assert all(f["4"] == "070" for f in record.get_fields("700", "701"))
        abstract = " ".join((meta.get("chapo") or meta.get("abstract")).split())
        assert values(record, "330", "a") == [abstract]
        themes = [meta["theme"], *meta.get("secondary_themes", [])]
        assert values(record, "606", "a") == [labels[t] for t in themes]
        assert values(record, "610", "a") == list(meta.get("keywords", []))
        pdf = project / "build" / "sheets" / f"{slug}.pdf"
        assert values(record, "856", "u")[0] == f"{BASE}fiches/{slug}.pdf"
        assert values(record, "856", "s")[0] == str(pdf.stat().st_size)
        assert values(record, "856", "q")[0] == "application/pdf"
        assert values(record, "710", "a") == [meta["resource_centre"]]
        assert values(record, "101", "a") == ["fre"]
        year = f"{meta['date']:%Y}"
        assert values(record, "210", "d") == [year]
        assert record["100"]["a"][26:28] == "50" and len(record["100"]["a"]) == 36
    # a sheet of the collection points to it (461), the collection to its sheets (463)
    assert values(records["ARA-2022-004"], "461", "0") == ["recueil:essai"]
    assert values(records["RES-2022-002"], "461", "0") == []
    collection = records["recueil:essai"]
    parts = values(collection, "463", "0")
    assert sorted(parts) == sorted(s for s in sheets if not s.startswith(("RES", "SYN")))
    assert values(collection, "010", "a") == ["978-2-9585474-0-0"]
    assert values(collection, "215", "a") == ["12 p."]
    assert values(collection, "210", "a") == ["Lille"]
    assert [f["4"] for f in collection.get_fields("702")] == ["651", "340"]
    # the seminar synthesis: its speakers and organisers, with their roles
    synthesis = records["SYN-2021-001"]
    assert {f["4"] for f in synthesis.get_fields("702")} == {"605"}
    assert {f["4"] for f in synthesis.get_fields("712")} == {"557"}
    # the podcast: sound recording, its duration, and its own address besides the PDF
    podcast = records["RES-2022-002"]
    assert podcast.leader[6] == "i"
    assert values(podcast, "215", "a") == ["38 min"]
    assert len(values(podcast, "856", "u")) == 2


def test_unimarc_xml_validates_and_reads_back(project: Path) -> None:
    from pymarc.marcxml import parse_xml_to_array

    data, _ = export(project, "unimarcxml")
    document = etree.fromstring(data)
    validator = schema()
    assert validator.validate(document), validator.error_log
    records = parse_xml_to_array(io.BytesIO(data), strict=True)
    iso = {r["001"].data: r for r in read_iso2709(export(project, "unimarc")[0])}
    assert len(records) == len(iso)
    for record in records:
        twin = iso[record["001"].data]
        assert [(f.tag, f.value()) for f in record.fields] == [
            (f.tag, f.value()) for f in twin.fields
        ]


def test_dublin_core_export_is_well_formed_and_each_record_is_valid_oai_dc(
    project: Path,
) -> None:
    data, _ = export(project, "dc")
    root = etree.fromstring(data)
    dc = "http://purl.org/dc/elements/1.1/"
    dcterms = "http://purl.org/dc/terms/"
    validator = schema()
    records = root.findall("record")
    assert len(records) == len(sheets_of(project)) + 1
    for record in records:
        wrapper = etree.Element("{http://www.openarchives.org/OAI/2.0/oai_dc/}dc")
        wrapper.extend(
            etree.fromstring(etree.tostring(e)) for e in record if e.tag.startswith(f"{{{dc}")
        )
        assert validator.validate(wrapper), validator.error_log
    ara = root.find("record[@identifier='ARA-2022-004']")
    assert ara.findtext(f"{{{dcterms}}}isPartOf") == f"{BASE}recueils/essai"
    assert ara.findtext(f"{{{dc}}}creator") == "Berthier, Sophie"
    assert ara.findtext(f"{{{dc}}}language") == "fre"
    essai = root.find("record[@identifier='recueil:essai']")
    assert len(essai.findall(f"{{{dcterms}}}hasPart")) == 4
    assert essai.findtext(f"{{{dc}}}rights") == "CC BY-NC-ND 4.0"


def test_csv_opens_with_accents_and_one_column_per_field(project: Path) -> None:
    data, _ = export(project, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == len(sheets_of(project)) + 1
    header = data.decode("utf-8-sig").splitlines()[0].split(";")
    assert header[:3] == ["identifier", "kind", "title"] and len(header) == len(set(header))
    ara = next(r for r in rows if r["identifier"] == "ARA-2022-004")
    assert ara["title"].startswith("Des médiatrices familles-école")
    assert ara["authors"] == "Sophie Berthier (auteur)"
    assert ara["pdf_url"] == f"{BASE}fiches/ARA-2022-004.pdf"
    assert ara["is_part_of"].startswith("recueil:essai Parents et école")
    assert "Vaulx-en-Velin" in ara["places"].split(" | ")
    assert all(len(row) == len(header) for row in rows)


def test_json_ld_export_describes_every_notice(project: Path) -> None:
    data, _ = export(project, "jsonld")
    graph = json.loads(data)["@graph"]
    ara = next(n for n in graph if n["identifier"] == "ARA-2022-004")
    assert ara["@type"] == "Report" and ara["inLanguage"] == "fr"
    assert ara["encoding"]["contentUrl"] == f"{BASE}fiches/ARA-2022-004.pdf"
    assert {"@type": "Place", "name": "Vaulx-en-Velin"} in ara["spatialCoverage"]
    book = next(n for n in graph if n["identifier"] == "recueil:essai")
    assert book["@type"] == "Book" and book["isbn"] == "978-2-9585474-0-0"


def test_one_collection_and_its_sheets_only(project: Path) -> None:
    data, _ = export(project, "unimarc", "--collection", "essai")
    identifiers = sorted(r["001"].data for r in read_iso2709(data))
    assert identifiers == [
        "ARA-2022-004", "HDF-2022-001", "HDF-2022-003", "OCC-2023-005", "recueil:essai"
    ]  # fmt: skip
    default = run_cli("records", "--project", project, "--collection", "essai", "--format", "csv")
    assert default.exit_code == 0 and (project / "build/records/notices-essai.csv").is_file()
    piped = run_cli("records", "--project", project, "--collection", "essai", "-o", "-")
    assert piped.exit_code == 0 and re.match(rb"\d{5}nam", piped.stdout_bytes)
    assert len(read_iso2709(piped.stdout_bytes)) == 5
    unknown = run_cli("records", "--project", project, "--collection", "absent")
    assert unknown.exit_code == 2 and "no collection 'absent'" in unknown.output
    missing = run_cli("records", "--project", project, "--edition", "1999")
    assert missing.exit_code == 2 and "no edition '1999'" in missing.output


def test_a_sheet_missing_a_field_still_gets_a_record_and_a_warning(project_copy: object) -> None:
    root = project_copy(ALONE[0])  # type: ignore[operator]
    source = root / "content" / ALONE[0]
    text = source.read_text(encoding="utf-8")
    # a kind of the project that does not require a chapô
    kind = (REPO / "kinds" / "experience.yaml").read_text(encoding="utf-8")
    (root / "kinds").chmod(0o755)
    (root / "kinds" / "experience.yaml").unlink(missing_ok=True)
    (root / "kinds" / "experience.yaml").write_text(
        kind.replace("chapo: {type: text, required: true", "chapo: {type: text"), encoding="utf-8"
    )
    text = re.sub(r"(?ms)^chapo: >-\n(  .*?\n)+", "", text, count=1)
    source.write_text(text, encoding="utf-8")
    target = root / "out.mrc"
    result = run_cli("records", "--project", root, "-o", target)
    assert result.exit_code == 0, result.output
    assert (
        "content/experiences/hdf-2022-001-classe-passerelle.md: warning: record: no "
        "field 'chapo' nor 'abstract': the notice is written without UNIMARC 330 (abstract)"
    ) in result.output
    (record,) = read_iso2709(target.read_bytes())
    assert record["001"].data == "HDF-2022-001" and record.get_fields("330") == []
    assert values(record, "200", "a") == [load_corpus(load_project(root)[0]).sheets[0].title]


def test_characters_iso_2709_refuses_are_left_out_with_a_warning(project_copy: object) -> None:
    guide = "resources/res-2021-001-guide-exclusions-temporaires.md"
    root = project_copy(guide)  # type: ignore[operator]
    source = root / "content" / guide
    text = source.read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^title: .*$",
        lambda _: 'title: "Accompagner\\x1e les élèves\\x1b[31m exclus\\x07 : guide"',
        text,
        count=1,
    )
    long_abstract = "Un résumé très long. " * 600  # about 12,600 bytes: above 9,999
    text = re.sub(r"(?ms)^abstract: >-\n(  .*?\n)+", f"abstract: {long_abstract}\n", text)
    source.write_text(text, encoding="utf-8")
    target = root / "out.mrc"
    result = run_cli("records", "--project", root, "-o", target)
    assert result.exit_code == 0, result.output
    assert (
        "field 'title' (UNIMARC 200): character(s) U+0007, U+001B, U+001E cannot be written"
        in result.output
    )
    assert "UNIMARC 330 is longer than ISO 2709 allows (9,999 bytes): it is cut" in result.output
    (record,) = read_iso2709(target.read_bytes())
    assert values(record, "200", "a") == ["Accompagner les élèves[31m exclus : guide"]
    abstract = values(record, "330", "a")[0]
    assert abstract.endswith("…") and len(abstract.encode()) < 9999
    xml = root / "out.xml"
    assert run_cli("records", "--project", root, "--format", "unimarcxml", "-o", xml).exit_code == 0
    etree.parse(str(xml))  # well-formed: no control character reached the XML


def test_an_export_that_fails_leaves_the_previous_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = project / "build" / "out" / "kept.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"previous")

    def broken_replace(source: object, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("recueil.core.atomic.os.replace", broken_replace)
    result = run_cli("records", "--project", project, "--format", "csv", "-o", target)
    assert result.exit_code != 0
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in target.parent.iterdir() if p.name.startswith(".")) == []


def test_an_edition_publishes_its_records_in_its_manifest_and_checksums(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", ALONE)
    (root / "recueil.yaml").write_text(f"pdf_base_url: {BASE}\n", encoding="utf-8")
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    created = run_cli(
        "edition", "create", "2024", "--date", "2024-04-01", "-j", "1", "--project", root
    )
    assert created.exit_code == 0, created.output
    folder = root / "build" / "editions" / "2024"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {entry["file"]: entry for entry in manifest["records"]}
    assert sorted(files) == [
        "records/notices.csv", "records/notices.dc.xml", "records/notices.jsonld",
        "records/notices.mrc", "records/notices.unimarc.xml",
    ]  # fmt: skip
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8")
    for rel, entry in files.items():
        assert f"{entry['sha256']}  {rel}" in sums and entry["notices"] == 3
    assert run_cli("edition", "verify", "2024", "--project", root).exit_code == 0
    records = {
        r["001"].data: r for r in read_iso2709((folder / "records/notices.mrc").read_bytes())
    }
    sheet = records["HDF-2022-013"]
    assert values(sheet, "205", "a") == ["Édition 2024"]
    assert values(sheet, "856", "u") == [f"{BASE}editions/2024/sheets/HDF-2022-013.pdf"]
    pages = next(s for s in manifest["sheets"] if s["slug"] == "HDF-2022-013")
    first, last = pages["in_collections"]["essai"]
    assert values(sheet, "461", "v") == [f"p. {first}-{last}"]
    collection = records["recueil:essai"]
    assert values(collection, "205", "a") == ["1re édition"]
    assert values(collection, "205", "b") == ["Édition 2024"]
    # the same records from the command line, from the published edition
    again = run_cli("records", "--project", root, "--edition", "2024", "-o", tmp_path / "e.mrc")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "e.mrc").read_bytes() == (folder / "records/notices.mrc").read_bytes()


def test_record_text_keeps_what_it_can_and_names_what_it_leaves_out() -> None:
    """Cleaner.text skips its pattern for printable text: that is right only because every
    character the records refuse is one Python does not call printable (checked over all of
    Unicode); text with a no-break space (not printable either) still goes through it."""
    import sys

    from recueil.records.charset import _REFUSED, Cleaner

    assert not [
        c for c in map(chr, range(sys.maxunicode + 1)) if _REFUSED.match(c) and c.isprintable()
    ]
    cleaner = Cleaner("content/x.md")
    assert cleaner.text("  Café\u00a0des\tparents\n ", "title", "200$a") == "Café\u00a0des parents"
    assert cleaner.text("Cafe\u0301", "title", "200$a") == "Café"  # composed (NFC)
    assert cleaner.diagnostics == []
    assert cleaner.text("Bilan\x1b 2023\ufffe", "title", "200$a") == "Bilan 2023"
    (message,) = [d.message for d in cleaner.diagnostics]
    assert "U+001B, U+FFFE" in message and "'title'" in message and "200$a" in message
