"""The limits one by one: image headers, SVG references, body caps, settings, the deadline.

Unit-level and fast; test_attacks.py checks the same defences through a whole build. Sizes read
from headers are compared with what Pillow (installed with WeasyPrint) says of real files.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import MARKER, pdf_leaks, plant_forbidden, png, resource, svg
from PIL import Image
from weasyprint import HTML

from conftest import copy_project  # type: ignore[import-not-found]
from recueil.core.limits import InputLimits, TooSlow, deadline, image_problem
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.markup.markdown import MarkupOptions, to_html
from recueil.sources.project import load_project
from recueil.sources.settings import load_settings
from recueil.sources.sheet import load_sheet

Limit = Callable[[float], contextlib.AbstractContextManager[None]]
PIXELS = "(setting max_image_pixels)"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/project/{sheets/, images/}, and tmp/secret/ with the forbidden files."""
    plant_forbidden(tmp_path / "secret")
    (tmp_path / "project" / "sheets").mkdir(parents=True)
    (tmp_path / "project" / "images").mkdir()
    return tmp_path / "project"


def problem(path: Path, root: Path, **limits: int) -> str | None:
    return image_problem(path, root, InputLimits(**limits))  # type: ignore[arg-type]


# ------------------------------------------------------------------------- the leak detector


def test_the_leak_detector_sees_a_real_leak(tmp_path: Path) -> None:
    """WeasyPrint's own fetcher embeds local files: the detector must find them (positive
    control: otherwise every 'no leak' in this suite would prove nothing)."""
    secret = plant_forbidden(tmp_path / "secret")
    html = (
        f'<link rel="attachment" href="file://{secret / "forbidden.txt"}">'
        f'<p><img src="file://{secret / "forbidden.svg"}"></p>'
    )
    pdf = HTML(string=html, base_url=str(tmp_path)).write_pdf()
    found = pdf_leaks(pdf)
    assert any("attachment" in f for f in found), found
    assert any(f"{MARKER} in stream" in f for f in found), found
    assert any(f"{MARKER} in the text" in f for f in found), found


# ---------------------------------------------------------------------------- raster images


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
@pytest.mark.parametrize("size", [(1, 1), (640, 480), (3, 2000)])
def test_header_sizes_match_pillow(fmt: str, size: tuple[int, int], project: Path) -> None:
    path = project / "images" / f"image.{fmt.lower()}"
    Image.new("RGB", size, "white").save(path, fmt)
    with Image.open(path) as image:
        assert image.size == size
    assert problem(path, project) is None
    width, height = size
    if width * height > 1:
        expected = (
            f"it is {width:,} × {height:,} pixels ({width * height:,}), above the limit of "
            f"{width * height - 1:,} pixels {PIXELS}"
        )
        assert problem(path, project, max_image_pixels=width * height - 1) == expected


def test_progressive_and_exif_jpeg(project: Path) -> None:
    path = project / "images" / "photo.jpg"
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # a large APP1 segment before the frame header
    Image.new("RGB", (300, 200)).save(path, "JPEG", progressive=True, exif=exif)
    assert problem(path, project, max_image_pixels=60_000) is None
    assert "300 × 200" in (problem(path, project, max_image_pixels=59_999) or "")


def test_png_bomb_is_refused_from_its_header(project: Path, limit: Limit) -> None:
    path = project / "images" / "bomb.png"
    path.write_bytes(png(20_000, 20_000))
    with limit(0.2):
        message = problem(path, project)
    assert message == (
        f"it is 20,000 × 20,000 pixels (400,000,000), above the limit of 40,000,000 pixels {PIXELS}"
    )


def test_gif_frame_larger_than_its_screen(project: Path) -> None:
    """Decoders grow a GIF's canvas to hold its frames: every frame descriptor is read."""
    frame = struct.pack("<BHHHHB", 0x2C, 0, 0, 30_000, 30_000, 0) + b"\x02\x02\x44\x01\x00"
    data = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0) + frame + b"\x3b"
    path = project / "images" / "frame.gif"
    path.write_bytes(data)
    assert "30,000 × 30,000" in (problem(path, project) or "")


def test_webp_canvas_bomb(project: Path) -> None:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (49_999).to_bytes(3, "little")
    data = b"RIFF" + struct.pack("<I", 30) + b"WEBP" + vp8x + (49_999).to_bytes(3, "little")
    path = project / "images" / "canvas.webp"
    path.write_bytes(data)
    assert "50,000 × 50,000" in (problem(path, project) or "")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("text.png", b"not an image at all", "its content is not a PNG, JPEG, GIF or WebP image"),
        ("cut.png", png(5, 5)[:20], "its PNG header is damaged (its size cannot be read)"),
        ("zero.png", png(0, 5), "its PNG header gives it no pixels (0 × 5)"),
        ("cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "its JPEG header is damaged"),
    ],
)
def test_damaged_or_disguised_images(name: str, data: bytes, expected: str, project: Path) -> None:
    path = project / "images" / name
    path.write_bytes(data)
    assert (problem(path, project) or "").startswith(expected)


