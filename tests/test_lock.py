"""The build lock: commands writing to one project's build folder run one after the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import copy_project, run_cli  # type: ignore[import-not-found]
from recueil.core.lock import LOCK_FILE, LockHolder, project_lock

SOURCES = (
    "experiences/hdf-2022-001-classe-passerelle.md",
    "experiences/occ-2023-005-francais-parents.md",
    "experiences/ges-2023-104-trente-minutes-sport.md",
    "resources/res-2021-001-guide-exclusions-temporaires.md",
)
SLUGS = {"HDF-2022-001", "OCC-2023-005", "GES-2023-104", "RES-2021-001"}

#: A process that takes the lock as another command would, says so, and keeps it until its
#: standard input is closed.
HOLDER = """
import sys
from pathlib import Path
from recueil.core.lock import project_lock
with project_lock(Path(sys.argv[1]), "recueil edition create"):
    print("locked", flush=True)
    sys.stdin.read()
"""


def recueil(*args: object, log: Path) -> subprocess.Popen[bytes]:
    """Start `recueil ARGS` as a real process, its stdout and stderr into `log`."""
    with open(log, "wb") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "recueil.cli", *map(str, args)],
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def hold(build_dir: Path) -> subprocess.Popen[str]:
    """Start a holder process and return once it holds the lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(build_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    return holder


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", SOURCES)


def test_a_second_build_waits_for_the_first(root: Path, tmp_path: Path) -> None:
    """Two real builds started together: the second says whom it waits for, then finds every
    sheet already rendered by the first (they did not render side by side), and every PDF is
    whole."""
    lock = root / "build" / LOCK_FILE
    first = recueil("build", "--project", root, "-j", "1", log=tmp_path / "first.log")
    # the first holds the lock once its pid is in the lock file
    assert wait_for(lambda: lock.is_file() and str(first.pid) in lock.read_text(), 60)
    second = recueil("build", "--project", root, "-j", "1", log=tmp_path / "second.log")
    assert first.wait(timeout=180) == 0, (tmp_path / "first.log").read_text()
    assert second.wait(timeout=180) == 0, (tmp_path / "second.log").read_text()
    first_log = (tmp_path / "first.log").read_text()
    second_log = (tmp_path / "second.log").read_text()
    assert "waiting" not in first_log
    assert second_log.startswith(
        f"waiting for another recueil build of this project (pid {first.pid}, `recueil build`) "
        "to finish…\n"
    ), second_log
    assert "4 sheet(s) ready (" in first_log and "4 rendered, 0 unchanged" in first_log
    assert "0 rendered, 4 unchanged" in second_log
    pdfs = sorted((root / "build" / "sheets").glob("*.pdf"))
    assert {p.stem for p in pdfs} == SLUGS
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) >= 1
    assert not list((root / "build").rglob("*.tmp"))
    assert lock.read_text() == ""  # released: no stale holder for the next waiter to show


def test_clean_waits_until_the_holder_releases(root: Path, tmp_path: Path) -> None:
    """`clean` under someone else's lock deletes nothing until the lock is released."""
    assert run_cli("build", "--project", root).exit_code == 0
    holder = hold(root / "build")
    log = tmp_path / "clean.log"
    clean = recueil("clean", "--project", root, log=log)
    try:
        assert wait_for(lambda: "waiting" in log.read_text(), 30), log.read_text()
        assert log.read_text() == (
            f"waiting for another recueil build of this project (pid {holder.pid}, "
            "`recueil edition create`) to finish…\n"
        )
        time.sleep(1)
        assert clean.poll() is None  # still waiting
        assert len(list((root / "build" / "sheets").glob("*.pdf"))) == 4
    finally:
        holder.communicate("")  # closes its stdin: it releases the lock and exits
    assert clean.wait(timeout=60) == 0
    assert not (root / "build" / "sheets").exists()
    assert "removed build/sheets" in log.read_text()


def test_a_lock_left_by_a_dead_process_does_not_block(root: Path) -> None:
    """The kernel releases a flock when its holder dies, even by SIGKILL: nothing to clean up
    by hand, and no message, although the lock file still names the dead process."""
    holder = hold(root / "build")
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=10)
    assert f'"pid": {holder.pid}' in (root / "build" / LOCK_FILE).read_text()
    started = time.monotonic()
    result = run_cli("sheet", "--project", root, "HDF-2022-001")
    assert result.exit_code == 0, result.output
    assert "waiting" not in result.output
    assert time.monotonic() - started < 60
    assert (root / "build" / "sheets" / "HDF-2022-001.pdf").is_file()


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    """A command holding the lock may call code that takes it again (it would block on itself
    otherwise); the lock is free only when the outermost block ends."""
    waited: list[LockHolder] = []
    build = tmp_path / "build"
    with project_lock(build, "recueil edition create", waited.append):
        with project_lock(build, "recueil build", waited.append):
            pass
        assert "recueil edition create" in (build / LOCK_FILE).read_text()
    assert waited == []
    assert (build / LOCK_FILE).read_text() == ""


def test_a_symbolic_link_as_lock_file_is_refused(root: Path, tmp_path: Path) -> None:
    """build/.lock planted as a link to another file: the file is not truncated, and the
    command stops with a usage error instead of a traceback."""
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    (root / "build").mkdir()
    (root / "build" / LOCK_FILE).symlink_to(victim)
    result = run_cli("build", "--project", root)
    assert result.exit_code == 2
    assert "Error: cannot lock the build folder build: [Errno 40] Too many levels of symbolic " in (
        result.output
    )
    assert victim.read_text() == "keep me"


def test_holder_description() -> None:
    assert LockHolder(1234, "recueil build").describe() == "pid 1234, `recueil build`"
    assert LockHolder(None, None).describe() == "unknown process"
