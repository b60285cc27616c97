"""The C array types WeasyPrint's font subsetting declares, made before the renders
(render/glyph_arrays.py): a worker's render no longer parses a declaration, and the types are
the ones cffi's parser makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
from weasyprint.text.ffi import ffi
from recueil.render import glyph_arrays

glyph_arrays.prepare()

def refuse(*args, **kwargs):
    raise AssertionError(f"parsed {args}")

parse = ffi._parser.parse_type
ffi._parser.parse_type = refuse
for length in (1, 77, 978, glyph_arrays.LENGTHS):
    array = ffi.new(f"hb_codepoint_t[{length}]", list(range(length)))
    assert ffi.sizeof(array) == 4 * length and array[length - 1] == length - 1
ffi._parser.parse_type = parse
with ffi._lock:  # the very type cffi's parser gives for that declaration
    parsed = ffi._get_cached_btype(parse("hb_codepoint_t[77]"))
assert parsed is ffi.typeof("hb_codepoint_t[77]")
longer = glyph_arrays.LENGTHS + 1
assert f"hb_codepoint_t[{longer}]" not in ffi._parsed_types
assert ffi.sizeof(ffi.new(f"hb_codepoint_t[{longer}]")) == 4 * longer  # parsed, as before
print("ok")
"""


def test_prepared_arrays_are_cffis_own_and_need_no_parse() -> None:
    # a process of its own: the test process's cffi tables must stay as they were
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_sheet_rendered_in_a_pool_worker_parses_no_declaration(tmp_path: Path) -> None:
    """Through the build's worker pool: a forked worker inherits the parent's prepared types."""
    script = tmp_path / "pool.py"
    script.write_text(
        """
import sys
from pathlib import Path
from weasyprint.text.ffi import ffi
from recueil.render import glyph_arrays
from recueil.render.workers import RenderPool
from recueil.render.weasy import render_pdf

HTML = '<html lang="fr"><body><p>Écrire, lire&#x202F;: une fiche à l’essai.</p></body></html>'

def task(name):
    parsed = []
    parse = ffi._parser.parse_type
    ffi._parser.parse_type = lambda text: parsed.append(text) or parse(text)
    result = render_pdf(HTML, project_dir=Path(sys.argv[1]), style_dirs=(), rel="essai.md")
    arrays = [int(p[15:-1]) for p in parsed if p.startswith("hb_codepoint_t[")]
    return (arrays, result.page_count), [], None

found = []
RenderPool(task, 1, 60.0, 0).run(["a"], lambda name: name, lambda name, out: found.append(out))
(parsed, pages), _, _ = found[0]
# only a length past those prepared is parsed (the fallback font's largest glyph number)
assert pages == 1 and all(n > glyph_arrays.LENGTHS for n in parsed), parsed
print("ok")
""",
        encoding="utf-8",
    )
    command = [sys.executable, str(script), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
