"""Editions: published once, verifiable, reproducible, PDF/A, with what changed since the last.

Every check reads the published files themselves: bytes, hashes, PDF text per page, XMP.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, copy_project, run_cli  # type: ignore[import-not-found]
from recueil import __version__
from recueil.edition.pdfa_check import pdfa_problems

FIRST = [
    "experiences/bre-2023-102-chorale-inter-ecoles.md",
    "experiences/ges-2023-104-trente-minutes-sport.md",
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/hdf-2022-013-fablab-mobile.md",
]
ADDED = "experiences/idf-2022-106-parcours-eloquence.md"
REMOVED = "experiences/bre-2023-102-chorale-inter-ecoles.md"
EDITED = "experiences/ges-2023-104-trente-minutes-sport.md"

COLLECTION = """title: Recueil d'essai
date: 2023-05-01
edition: 1re édition
select:
  kinds: [experience]
group_by: theme
colophon:
  publisher: Centre de ressources d'essai
  publisher_address: 1 rue de l'Exemple, 75000 Paris
"""

GIT = ["git", "-c", "user.name=Essai", "-c", "user.email=essai@example.org"]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        [*GIT, *args], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def make_project(root: Path) -> Path:
    """A small project (four sheets, one collection) in a git repository, committed."""
    copy_project(root, FIRST)
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    (root / ".gitignore").write_text("/build/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sources")
    return root


def recueil(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "recueil", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def create(root: Path, version: str, *extra: object) -> str:
    result = run_cli(
        "edition", "create", version, "--date", "2023-06-01", "-j", "1", "--project", root, *extra
    )
    assert result.exit_code == 0, result.output
    return result.output


def texts(pdf: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(pdf).pages]


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Edition 2023 of the small project; tests reading it must not change it."""
    root = make_project(tmp_path_factory.mktemp("edition") / "project")
    create(root, "2023", "--title", "Édition de référence")
    return root


def test_create_publishes_a_complete_sealed_edition(published: Path) -> None:
    folder = published / "build/editions/2023"
    names = sorted(all_files(folder))
    slugs = ["BRE-2023-102", "GES-2023-104", "HDF-2022-001", "HDF-2022-013"]
    assert names == sorted(
        ["CHANGES.md", "SHA256SUMS", "manifest.json", "collections/essai.pdf"]
        + [f"sheets/{slug}.pdf" for slug in slugs]
        + [f"records/notices.{ext}" for ext in ("csv", "dc.xml", "jsonld", "mrc", "unimarc.xml")]
    )
    # sha256sum itself accepts the sums file
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert check.returncode == 0, check.stdout
    assert sum(1 for line in (folder / "SHA256SUMS").read_text().splitlines()) == len(names) - 1
    for path in [folder, *folder.rglob("*")]:
        assert path.stat().st_mode & 0o222 == 0, f"{path} is writable"
    # nothing else is left in the archive (no staging folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == [".lock", "2023"]
    result = run_cli("edition", "verify", "2023", "--project", published)
    assert result.exit_code == 0 and "edition 2023: intact" in result.output
    listing = run_cli("edition", "list", "--project", published)
    assert re.search(r"2023\s+2023-06-01\s+4\s+\d+\s+Édition de référence", listing.output)