def test_image_file_size_limit(project: Path, limit: Limit) -> None:
    path = project / "images" / "huge.png"
    with open(path, "wb") as stream:  # 50 MB, sparse, with a harmless header
        stream.write(png(10, 10))
        stream.truncate(50_000_000)
    with limit(0.2):
        message = problem(path, project)
    assert message == (
        "it is 50,000,000 bytes, above the limit of 20,000,000 (setting max_image_bytes)"
    )


# ------------------------------------------------------------------------------------ SVG


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('<image href="file:///etc/passwd"/>', "it refers to 'file:///etc/passwd'"),
        ('<image xlink:href="http://example.org/x.png"/>', "it refers to 'http://example.org/"),
        ('<image href="/etc/hosts"/>', "it refers to '/etc/hosts' (absolute paths"),
        ('<image href="data:image/png;base64,AAAA"/>', "it refers to 'data:image/png"),
        ('<image href="&#102;ile:///etc/passwd"/>', "it refers to 'file:///etc/passwd'"),
        ('<use href="../../secret/forbidden.svg#a"/>', "outside the project"),
        ('<rect style="fill: url(file:///etc/passwd)"/>', "it refers to 'file:///etc/passwd'"),
        ("<rect fill=\"url('http://example.org/p#g')\"/>", "it refers to 'http://example.org/"),
        ("<style>rect { fill: url(\\66 ile:///x) }</style>", "it refers to 'file:///x'"),
        ('<style>@import "x.css";</style>', "its stylesheet imports another file (@import)"),
        ('<image href="bomb.png"/>', "it uses 'bomb.png', and it is 20,000 × 20,000 pixels"),
    ],
)
def test_svg_references(extra: str, expected: str, project: Path) -> None:
    (project / "images" / "bomb.png").write_bytes(png(20_000, 20_000))
    path = project / "images" / "drawing.svg"
    path.write_text(svg("dessin", extra), encoding="utf-8")
    assert expected in (problem(path, project) or "")


@pytest.mark.parametrize(
    "extra",
    [
        '<use href="#shape"/>',
        '<rect id="g" fill="url(#gradient)"/>',
        '<image href="small.png"/>',
        '<image href="missing.png"/>',  # WeasyPrint's warning, not ours
    ],
)
def test_svg_references_that_are_fine(extra: str, project: Path) -> None:
    (project / "images" / "small.png").write_bytes(png(1, 1))
    path = project / "images" / "drawing.svg"
    path.write_text(svg("dessin", extra), encoding="utf-8")
    assert problem(path, project) is None


def test_svg_entities_stylesheets_depth_and_size(project: Path) -> None:
    path = project / "images" / "drawing.svg"
    path.write_text('<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', encoding="utf-8")
    assert problem(path, project) == "it declares a DOCTYPE or entities, which SVG images may not"
    path.write_text('<?xml-stylesheet href="x.css"?><svg/>', encoding="utf-8")
    assert "<?xml-stylesheet?>" in (problem(path, project) or "")
    path.write_text("<svg>" + "<g>" * 150 + "</g>" * 150 + "</svg>", encoding="utf-8")
    assert problem(path, project) == "it nests elements more than 100 levels deep"
    path.write_text("<svg><g></svg>", encoding="utf-8")
    assert (problem(path, project) or "").startswith("it is not a valid SVG file")
    path.write_text(svg("x", "<!--" + "x" * 3_000_000 + "-->"), encoding="utf-8")
    assert problem(path, project) == (
        f"it is {path.stat().st_size:,} bytes, above the limit of 2,000,000 (setting max_svg_bytes)"
    )


# -------------------------------------------------------------------------------- the body


def options(project: Path, **limits: float) -> MarkupOptions:
    return MarkupOptions(
        slug="ESSAI",
        source_dir=project / "sheets",
        project_dir=project,
        limits=InputLimits(**limits),  # type: ignore[arg-type]
    )


def diagnostics(project: Path, body: str, **limits: float) -> list[str]:
    return [d.format() for d in to_html(body, 10, "s.md", options(project, **limits)).diagnostics]


DEEP = (
    "s.md:{}: error: nested more than 30 levels deep (blockquotes, lists or HTML elements): "
    "the sheet is refused (setting max_nesting_depth)"
)


def test_nesting_limit_is_inclusive(project: Path) -> None:
    assert diagnostics(project, ">" * 30 + " profond") == []
    assert diagnostics(project, ">" * 31 + " profond") == [DEEP.format(10)]


