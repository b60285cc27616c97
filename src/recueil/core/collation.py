"""French collation without the system's locales: the order of a French dictionary.

``locale.strxfrm`` depends on the locales a machine has installed (``fr_FR.UTF-8`` is often
missing), and ``str.casefold`` puts "Éoliennes" after "Usine": every title, name and keyword
recueil sorts goes through :func:`french_key` instead. The key compares, like the Unicode
collation algorithm with the French tailoring of CLDR:

1. the base letters and digits, case and accents ignored, ligatures expanded (œ → oe, æ → ae,
   ß → ss); spaces and punctuation count as one separator, before any letter ("Le bain" before
   "Lebrun");
2. then the accents, letter by letter from the start of the text (unaccented first, then acute,
   grave, circumflex, diaeresis, cedilla...), a ligature after its spelt-out letters;
3. then the case, lower case first;
4. then the text itself, so that the order is total and never depends on the input's order.

CLDR French compares accents from the start of the text, as here; the backward accent ordering
of older French dictionaries ("cote, côte, coté, côté") is kept only by Canadian French.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: secondary weights of the usual combining marks, in CLDR's order (others after them)
_ACCENTS = {
    "\u0301": 1,  # acute
    "\u0300": 2,  # grave
    "\u0306": 3,  # breve
    "\u0302": 4,  # circumflex
    "\u030c": 5,  # caron
    "\u030a": 6,  # ring
    "\u0308": 7,  # diaeresis
    "\u030b": 8,  # double acute
    "\u0303": 9,  # tilde
    "\u0307": 10,  # dot above
    "\u0327": 11,  # cedilla
    "\u0328": 12,  # ogonek
    "\u0304": 13,  # macron
}
#: letters NFKD leaves whole, spelt out at the first level (their second-level weight follows)
_EXPANSIONS = {
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS",
    "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i",
}  # fmt: skip
#: second-level weight of an expanded letter, after every accent
_EXPANDED = 100
#: first-level weight of a separator (any run of spaces and punctuation): before "0" and "a"
_SEPARATOR = " "

Key = tuple[str, tuple[int, ...], tuple[int, ...], str]


@lru_cache(maxsize=65536)
def french_key(text: str) -> Key:
    """A sort key putting texts in French dictionary order (see the module's docstring)."""
    primary: list[str] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    separated = True  # no separator at the start
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            if secondary:  # a mark raises the weight of the letter it follows
                secondary[-1] = secondary[-1] * 16 + _ACCENTS.get(char, 14)
            continue
        spelt = _EXPANSIONS.get(char, char)
        if not spelt.isalnum():
            if not separated:
                primary.append(_SEPARATOR)
                secondary.append(0)
                tertiary.append(0)
                separated = True
            continue
        separated = False
        for letter in spelt:
            primary.append(letter.casefold())
            secondary.append(_EXPANDED if spelt != char else 0)
            tertiary.append(1 if letter.isupper() else 0)
    while primary and primary[-1] == _SEPARATOR:
        primary.pop()
        secondary.pop()
        tertiary.pop()
    return ("".join(primary), tuple(secondary), tuple(tertiary), text)