def test_manifest_records_sources_tools_and_page_ranges(published: Path) -> None:
    folder = published / "build/editions/2023"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    head = git(published, "rev-parse", "HEAD").strip()
    assert manifest["source"] == {"commit": head, "dirty": False, "path": ""}
    assert set(manifest["versions"]) == {"recueil", "weasyprint", "pango", "pypdf", "python"}
    assert manifest["pdf_standard"] == "PDF/A-2a" and manifest["previous"] is None
    pages = texts(folder / "collections/essai.pdf")
    (collection,) = manifest["collections"]
    assert collection["pages"] == len(pages) == len(collection["page_fingerprints"])
    for sheet in manifest["sheets"]:
        source = (published / sheet["source"]).read_bytes()
        assert sheet["source_sha256"] == hashlib.sha256(source).hexdigest()
        pdf = folder / sheet["file"]
        assert sheet["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
        first, last = sheet["in_collections"]["essai"]
        assert last - first + 1 == sheet["pages"] == len(PdfReader(pdf).pages)
        # the sheet's number is in its band and footer: on its pages, not on the one before
        holding = [i + 1 for i, text in enumerate(pages) if sheet["slug"] in text]
        assert set(range(first, last + 1)) <= set(holding), (sheet["slug"], first, holding)
        assert first - 1 not in holding


def test_documents_carry_the_edition(published: Path) -> None:
    folder = published / "build/editions/2023"
    sheet = texts(folder / "sheets/GES-2023-104.pdf")
    assert all("Édition 2023 · fiche GES-2023-104" in page for page in sheet)
    collection = texts(folder / "collections/essai.pdf")
    colophon = [page for page in collection if "Éditeur" in page]
    assert len(colophon) == 1
    assert "Édition 2023 (« Édition de référence »), publiée le 1er juin 2023." in colophon[
        0
    ].replace("\u202f", " ").replace("\xa0", " ")


def test_every_pdf_keeps_a_sound_pdfa_claim(published: Path) -> None:
    folder = published / "build/editions/2023"
    for pdf in sorted(folder.rglob("*.pdf")):
        data = pdf.read_bytes()
        assert pdfa_problems(data) == [], pdf.name
        assert data.startswith(b"%PDF-1.7")
        reader = PdfReader(pdf)
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
        assert re.search(rb"pdfaid:part(>|=\")2", xmp) and re.search(rb"conformance(>|=\")A", xmp)
        assert reader.trailer["/Root"]["/Lang"] == "fr"
        assert not reader.is_encrypted
    collection = PdfReader(folder / "collections/essai.pdf")
    assert collection.metadata is not None
    assert collection.metadata["/Title"] == "Recueil d'essai"
    assert collection.metadata["/CreationDate"] == "D:20230601000000+00'00'"


def test_structural_check_catches_a_broken_claim() -> None:
    """The check is not vacuous: an ordinary (non-PDF/A) render fails it."""
    from weasyprint import HTML

    plain = HTML(string="<html lang=fr><title>Essai</title><p>Texte</p></html>").write_pdf()
    problems = pdfa_problems(plain)
    assert "XMP metadata does not claim pdfaid:part 2" in problems
    assert "no PDF/A output intent with an ICC profile" in problems
    assert "not tagged: no structure tree with a parent tree" in problems
    assert "/MarkInfo /Marked is not true" in problems
    tagged = HTML(string="<html lang=fr><title>Essai</title><p>Texte</p></html>").write_pdf(
        pdf_variant="pdf/a-2b", pdf_tags=True
    )
    problems = pdfa_problems(tagged)
    assert problems == ["XMP metadata does not claim pdfaid:conformance A"], problems


def test_verify_names_altered_missing_and_extra_files(published: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    folder = root / "build/editions/2023"
    os.chmod(folder / "sheets", 0o755)
    altered = folder / "sheets/HDF-2022-001.pdf"
    os.chmod(altered, 0o644)
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered.write_bytes(bytes(data))
    result = run_cli("edition", "verify", "2023", "--project", root)
    assert result.exit_code == 1
    assert f"{altered}: altered" in result.output
    assert "1 problem(s)" in result.output
    (folder / "sheets/HDF-2022-013.pdf").unlink()
    (folder / "sheets/notes.txt").write_text("ajout")
    result = run_cli("edition", "verify", "2023", "--project", root)
    assert result.exit_code == 1
    assert f"{folder / 'sheets/HDF-2022-013.pdf'}: missing" in result.output
    assert f"{folder / 'sheets/notes.txt'}: extra" in result.output
    assert "3 problem(s)" in result.output


def test_an_existing_version_is_never_overwritten(published: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    before = all_files(root / "build/editions/2023")
    result = run_cli("edition", "create", "2023", "-j", "1", "--project", root)
    assert result.exit_code == 1
    assert "edition '2023' already exists" in result.output
    assert all_files(root / "build/editions/2023") == before
    # an empty folder counts too: renaming onto it would silently succeed
    (root / "build/editions/2024").mkdir()
    result = run_cli("edition", "create", "2024", "-j", "1", "--project", root)
    assert result.exit_code == 1 and "edition '2024' already exists" in result.output
    assert list((root / "build/editions/2024").iterdir()) == []
    assert sorted(p.name for p in (root / "build/editions").iterdir()) == [".lock", "2023", "2024"]


def test_clean_never_touches_editions(published: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    run_cli("build", "--project", root, "-j", "1")
    result = run_cli("clean", "--project", root)
    assert result.exit_code == 0
    assert run_cli("edition", "verify", "2023", "--project", root).exit_code == 0


def test_version_names_and_rebuild_without_check_are_usage_errors(published: Path) -> None:
    for bad in ("../x", ".hidden", "a/b", "2023 final"):
        result = run_cli("edition", "create", bad, "--project", published)
        assert result.exit_code == 2 and "cannot name an edition" in result.output
    result = run_cli("edition", "rebuild", "2023", "--project", published)
    assert result.exit_code == 2 and "never rebuilt in place" in result.output
    result = run_cli("edition", "verify", "1999", "--project", published)
    assert result.exit_code == 2 and "no edition '1999'" in result.output


def test_editions_are_strict(tmp_path: Path) -> None:
    """A warning is enough to refuse an edition; nothing is left in the archive."""
    root = make_project(tmp_path / "project")
    sheet = root / "content" / FIRST[2]
    sheet.write_text(
        sheet.read_text(encoding="utf-8") + "\n[lien](ftp://example.org/x)\n", encoding="utf-8"
    )
    result = run_cli("edition", "create", "2023", "-j", "1", "--project", root)
    assert result.exit_code == 1, result.output
    assert "hdf-2022-001-classe-passerelle.md:" in result.output and "warning" in result.output
    assert "edition 2023 not published" in result.output
    archive = root / "build/editions"
    assert [p.name for p in archive.iterdir()] == [".lock"]


def test_diff_reports_edits_additions_removals_and_the_pages_to_reprint(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    create(root, "2023")
    # 2024: one sheet's body is edited (its length barely changes)
    edited = root / "content" / EDITED
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("## ", "Une phrase ajoutée.\n\n## ", 1), encoding="utf-8")
    create(root, "2024")
    result = run_cli("edition", "diff", "2023", "2024", "--project", root)
    assert result.exit_code == 0
    out = result.output
    assert "added: 0 sheet(s)" in out and "removed: 0 sheet(s)" in out
    assert "changed: 1 sheet(s)\n  GES-2023-104  " in out
    manifest = json.loads((root / "build/editions/2024/manifest.json").read_text())
    first, last = next(s for s in manifest["sheets"] if s["slug"] == "GES-2023-104")[
        "in_collections"
    ]["essai"]
    pages = texts(root / "build/editions/2024/collections/essai.pdf")
    colophon = next(i + 1 for i, t in enumerate(pages) if "publiée le" in t)
    expected = sorted({*range(first, last + 1), colophon})
    reprint = re.search(r"collection essai: reprint (\d+) page\(s\): PDF pages ([\d, -]+)", out)
    assert reprint is not None, out
    listed: set[int] = set()
    for part in reprint.group(2).split(", "):
        a, _, b = part.partition("-")
        listed |= set(range(int(a), int(b or a) + 1))
    assert sorted(listed) == expected
    changes = (root / "build/editions/2024/CHANGES.md").read_text(encoding="utf-8")
    assert "## Fiches modifiées (1)\n\n- GES-2023-104 : " in changes
    assert "Changements depuis l'édition 2023." in changes
    # 2025: one sheet added, one removed
    shutil.copy(REPO / "content" / ADDED, root / "content" / ADDED)
    (root / "content" / REMOVED).unlink()
    create(root, "2025")
    out = run_cli("edition", "diff", "2024", "2025", "--project", root).output
    assert "added: 1 sheet(s)\n  IDF-2022-106  " in out
    assert "removed: 1 sheet(s)\n  BRE-2023-102  " in out
    assert "changed: 0 sheet(s)" in out
    manifest = json.loads((root / "build/editions/2025/manifest.json").read_text())
    new_first, new_last = next(s for s in manifest["sheets"] if s["slug"] == "IDF-2022-106")[
        "in_collections"
    ]["essai"]
    reprint = re.search(r"collection essai: reprint \d+ page\(s\): PDF pages ([\d, -]+)", out)
    assert reprint is not None
    listed = set()
    for part in reprint.group(1).split(", "):
        a, _, b = part.partition("-")
        listed |= set(range(int(a), int(b or a) + 1))
    assert set(range(new_first, new_last + 1)) <= listed
    assert 1 not in listed  # the cover did not change
    listing = run_cli("edition", "list", "--project", root).output.splitlines()
    assert [line.split()[0] for line in listing[1:]] == ["2023", "2024", "2025"]


def test_rebuild_check_is_byte_identical_and_catches_a_difference(published: Path) -> None:
    result = run_cli("edition", "rebuild", "2023", "--check", "-j", "1", "--project", published)
    assert result.exit_code == 0, result.output
    assert "sources: git revision" in result.output
    assert "edition 2023: rebuilt byte for byte identical" in result.output


def test_rebuild_check_reports_the_files_that_differ(published: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(published, root, symlinks=True)
    # the template changes after publication, and the edition was made from the working tree
    manifest = root / "build/editions/2023/manifest.json"
    os.chmod(manifest.parent, 0o755)
    os.chmod(manifest, 0o644)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["source"] = {"commit": None, "dirty": None, "path": None}
    data["versions"]["recueil"] = "0.0.1"  # published by an older recueil
    manifest.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    template = root / "templates/base.html"
    template.write_text(template.read_text().replace("Voir aussi", "Lire aussi"))
    result = run_cli("edition", "rebuild", "2023", "--check", "-j", "1", "--project", root)
    assert result.exit_code == 1
    assert "sources: the current files" in result.output
    assert f"(recueil 0.0.1 → {__version__}): bytes may differ" in result.output
    assert "differs: manifest.json" in result.output  # altered in the archive above
    assert "edition 2023: the rebuild is not identical" in result.output


def test_two_processes_in_two_places_build_identical_editions(
    published: Path, tmp_path: Path
) -> None:
    """Reproducible: no clock, no random identifier, nothing from the project's location."""
    other = tmp_path / "elsewhere" / "copy"
    shutil.copytree(published, other, symlinks=True, ignore=shutil.ignore_patterns("build"))
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(1685577600)}  # 2023-06-01 UTC
    done = recueil("edition", "create", "2023", "--project", other, "--title",
                   "Édition de référence", "-j", "2", "--no-cache", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert all_files(other / "build/editions/2023") == all_files(published / "build/editions/2023")


def test_concurrent_creations_of_one_version_cannot_both_succeed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    command = [sys.executable, "-m", "recueil", "edition", "create", "2023"]
    command += ["--project", str(root), "-j", "1", "--date", "2023-06-01"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    codes = sorted(p.returncode for p in processes)
    assert codes == [0, 1], outputs
    loser = outputs[[p.returncode for p in processes].index(1)]
    assert "edition '2023' already exists" in loser
    assert run_cli("edition", "verify", "2023", "--project", root).exit_code == 0


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_creation_leaves_no_edition(tmp_path: Path, how: signal.Signals) -> None:
    root = make_project(tmp_path / "project")
    archive = root / "build/editions"
    command = [sys.executable, "-m", "recueil", "edition", "create", "2023"]
    process = subprocess.Popen(
        [*command, "--project", str(root), "-j", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    # kill it once it has published at least one sheet into its staging folder
    while time.monotonic() < deadline and not list(archive.glob(".staging-*/sheets/*.pdf")):
        time.sleep(0.01)
    assert process.poll() is None, "the creation ended before it could be killed"
    os.killpg(process.pid, how)
    process.communicate(timeout=60)
    assert not (archive / "2023").exists()
    visible = [p.name for p in archive.iterdir() if not p.name.startswith(".")]
    assert visible == []
    if how == signal.SIGTERM:  # a catchable signal: the staging folder is removed at once
        assert not list(archive.glob(".staging-*"))
    assert "no edition" in run_cli("edition", "list", "--project", root).output
    create(root, "2023")  # the next creation clears what a SIGKILL left
    assert sorted(p.name for p in archive.iterdir()) == [".lock", "2023"]
    assert run_cli("edition", "verify", "2023", "--project", root).exit_code == 0


def test_an_archive_inside_the_build_outputs_is_refused(tmp_path: Path) -> None:
    """`clean` deletes build/sheets: an archive there would be lost, so both commands refuse."""
    root = make_project(tmp_path / "project")
    (root / "recueil.yaml").write_text("editions_dir: build/sheets/archives\n", encoding="utf-8")
    result = run_cli("edition", "create", "2023", "-j", "1", "--project", root)
    assert result.exit_code == 1
    assert "editions_dir lies inside" in result.output and "build/sheets" in result.output
    result = run_cli("clean", "--project", root)
    assert result.exit_code == 2 and "it holds the editions (editions_dir)" in result.output
