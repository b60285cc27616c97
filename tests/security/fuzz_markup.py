"""Mutation fuzzer for the Markdown → HTML stage: ``python tests/security/fuzz_markup.py N``.

Takes the golden inputs (tests/golden/markup/*.md), applies N random mutations with a fixed
seed (insert hostile fragments, cut, repeat, nest, flip bytes) and converts each result with
recueil.markup.markdown.to_html, checking the sanitiser's invariants (``problems``) and that each
conversion ends quickly. Prints every finding and exits 1 if there was one; findings are kept
as regression cases in test_fuzz_regressions.py.

Options: ``--seed S`` (default 6, the issue's number), ``--seconds T`` (slowest acceptable
conversion, default 2.0).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

from recueil.core.limits import InputLimits
from recueil.markup.fragment import VIRTUAL_ROOT
from recueil.markup.html_policy import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from recueil.markup.markdown import MarkupOptions, to_html

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "markup"
#: Schemes a kept href may use (sheet: links become VIRTUAL_ROOT URLs).
LINK_SCHEMES = {"http", "https", "mailto", "tel"}
#: Schemes that must never start a kept href or src.
FORBIDDEN_IN_URLS = ("javascript:", "vbscript:", "file:", "data:")
FRAGMENTS = (
    "<script>alert(1)</script>", "<script", "</script>", "<SCRIPT SRC=x>", "<iframe src=x>",
    "<img src=x onerror=alert(1)>", "<img src=\"file:///etc/passwd\">", "<svg onload=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>", "<style>@import 'x';</style>",
    "<a href=\"javascript:alert(1)\">x</a>", "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:x\">t</a>", "<a href=\" javascript:x\">", "<a href=file:///etc/passwd>",
    "[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "[x](file:///etc/passwd)",
    "[x](<javascript:x>)", "![y](file:///etc/passwd)", "![y](../../../etc/passwd.png)",
    "![y](data:image/png;base64,AAAA)", "[r]: javascript:alert(1)\n", "[r]", "<javascript:x>",
    "{: onclick=\"x\" }", "{: style=\"background:url(file:///x)\" }", "{: #id .cls }",
    "<td style=\"background: url(file:///x); text-align: left\">c</td>", "<p style=\"x:y\">",
    "<div onmouseover=x>", "<link rel=attachment href=file:///etc/passwd>", "<object data=x>",
    "<embed src=x>", "<base href=file:///>", "<meta http-equiv=refresh content=0;url=x>",
    "<!--", "-->", "<![CDATA[", "]]>", "<?php ?>", "&lt;script&gt;", "&#x3C;script", "\x00",
    "\n", "\n\n", "> ", "- ", "1. ", "    ", "\t", "|", "| a | b |\n|---|---|\n| c | d |\n",
    "```\n", "~~~", "`", "**", "_", "[^1]", "[^1]: note\n", "Terme\n: définition\n", "## ",
    "\"", "'", "<", ">", "&", ";", "=", "(", ")", "[", "]", "«", "»", "é", "🎉", "\u202e",
    "\ufeff", "\r", "on", "click", "src", "href", "style", "url(", "sheet:AUTRE-2", "sheet:X",
)  # fmt: skip


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"element <{tag}> kept")
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            text = value or ""
            squeezed = "".join(c for c in text.lower() if c > " ")
            if name.startswith("on"):
                self.problems.append(f"event attribute {name}={text!r} on <{tag}>")
            if name not in allowed:
                self.problems.append(f"attribute {name} kept on <{tag}>")
            if name == "style" and tag not in ("td", "th"):
                self.problems.append(f"style kept on <{tag}>")
            if name == "style" and squeezed and not squeezed.startswith("text-align:"):
                self.problems.append(f"style {text!r} kept on <{tag}>")
            if name not in ("href", "src"):
                continue
            # A browser or PDF reader ignores spaces and control characters around and in a
            # scheme: 'java\tscript:' is javascript:. What follows the scheme is harmless.
            if squeezed.startswith(FORBIDDEN_IN_URLS):
                self.problems.append(f"dangerous URL {name}={text!r} on <{tag}>")
            if name == "src" and not text.startswith(VIRTUAL_ROOT):
                self.problems.append(f"image src {text!r} outside the project's virtual root")
            scheme = re.match(r"[a-z][a-z0-9+.-]*(?=:)", squeezed)
            if name == "href" and scheme and scheme[0] not in LINK_SCHEMES:
                self.problems.append(f"link href {text!r} with a scheme not allowed")

    handle_startendtag = handle_starttag


def problems(html: str) -> list[str]:
    """What is wrong with a fragment to_html produced (empty: every invariant holds)."""
    found = []
    if "<script" in html.lower():
        found.append("'<script' in the output")
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return found + inspector.problems


def make_project(root: Path) -> MarkupOptions:
    """A throw-away project like test_markup's: sheets/, images/plan.svg, outside.png."""
    (root / "project" / "sheets").mkdir(parents=True, exist_ok=True)
    (root / "project" / "images").mkdir(exist_ok=True)
    (root / "project" / "images" / "plan.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"/>\n', encoding="utf-8"
    )
    (root / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return MarkupOptions(
        slug="ESSAI-1",
        source_dir=root / "project" / "sheets",
        project_dir=root / "project",
        known_slugs=frozenset({"AUTRE-2"}),
        limits=InputLimits(max_markup_seconds=5),
    )


def mutate(text: str, rng: random.Random) -> str:
    """One to four random edits of ``text``."""
    for _ in range(rng.randint(1, 4)):
        where = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.45:
            text = text[:where] + rng.choice(FRAGMENTS) + text[where:]
        elif choice < 0.6 and text:
            end = min(len(text), where + rng.randint(1, 40))
            text = text[:where] + text[end:]
        elif choice < 0.7 and text:
            end = min(len(text), where + rng.randint(1, 20))
            text = text[:where] + text[where:end] * rng.randint(2, 30) + text[end:]
        elif choice < 0.8:
            text = (
                text[:where]
                + rng.choice(("> ", "- ", "    ", "<div>")) * rng.randint(1, 40)
                + text[where:]
            )
        elif choice < 0.9 and text:
            position = rng.randrange(len(text))
            text = text[:position] + chr(rng.randint(0, 0x2FF)) + text[position + 1 :]
        else:
            text = text[:where] + "".join(rng.choice(FRAGMENTS) for _ in range(5)) + text[where:]
    return text


def run(count: int, seed: int = 6, seconds: float = 2.0) -> list[tuple[str, str]]:
    """Fuzz ``count`` mutants; returns (finding, input) pairs."""
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted(GOLDEN.glob("*.md"))]
    findings: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        options = make_project(Path(folder))
        for _ in range(count):
            body = mutate(rng.choice(seeds), rng)
            started = time.perf_counter()
            try:
                fragment = to_html(body, 12, "sheets/essai.md", options)
            except Exception as exc:
                findings.append((f"crash: {exc!r}", body))
                continue
            elapsed = time.perf_counter() - started
            if elapsed > seconds:
                findings.append((f"slow: {elapsed:.1f} s", body))
            findings += [(problem, body) for problem in problems(fragment.html)]
    return findings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("count", type=int, help="how many mutants to try")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    findings = run(args.count, args.seed, args.seconds)
    for finding, body in findings:
        print(f"{finding}\n    input: {body!r}\n")
    took = time.perf_counter() - started
    print(f"{args.count} mutants, {len(findings)} finding(s), {took:.1f} s", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