def test_nested_lists(project: Path, limit: Limit) -> None:
    lists = "\n".join("    " * level + f"- niveau{level}" for level in range(40))
    with limit(1):
        assert diagnostics(project, "Intro\n\n" + lists) == [DEEP.format(12 + 30)]
    assert diagnostics(project, "\n".join("    " * n + f"- n{n}" for n in range(30))) == []


def test_nested_raw_html(project: Path, limit: Limit) -> None:
    body = "Intro\n\n<div>" + "<div>" * 40 + "tout au fond" + "</div>" * 41
    with limit(1):
        assert diagnostics(project, body) == [DEEP.format(12)]


def test_self_closing_spans_nest_in_html(project: Path, limit: Limit) -> None:
    """'<span/>' opens a span in HTML (only void elements close themselves)."""
    with limit(2):
        found = diagnostics(project, "Texte " + "<span/>" * 5000 + " fin")
    assert found == [DEEP.format(10)]


def test_raw_html_table_too_large(project: Path) -> None:
    row = "<tr>" + "<td>x</td>" * 31 + "</tr>"
    body = "Intro\n\n<table><tr><th>Entête</th></tr>" + row + "</table>"
    message = (
        "table of 2 rows × 31 columns is larger than the limit of 200 rows × 30 columns: the "
        "sheet is refused (settings max_table_rows and max_table_columns)"
    )
    assert diagnostics(project, body) == [f"s.md:12: error: {message}"]
    spanned = "<table><tr><td colspan=1000>Large</td></tr></table>"
    assert "1000 columns" in diagnostics(project, spanned)[0]


def test_table_at_the_limits_is_accepted(project: Path) -> None:
    header = "|" + "|".join(f"c{i}" for i in range(30)) + "|\n|" + "-|" * 30 + "\n"
    body = header + ("|" + "x|" * 30 + "\n") * 199
    assert diagnostics(project, body) == []
    assert "201 rows" in diagnostics(project, header + ("|" + "x|" * 30 + "\n") * 200)[0]


def test_too_many_images(project: Path) -> None:
    (project / "images" / "a.png").write_bytes(png(1, 1))
    body = "\n\n".join(f"![image {n}](../images/a.png)" for n in range(52))
    assert diagnostics(project, body) == [
        "s.md:110: error: image '../images/a.png' refused: more than 50 images in the body "
        "(setting max_images)"
    ]


def test_iframe_src_is_not_an_image(project: Path) -> None:
    """nh3 shows the filter every attribute, even of elements it removes."""
    body = '<iframe src="../../secret/forbidden.svg"></iframe>'
    assert diagnostics(project, body) == [
        "s.md:10: warning: element <iframe> removed (not allowed in sheets)"
    ]


def test_markup_deadline(project: Path, limit: Limit) -> None:
    """Python-Markdown spends quadratic time on unclosed link targets (10 s for these 20 KB,
    two minutes for 80 KB, measured with Markdown 3.11): stopped, and reported."""
    with limit(3):
        found = diagnostics(project, "[a](" * 5_000, max_markup_seconds=0.5)
    assert found == [
        "s.md:10: error: converting the body to HTML took more than 0.5 s: the sheet is "
        "refused (setting max_markup_seconds)"
    ]


def test_a_flood_of_problems_is_summed_up(project: Path, limit: Limit) -> None:
    with limit(5):
        found = diagnostics(project, '<p onclick="x">a</p>\n\n' * 500)
    assert len(found) == 101
    assert found[-1] == "s.md: warning: 400 more problems in this body are not shown"


# ------------------------------------------------------------------------------- deadline


def test_deadline_interrupts_a_python_loop(limit: Limit) -> None:
    started = time.perf_counter()
    with limit(3), pytest.raises(TooSlow), deadline(0.2):
        while True:
            pass
    assert time.perf_counter() - started < 1


def test_deadline_never_fires_after_its_block() -> None:
    """A watchdog that fires as its block ends raises inside the block or not at all."""
    late = 0
    for attempt in range(300):
        with contextlib.suppress(TooSlow), deadline(0.0002 * (attempt % 5)):
            sum(range(attempt % 40))
        try:
            for _ in range(200):
                pass
        except TooSlow:
            late += 1
    time.sleep(0.05)
    assert late == 0
    assert threading.active_count() < 20  # every watchdog was waited for


# ----------------------------------------------------------------------------- sources


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = copy_project(tmp_path / "p", [], images=False)
    (root / "content" / "resources").mkdir()
    return root


def load(root: Path, rel: str) -> list[str]:
    project, _ = load_project(root)
    _sheet, found = load_sheet(project, root / rel)
    return [d.format() for d in found]


