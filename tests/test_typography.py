"""Tests for recueil.markup.typography: French spaces, quotes, numbers, ordinals, hyphens.

Expected strings spell the special spaces out: NB = U+00A0 (no-break space), NN = U+202F
(narrow no-break space).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import markdown
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from recueil.markup.typography import TypographyOptions, typeset_markup, typeset_text, typeset_tree

NB = "\u00a0"
NN = "\u202f"
NARROW = TypographyOptions(narrow_everywhere=True)
DEFAULT = TypographyOptions()
GOLDEN = Path(__file__).parent / "golden" / "typography"


# --- punctuation -----------------------------------------------------------------------------

PUNCTUATION = [
    ("Objectif: réussir", f"Objectif{NB}: réussir"),
    ("Objectif : réussir", f"Objectif{NB}: réussir"),
    ("Objectif  \t: réussir", f"Objectif{NB}: réussir"),
    (f"Objectif{NN}: réussir", f"Objectif{NB}: réussir"),
    ("Note:", f"Note{NB}:"),
    ("Pourquoi?", f"Pourquoi{NN}?"),
    ("Pourquoi ?", f"Pourquoi{NN}?"),
    (f"Pourquoi{NB}?", f"Pourquoi{NN}?"),
    ("Vraiment?!", f"Vraiment{NN}?!"),
    ("Vraiment ! !", f"Vraiment{NN}! !"),
    ("Bravo!", f"Bravo{NN}!"),
    ("d'abord; ensuite", f"d’abord{NN}; ensuite"),
    ("Et alors...?", f"Et alors…{NN}?"),
    ("(?)", "(?)"),
    ("un doute (?) ici", "un doute (?) ici"),
    ("a;b et x?y", "a;b et x?y"),  # no space typed, inside a word: not punctuation
    ("http: ou https:", f"http{NB}: ou https{NB}:"),
    ("voir http://exemple.fr", "voir http://exemple.fr"),
    ("ratio 3:1 et 1:10", "ratio 3:1 et 1:10"),
    ("à 12:30 ou 9h30", "à 12:30 ou 9h30"),
    ("a::b", "a::b"),
    ("Terme\n: définition", "Terme\n: définition"),  # definition list syntax
    ("mot\n? suite", "mot\n? suite"),  # newlines are never touched
    ("**Objectif**: réussir", f"**Objectif**{NB}: réussir"),
    ("**Pourquoi?**", f"**Pourquoi{NN}?**"),
]


@pytest.mark.parametrize(("text", "expected"), PUNCTUATION)
def test_punctuation(text: str, expected: str) -> None:
    assert typeset_text(text) == expected


def test_narrow_everywhere() -> None:
    assert typeset_text("Objectif: réussir", NARROW) == f"Objectif{NN}: réussir"
    assert typeset_text('Il dit "oui" ?', NARROW) == f"Il dit «{NN}oui{NN}»{NN}?"


# --- quotes, apostrophes, ellipsis -----------------------------------------------------------

QUOTES = [
    ('"Bonjour", dit-il.', f"«{NN}Bonjour{NN}», dit-il."),
    ('Il dit "je cite "ceci" ici" et part', f"Il dit «{NN}je cite “ceci” ici{NN}» et part"),
    ("« texte »", f"«{NN}texte{NN}»"),
    ("«texte»", f"«{NN}texte{NN}»"),
    (f"«{NB}texte{NB}»", f"«{NN}texte{NN}»"),
    ('« déjà "imbriqué" »', f"«{NN}déjà “imbriqué”{NN}»"),
    ('("entre parenthèses")', f"(«{NN}entre parenthèses{NN}»)"),
    ('*"en italique"*', f"*«{NN}en italique{NN}»*"),
    ('"texte *important*"', f"«{NN}texte *important*{NN}»"),
    ('un écran de 15" ici', 'un écran de 15" ici'),  # closing quote with nothing open: as typed
    ('un " seul', 'un " seul'),
    ("l'école d'aujourd'hui", "l’école d’aujourd’hui"),
    ("'entre apostrophes'", "‘entre apostrophes’"),  # never « »
    ("Attendez...", "Attendez…"),
    ("[...]", "[…]"),
    ("quatre points ....", "quatre points ...."),
    ("a -- b", "a -- b"),  # left alone on purpose
]


@pytest.mark.parametrize(("text", "expected"), QUOTES)
def test_quotes_apostrophes_ellipsis(text: str, expected: str) -> None:
    assert typeset_text(text) == expected


# --- numbers, units, dates, ordinals ----------------------------------------------------------

NUMBERS = [
    ("12500 €", f"12{NN}500{NB}€"),
    ("12500€", f"12{NN}500{NB}€"),
    ("1500000 euros", f"1{NN}500{NN}000{NB}euros"),
    ("5 000 euros", f"5{NN}000{NB}euros"),
    ("30 000 €", f"30{NN}000{NB}€"),
    ("2100 élèves", f"2{NN}100{NB}élèves"),
    ("2500 €", f"2{NN}500{NB}€"),
    ("en 2022", "en 2022"),
    ("en 2022 élèves et parents", f"en 2022{NB}élèves et parents"),  # a year stays ungrouped
    ("1234 lignes", "1234 lignes"),  # not a unit: unchanged
    ("59000 Lille", "59000 Lille"),  # postal code
    ("75011 Paris Cedex", "75011 Paris Cedex"),
    ("12345 habitants", f"12{NN}345{NB}habitants"),
    ("12345,5 km", f"12{NN}345,5{NB}km"),
    ("1,5 km et 1.10", f"1,5{NB}km et 1.10"),
    ("12345.67", "12345.67"),
    ("tél. 0320123456", "tél. 0320123456"),  # leading zero: a phone number
    ("ISBN 978-2-12345-678-9", "ISBN 978-2-12345-678-9"),
    ("HDF-2022-014", "HDF-2022-014"),
    ("03 20 55 77 02", "03 20 55 77 02"),
    ("25 ans", f"25{NB}ans"),
    ("de 6 à 11 ans", f"de 6 à 11{NB}ans"),
    ("6-11 ans", f"6-11{NB}ans"),
    ("61 % à 72 %", f"61{NB}% à 72{NB}%"),
    ("50%", f"50{NB}%"),
    ("4 p.", f"4{NB}p."),
    ("p. 12 et pp. 3-4", f"p.{NB}12 et pp.{NB}3-4"),
    ("Fiche n° 14 et N°3", f"Fiche n°{NB}14 et N°{NB}3"),
    ("n° 12345", f"n°{NB}12345"),
    ("12 participant·es", f"12{NB}participant·es"),
    ("à 9 h 30", f"à 9{NB}h{NB}30"),
    ("2 h par semaine", f"2{NB}h par semaine"),
    ("10 octobre 2022", f"10{NB}octobre{NB}2022"),
    ("le 1er mars", f"le 1er{NB}mars"),
    ("Dépôt légal : octobre 2022", f"Dépôt légal{NB}: octobre{NB}2022"),
    ("1ère édition, 2ème édition", "1re édition, 2e édition"),
    ("les 1ères et 2èmes années", "les 1res et 2es années"),
    ("2ième", "2e"),
    ("XXIème siècle", "XXIe siècle"),
    ("1er, 1re, 2e, 2de, 3e", "1er, 1re, 2e, 2de, 3e"),
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_numbers_units_dates_ordinals(text: str, expected: str) -> None:
    assert typeset_text(text) == expected


def test_group_thousands_can_be_switched_off() -> None:
    assert typeset_text("12500 €", TypographyOptions(group_thousands=False)) == f"12500{NB}€"


# --- things never touched --------------------------------------------------------------------

UNTOUCHED = [
    "https://exemple.fr/page?a=1&b=2:3",
    "www.anct.gouv.fr/QPV",
    "mailto:contact@exemple.fr",
    "romain.delattre@roubaix-cite-educative.example",
    "voir `a: b` ou ``c ? d``",
    '<span class="x" title="a: b">',
    "&amp; &#160;",
    "![image](img.png)",
    '[texte](https://x.fr "Titre: x")',
    "[1]: https://x.fr",
    "[^note]: texte",
    "{: #id .classe }",
    "|:---|---:|",
    "\\!",
    "\x02wzxhzdk:0\x03",
    "12:30",
]


@pytest.mark.parametrize("text", UNTOUCHED)
def test_untouched(text: str) -> None:
    assert typeset_text(text) == text


def test_url_followed_by_punctuation() -> None:
    assert typeset_text("Voir https://x.fr/a?b=1: ici") == f"Voir https://x.fr/a?b=1{NB}: ici"
    assert typeset_text("(https://x.fr/a_(b))?") == f"(https://x.fr/a_(b)){NN}?"
    assert typeset_text("écrire à a.b@x.fr!") == f"écrire à a.b@x.fr{NN}!"


def test_letters_never_change_case_or_inclusive_forms() -> None:
    text = "Les chef·fe·s de projet opérationnel·les de l'ÉCOLE et de l'État"
    assert typeset_text(text) == text.replace("'", "’")


# --- prev: runs split across inline elements -------------------------------------------------


def test_prev_decides_closing_quote_and_space() -> None:
    assert typeset_text('" et la suite', prev='Il dit "oui') == f"{NN}» et la suite"
    assert typeset_text("?", prev="Pourquoi") == f"{NN}?"
    assert typeset_text(" ?", prev="Pourquoi") == f"{NN}?"
    # prev is read-only: its trailing space cannot be replaced, so nothing is doubled
    assert typeset_text("?", prev="Pourquoi ") == "?"
    assert typeset_text("école", prev="l") == "école"
    assert typeset_text("'école", prev="l") == "’école"


# --- trees -----------------------------------------------------------------------------------


def tree(html: str, options: TypographyOptions = DEFAULT) -> str:
    root = ET.fromstring(html)
    typeset_tree(root, options)
    once = ET.tostring(root, encoding="unicode")
    typeset_tree(root, options)
    assert ET.tostring(root, encoding="unicode") == once, "typeset_tree is not idempotent"
    return once


TREES = [
    ('<p>"texte <em>important</em>"</p>', f"<p>«{NN}texte <em>important</em>{NN}»</p>"),
    ("<p>Pourquoi <strong>ça</strong>?</p>", f"<p>Pourquoi <strong>ça</strong>{NN}?</p>"),
    ("<p><em>Pourquoi</em> ?</p>", f"<p><em>Pourquoi</em>{NN}?</p>"),
    ("<p>l<em>'</em>école</p>", "<p>l<em>’</em>école</p>"),
    (
        '<p>Lancez <code>make: "x"</code>: ça marche...</p>',
        f'<p>Lancez <code>make: "x"</code>{NB}: ça marche…</p>',
    ),
    ('<pre>a: b ? "c" 12500</pre>', '<pre>a: b ? "c" 12500</pre>'),
    (
        "<p><kbd>Ctrl</kbd> : <samp>a?</samp> <var>x?</var></p>",
        f"<p><kbd>Ctrl</kbd>{NB}: <samp>a?</samp> <var>x?</var></p>",
    ),
    (
        '<p>Voir <a href="https://x.fr/a">https://x.fr/a</a> ou <a href="https://x.fr">le '
        "site: ici</a>.</p>",
        f'<p>Voir <a href="https://x.fr/a">https://x.fr/a</a> ou <a href="https://x.fr">le '
        f"site{NB}: ici</a>.</p>",
    ),
    (
        '<p><a href="mailto:a@b.fr">a@b.fr</a> ; <a href="https://anct.gouv.fr">anct.gouv.fr</a>'
        "</p>",
        f'<p><a href="mailto:a@b.fr">a@b.fr</a>{NN}; <a href="https://anct.gouv.fr">anct.gouv.fr'
        "</a></p>",
    ),
    ('<p title="a: b">c: d</p>', f'<p title="a: b">c{NB}: d</p>'),
    ("<p>a<br />? b</p>", "<p>a<br />? b</p>"),  # a line break is not a word
    ("<p>Le 1er mai</p>", f"<p>Le 1<sup>er</sup>{NB}mai</p>"),
    ("<p>la 1ère et la 2ème</p>", "<p>la 1<sup>re</sup> et la 2<sup>e</sup></p>"),
    (
        "<p>le XXIe siècle, François Ier</p>",
        "<p>le XXI<sup>e</sup> siècle, François I<sup>er</sup></p>",
    ),
    ("<p>en 2de et en 1re</p>", "<p>en 2<sup>de</sup> et en 1<sup>re</sup></p>"),
    ("<p>Le De et Ce Le Vers</p>", "<p>Le De et Ce Le Vers</p>"),  # not Roman ordinals
    ("<p>2e-3 et H2e, 6e-3e</p>", "<p>2e-3 et H2e, 6<sup>e</sup>-3<sup>e</sup></p>"),
    (
        "<p>Les chef·fe·s du QPV en REP+ avec l'ANCT</p>",
        '<p>Les <span class="nohyphen">chef·fe·s</span> du <span class="nohyphen">QPV</span> en '
        '<span class="nohyphen">REP+</span> avec l’<span class="nohyphen">ANCT</span></p>',
    ),
    ("<p>www.ANCT.fr et CM2</p>", '<p>www.ANCT.fr et <span class="nohyphen">CM2</span></p>'),
    (
        "<p><sup>2e</sup> <abbr>QPV</abbr></p>",
        '<p><sup>2e</sup> <abbr><span class="nohyphen">QPV</span></abbr></p>',
    ),
    (
        '<p><span class="notypo">a: "b"</span> <span lang="en">"c"?</span></p>',
        '<p><span class="notypo">a: "b"</span> <span lang="en">"c"?</span></p>',
    ),
]


@pytest.mark.parametrize(("html", "expected"), TREES)
def test_tree(html: str, expected: str) -> None:
    assert tree(html) == expected


def test_tree_blocks_do_not_share_quotes() -> None:
    html = '<div><p>Il dit "oui</p><p>" ?</p><ul><li>a "b" <ul><li>c</li></ul>: d</li></ul></div>'
    assert tree(html) == (
        f'<div><p>Il dit «{NN}oui</p><p>"{NN}?</p><ul><li>a «{NN}b{NN}» <ul><li>c</li></ul>: d</li>'
        "</ul></div>"
    )


def test_numbers_do_not_run_across_elements() -> None:
    # a year followed by a footnote call is not the number 20061
    html = '<p>depuis 2006<sup id="fnref:1"><a href="#fn:1">1</a></sup>.</p>'
    assert tree(html) == html
    assert typeset_text("500 €", prev="12") == f"500{NB}€"


def test_tree_tail_after_code_is_processed() -> None:
    out = tree("<li><code>x</code>, puis 12500 € ; fin</li>")
    assert out == f"<li><code>x</code>, puis 12{NN}500{NB}€{NN}; fin</li>"


def test_tree_root_that_is_code_is_left_alone() -> None:
    assert tree("<code>a: b</code>") == "<code>a: b</code>"


def test_tree_options_switch_markup_off() -> None:
    options = TypographyOptions(superscript_ordinals=False, nohyphen_spans=False)
    assert tree("<p>Le 1er QPV</p>", options) == "<p>Le 1er QPV</p>"


class _Typo(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        typeset_tree(root)


def md_to_html(source: str) -> str:
    md = markdown.Markdown(
        extensions=["tables", "footnotes", "def_list", "fenced_code", "sane_lists", "attr_list"]
    )
    md.treeprocessors.register(_Typo(md), "typo", 4)  # as recueil.markup.markdown does
    return md.convert(source)


def test_markdown_pipeline() -> None:
    html = md_to_html(
        'Objectif: "réussir *ensemble*"\\! Voir [le site](https://x.fr/a?b "T: x"), '
        '<https://y.fr/z?>, `a: "b"` et 12500 €.\n\n```\ncode: "brut" ...\n```\n'
    )
    assert html == (
        f"<p>Objectif{NB}: «{NN}réussir <em>ensemble</em>{NN}»! Voir "
        '<a href="https://x.fr/a?b" title="T: x">le site</a>, '
        '<a href="https://y.fr/z?">https://y.fr/z?</a>, <code>a: "b"</code> et '
        f"12{NN}500{NB}€.</p>\n"
        "<pre><code>code: &quot;brut&quot; ...\n</code></pre>"
    )


@pytest.mark.parametrize("source", sorted(GOLDEN.glob("*.md")), ids=lambda p: p.stem)
def test_golden(source: Path) -> None:
    expected = source.with_suffix(".html").read_text(encoding="utf-8")
    assert md_to_html(source.read_text(encoding="utf-8")) + "\n" == expected


# --- typeset_markup --------------------------------------------------------------------------


def test_markup_escapes_and_typesets() -> None:
    out = typeset_markup('<script>alert("x")</script> & la 1ère édition du REP+')
    assert isinstance(out, Markup)
    assert "<script" not in out
    assert out == (
        f"&lt;script&gt;alert(«{NN}x{NN}»)&lt;/script&gt; &amp; la 1<sup>re</sup> édition du "
        '<span class="nohyphen">REP+</span>'
    )


def test_markup_plain_and_idempotent() -> None:
    once = typeset_markup("Les 2e et 3e : ANCT")
    assert once == f'Les 2<sup>e</sup> et 3<sup>e</sup>{NB}: <span class="nohyphen">ANCT</span>'
    assert typeset_markup(once) == once
    assert typeset_markup("") == ""
    assert typeset_markup(Markup("a &nbsp; b")) == Markup("a &nbsp; b")  # not XML: unchanged


# --- properties ------------------------------------------------------------------------------

FRAGMENTS = [
    *"aàbcdeéèfilmnoprstuvxzAEÉIQPVRX0123456789",
    *" \u00a0\u202f\t\n",
    *":;!?.,\"'«»“”’()[]{}-*_/@<>&`|#°%€·\\",
    "...", "1ère", "2ème", "XXIe", "1er", "www.", "https://", ".fr", "@x.fr", "12:30",
    " h ", "octobre", " 2022", "12500", "59000 Lille", " élèves", "n° ", "p. ", " € ", "QPV",
    "chef·fe·s", "](", "![", "{: ", "\x02", "\x03",
]  # fmt: skip
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
options = st.builds(TypographyOptions, st.booleans(), st.booleans())


@settings(max_examples=400, deadline=None)
@given(texts, options)
@example('"a "b" c"', TypographyOptions())
@example("12500 100 élèves", TypographyOptions())
def test_idempotent(text: str, opts: TypographyOptions) -> None:
    once = typeset_text(text, opts)
    assert typeset_text(once, opts) == once


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_idempotent_with_prev(prev: str, text: str) -> None:
    once = typeset_text(text, prev=prev)
    assert typeset_text(once, prev=prev) == once


SPACES_AND_QUOTES = re.compile("[\\s\"'«»“”‘’]")


def skeleton(text: str) -> str:
    """What must survive typesetting: everything but spaces and quotes, with … as '...'."""
    return SPACES_AND_QUOTES.sub("", text.replace("…", "..."))


# no 'r' nor 'm' so that the documented 1ère → 1re, 2ème → 2e normalisation cannot occur
plain = st.text(
    alphabet=" \u00a0\n0123456789abcdeéfilnostuxAEÉIQPVX:;!?.,\"'«»()-·%€*_", max_size=60
)


@settings(max_examples=400, deadline=None)
@given(plain, options)
def test_only_spaces_and_quotes_change(text: str, opts: TypographyOptions) -> None:
    assert skeleton(typeset_text(text, opts)) == skeleton(text)


prose = st.text(alphabet="abcdeéfilnostuxAEQ0123 :;!?.,\"'«»()", max_size=60)


@settings(max_examples=400, deadline=None)
@given(prose)
def test_no_breakable_space_before_high_signs(text: str) -> None:
    out = typeset_text(text)
    assert not re.search(r"[^\s(\[{«“‘!?;:] +[;:!?»]", out)
    assert not re.search(r"« +\S", out)


urls = st.builds(
    "{}://{}.{}{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
    st.sampled_from(["fr", "org", "gouv.fr"]),
    st.from_regex(r"(/[A-Za-z0-9_.~:;!?='%+-]{0,12}[A-Za-z0-9/])?", fullmatch=True),
)
emails = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,10}@[a-z0-9-]{1,10}\.(fr|org)", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(texts, st.one_of(urls, emails), texts)
def test_urls_and_emails_untouched(before: str, address: str, after: str) -> None:
    assert address in typeset_text(f"{before} {address} {after}")


words = st.text(alphabet="abcé QPV12:?!\"'.", max_size=15)


@settings(max_examples=200, deadline=None)
@given(words, words, words, words)
def test_tree_idempotent(a: str, b: str, c: str, d: str) -> None:
    root = ET.Element("p")
    root.text = a
    em = ET.SubElement(root, "em")
    em.text, em.tail = b, c
    code = ET.SubElement(root, "code")
    code.text, code.tail = d, a
    tree(ET.tostring(root, encoding="unicode"))
    typeset_tree(root)
    assert code.text == d