def test_a_fifo_named_md_is_not_read(sample: Path, limit: Limit) -> None:
    fifo = sample / "content" / "resources" / "pipe.md"
    os.mkfifo(fifo)
    with limit(2):
        found = load(sample, "content/resources/pipe.md")
    assert found == ["content/resources/pipe.md: error: refused: not a regular file"]


def test_heading_with_many_spaces_is_fast(sample: Path, limit: Limit) -> None:
    """The section-heading regex was cubic: '## a' + 4,000 spaces + 'b' took 80 s."""
    path = sample / "content" / "resources" / "titre.md"
    path.write_text(resource("TITRE", "## a" + " " * 50_000 + "b"), encoding="utf-8")
    with limit(1):
        assert load(sample, "content/resources/titre.md") == []


def test_deep_yaml_is_a_problem_not_a_crash(limit: Limit) -> None:
    with limit(2), pytest.raises(YamlProblem) as caught:
        read_yaml("a: " + "[" * 50_000)
    # libyaml's scanner stops at its own limit (1,000 open brackets) before our composer sees
    # 20 levels; pure-Python PyYAML reaches the composer's check first
    assert caught.value.message in (
        "lists and mappings are nested more than 20 levels deep",
        "invalid YAML: while increasing flow level exceeded maximum nesting depth",
    )
    assert caught.value.line == 1 and caught.value.column in (23, 1003)


def test_yaml_nested_past_the_limit_is_refused_at_the_limit() -> None:
    """Within libyaml's own limit, our depth check applies, at the level it refuses."""
    with pytest.raises(YamlProblem) as caught:
        read_yaml("a:\n" + "".join("  " * n + "- \n" for n in range(30)))
    assert caught.value.message == "lists and mappings are nested more than 20 levels deep"
    assert caught.value.line == 21


def test_age_range_regex_is_linear(sample: Path, limit: Limit) -> None:
    from recueil.sources.schema import AGE_RE

    with limit(1):
        assert AGE_RE.match("6-11" + " " * 100_000 + "x") is None


# ----------------------------------------------------------------------------- settings


def test_limits_are_settings(sample: Path) -> None:
    (sample / "recueil.yaml").write_text(
        "max_table_rows: 3\nmax_nesting_depth: 2\nmax_front_matter_bytes: 100\n",
        encoding="utf-8",
    )
    settings, problems = load_settings(sample)
    assert problems == []
    limits = settings.input_limits()
    assert (limits.max_table_rows, limits.max_nesting_depth) == (3, 2)
    path = sample / "content" / "resources" / "r.md"
    text = resource("R-1", "Texte.")
    path.write_text(text, encoding="utf-8")
    size = len(text.split("---\n")[1].encode())  # the lines between the '---', newlines included
    assert load(sample, "content/resources/r.md") == [
        f"content/resources/r.md:1: error: front matter is {size} bytes, above the limit of 100 "
        "(setting max_front_matter_bytes)"
    ]


def test_limits_must_be_positive(sample: Path) -> None:
    (sample / "recueil.yaml").write_text("max_images: 0\n", encoding="utf-8")
    _, problems = load_settings(sample)
    assert [d.format() for d in problems] == [
        "recueil.yaml:1:1: error: field 'max_images': 0 is below the minimum 1"
    ]


def test_front_matter_images_are_checked_and_counted(sample: Path) -> None:
    images = sample / "content" / "images"
    images.mkdir()
    (images / "bomb.png").write_bytes(png(20_000, 20_000))
    (images / "ok.png").write_bytes(png(1, 1))
    (sample / "recueil.yaml").write_text("max_images: 2\n", encoding="utf-8")
    source = (Path(__file__).parents[2] / "content" / "experiences").glob("hdf-2022-001-*.md")
    text = next(source).read_text(encoding="utf-8")
    photos = "".join(
        f"  - src: ../images/{name}\n    caption: c\n    credit: c\n"
        for name in ("ok.png", "bomb.png", "ok.png", "ok.png")
    )
    head, _, rest = text.partition("photos:\n")
    rest = rest[rest.index("---") :]
    path = sample / "content" / "experiences" / "x.md"
    path.parent.mkdir()
    path.write_text(head + "photos:\n" + photos + rest, encoding="utf-8")
    found = load(sample, "content/experiences/x.md")
    rel = "content/experiences/x.md"
    assert found == [
        f"{rel}:86:5: error: field 'photos[1].src': image '../images/bomb.png' refused: it is "
        f"20,000 × 20,000 pixels (400,000,000), above the limit of 40,000,000 pixels {PIXELS}",
        f"{rel}:89:5: error: field 'photos[2].src': image '../images/ok.png' refused: more than "
        "2 images in the front matter (setting max_images)",
        f"{rel}:92:5: error: field 'photos[3].src': image '../images/ok.png' refused: more than "
        "2 images in the front matter (setting max_images)",
    ]
