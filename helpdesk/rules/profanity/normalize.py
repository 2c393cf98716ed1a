"""Text normalisation for the conduct filter: undoing the usual disguises.

Everything here is pure string work on precompiled tables and regexes.

Pipeline for one message:

1. :func:`basic` — NFKC (full-width letters, ligatures), lower case, ``ё→е``, invisible characters
   removed (zero-width space/joiner/non-joiner, soft hyphen, BOM, word joiner, stress marks),
   accented Latin letters reduced to their base letter, Greek/Ukrainian look-alikes to Cyrillic.
2. :func:`tokens` — split on white space and quote/bracket punctuation, remember sentence
   boundaries, commas and dashes between tokens (the insult rule needs them), strip edge punctuation.
   Runs of three or more one-character tokens (``х у й``, ``f u c k``) are joined into one token.
3. :func:`candidates` — for one token, the word forms the lexicon is matched against:
   Cyrillic words with look-alike Latin letters, digits and symbols mapped back (two maps: *visual*
   ``p→р, n→п, u→и, h→н`` and *phonetic* ``p→п, h→х, z→з``); separators inside a word removed
   (``х.у.й``, ``х-у-й``, ``х_у_й``); masking symbols kept as ``*`` wildcards (``х*й``, ``б**ть``,
   ``п..да``); Latin words checked as English (leet ``0→o 1→i 3→e 4→a 5→s 7→t @→a $→s !→i``),
   as Russian transliteration (``pizda``, ``nahuy``, ``blyat``) and as Latin look-alikes of Cyrillic
   (``cyka``). Repeated letters are collapsed (``хууууй → хуй``); the lexicon is collapsed the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from enum import IntEnum
from typing import NamedTuple

# --------------------------------------------------------------------------- character tables

_INVISIBLE = (
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"
    "\u115f\u1160\u3164\uffa0"  # hangul fillers
    "\u180e"
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space / non-joiner / joiner, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"
    "\ufe00\ufe01\ufe0e\ufe0f"  # variation selectors
    "\ufeff"  # BOM / zero-width no-break space
    "\u0300\u0301\u0302\u0303\u0304\u0306\u0308\u030b\u0311"  # stray combining marks (stress ́ etc.)
)

_ACCENTED = {
    "a": "àáâãäåāăą",
    "c": "çćĉċč",
    "e": "èéêëēĕėęě",
    "i": "ìíîïĩīĭįı",
    "n": "ñńņňŉ",
    "o": "òóôõöøōŏő",
    "s": "śŝşšș",
    "u": "ùúûüũūŭůűų",
    "y": "ýÿŷ",
    "z": "źżž",
    "k": "ķ",
    "l": "ĺļľŀł",
    "g": "ĝğġģ",
}

# Greek and other-Cyrillic letters that are typed instead of Russian ones.
_FOREIGN_LOOKALIKES = {
    "α": "а",
    "β": "в",
    "γ": "у",
    "δ": "д",
    "ε": "е",
    "η": "н",
    "ι": "и",
    "κ": "к",
    "μ": "м",
    "ν": "v",
    "ο": "о",
    "π": "п",
    "ρ": "р",
    "σ": "о",
    "τ": "т",
    "υ": "у",
    "φ": "ф",
    "χ": "х",
    "ω": "ш",
    "і": "и",
    "ї": "и",
    "є": "е",
    "ґ": "г",
    "ў": "у",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ё": "е",
    "ѐ": "е",
    "ѝ": "и",
    "ӧ": "о",
    "ӓ": "а",
    "ӱ": "у",
    "ӹ": "ы",
    "ӑ": "а",
    "ӗ": "е",
}

_BASIC_TABLE: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}
for _base, _chars in _ACCENTED.items():
    for _c in _chars:
        _BASIC_TABLE[ord(_c)] = _base
for _src, _dst in _FOREIGN_LOOKALIKES.items():
    _BASIC_TABLE[ord(_src)] = _dst
_BASIC_TABLE[ord("\u00a0")] = " "
_BASIC_TABLE[ord("\u2007")] = " "
_BASIC_TABLE[ord("\u202f")] = " "
_BASIC_TABLE[ord("\t")] = " "


_INVISIBLE_TABLE: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}


def basic(text: str) -> str:
    """NFKC, lower case, ``ё→е``, invisible characters removed, foreign look-alikes mapped."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_BASIC_TABLE)


def cased(text: str) -> str:
    """NFKC with invisible characters removed, case kept: :func:`basic` before lower-casing.

    Character for character it lines up with ``basic(text)`` whenever lower-casing keeps the length
    (always for Russian and English); :func:`tokens` checks that before reading capitals from it.
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_INVISIBLE_TABLE)


# Latin / digit / symbol -> Cyrillic, for words that already contain Cyrillic letters.
_DIGITS_SYMBOLS = {"0": "о", "3": "з", "4": "ч", "6": "б", "9": "я", "1": "и", "@": "а", "$": "с", "€": "е"}
_VISUAL = {
    "a": "а",
    "b": "в",
    "c": "с",
    "d": "д",
    "e": "е",
    "g": "д",
    "h": "н",
    "i": "и",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "п",
    "o": "о",
    "p": "р",
    "r": "г",
    "t": "т",
    "u": "и",
    "x": "х",
    "y": "у",
    "w": "ш",
    "v": "в",
    "s": "с",
    "z": "з",
    "f": "ф",
    "j": "й",
    "q": "д",
}
_PHONETIC = {
    "a": "а",
    "b": "б",
    "c": "с",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "й",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "в",
    "x": "х",
    "y": "у",
    "z": "з",
}
_VISUAL_TABLE = str.maketrans({**_VISUAL, **_DIGITS_SYMBOLS})
_PHONETIC_TABLE = str.maketrans({**_PHONETIC, **_DIGITS_SYMBOLS})
# Latin letters that look like Cyrillic ones: an all-Latin word made only of these may be Cyrillic
# typed with Latin keys ("cyka", "xyu").
_HOMOGLYPH_LATIN = frozenset("aceopxykmtbhnu")
_HOMOGLYPH_TABLE = str.maketrans(
    {
        "a": "а",
        "c": "с",
        "e": "е",
        "o": "о",
        "p": "р",
        "x": "х",
        "y": "у",
        "k": "к",
        "m": "м",
        "t": "т",
        "b": "в",
        "h": "н",
        "n": "п",
        "u": "и",
    }
)
_EN_LEET_TABLE = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "€": "e",
        "|": "i",
    }
)

# Russian transliteration (as people write it in chats), longest rules first.
_TRANSLIT_RULES: tuple[tuple[str, str], ...] = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("ts", "ц"),
    ("tz", "ц"),
    ("yo", "е"),
    ("jo", "е"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("ya", "я"),
    ("ja", "я"),
    ("ye", "е"),
    ("je", "е"),
    ("oo", "у"),
    ("ee", "и"),
    ("iy", "ий"),
    ("'", "ь"),
    ("a", "а"),
    ("b", "б"),
    ("c", "ц"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "х"),
    ("z", "з"),
)
_TRANSLIT_RE = re.compile("|".join(re.escape(src) for src, _ in _TRANSLIT_RULES) + "|y")
_TRANSLIT_MAP = dict(_TRANSLIT_RULES)
_VOWELS_LAT = frozenset("aeiouy")


def translit(word: str) -> str:
    """Latin transliteration of Russian back to Cyrillic (``nahuy → нахуй``, ``blyat → блят``)."""

    def repl(m: re.Match[str]) -> str:
        s = m.group()
        if s == "y":
            start = m.start()
            # y after a vowel is й (huy, nahuy, tupoy), otherwise ы (ty, vy)
            return "й" if start > 0 and word[start - 1] in _VOWELS_LAT else "ы"
        return _TRANSLIT_MAP[s]

    return _TRANSLIT_RE.sub(repl, word)


_COLLAPSE_RE = re.compile(r"(.)\1+")
_COLLAPSE_LETTERS_RE = re.compile(r"([^\W\d_])\1+")


def collapse(word: str) -> str:
    """Collapse every run of a repeated character: ``хууууй → хуй``, ``класс → клас``."""
    return _COLLAPSE_RE.sub(r"\1", word)


# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(r"[^\s,;:()«»\"„“”\[\]{}<>]+")
_EDGE = ".,!?;:…-—–_'`’‘~*/\\|+=^#@%&\"«»‹›()"
_SENTENCE_END = frozenset(".!?…;\n")
_DASHES = frozenset({"-", "—", "–", "--", "---", "−"})
_CYR_WORD_RE = re.compile(r"[а-яъь]+")
_HAS_CYR_RE = re.compile(r"[а-я]")
_HAS_LAT_RE = re.compile(r"[a-z]")
_URLISH_RE = re.compile(r"://|^www\.|\.(?:ru|com|org|net|рф|su|info|io)(?:/|$)|^[\w.+-]+@[\w-]+\.")
_SEPARATORS = ".-_|/\\'+~^=`’,"
_SEP_SPLIT_RE = re.compile(r"[.\-_|/\\'+~^=`’,]")
_MASK_CHARS = "*#%?!•●■×♥♡❤☆★"
_MASK_TABLE = str.maketrans({c: "*" for c in _MASK_CHARS})
_DOTS_INSIDE_RE = re.compile(r"(?<=\w)(?:\.{2,}|…+)(?=\w)")
_MASK_RUN_RE = re.compile(r"\*+")
_DIGIT_RUN_RE = re.compile(r"\d\d")


class Token(NamedTuple):
    """One word of the message as the matcher sees it."""

    text: str  # normalised token (lower case, invisibles removed, edge punctuation stripped)
    sentence_start: bool  # a sentence boundary (or the message start) precedes it
    comma_before: bool
    dash_before: bool
    cap: bool = False  # written with a capital first letter (known only when tokens() got the cased text)
    quote: int = 0  # inside the n-th quotation («…», "…", „…“) of the message; 0 = outside quotes
    glued_name: bool = False  # «Е.Н.Петрова»: capital initials glued to a capitalised surname (cased text only)
    initial: bool = False  # «Е.»: one capital letter and a dot (cased text only)


# Initials: «Е.Н.», «е.н», «J.K.» — two letters each followed by a dot (the last dot may be missing).
INITIALS_RE = re.compile(r"[а-яa-z]\.[а-яa-z]")
_GLUED_NAME_RE = re.compile(r"(?:[А-ЯЁA-Z]\.){1,2}[А-ЯЁA-Z][а-яёa-z]+(?:-[А-ЯЁA-Z][а-яёa-z]+)?")
_OPEN_QUOTES = frozenset("«„")
_CLOSE_QUOTES = frozenset("»”")
_EITHER_QUOTES = frozenset('"“')  # closes an open quotation, opens one otherwise
_QUOTE_CHARS = _OPEN_QUOTES | _CLOSE_QUOTES | _EITHER_QUOTES


def tokens(text: str, original: str | None = None) -> list[Token]:
    """Tokenise a :func:`basic`-normalised message; ``original`` (:func:`cased`) gives the capitals."""
    out: list[Token] = []
    boundary = True
    comma = False
    dash = False
    prev_end = 0
    ends = _SENTENCE_END
    run = 0  # current run of one-character tokens
    spelled = False
    caps = original if original is not None and len(original) == len(text) else None
    quote = 0  # the current quotation's number, 0 outside
    quotes = 0
    for m in _TOKEN_RE.finditer(text):
        start = m.start()
        if start - prev_end > 1 or text[prev_end:start] not in ("", " "):
            gap = text[prev_end:start]
            if not ends.isdisjoint(gap):
                boundary = True
            if "," in gap or ":" in gap:
                comma = True
            for ch in gap if not _QUOTE_CHARS.isdisjoint(gap) else ():
                if ch in _OPEN_QUOTES and not quote:
                    quotes += 1
                    quote = quotes
                elif ch in _CLOSE_QUOTES or (ch in _EITHER_QUOTES and quote):
                    quote = 0
                elif ch in _EITHER_QUOTES:
                    quotes += 1
                    quote = quotes
        prev_end = m.end()
        raw = m.group()
        stripped = raw.strip(_EDGE)
        cap = glued = False
        if caps is not None and stripped:
            lead = len(raw) - len(raw.lstrip(_EDGE))
            cap = caps[start + lead].isupper()
            glued = (
                cap
                and "." in stripped
                and _GLUED_NAME_RE.fullmatch(caps, start + lead, start + lead + len(stripped)) is not None
            )
        if stripped == raw:
            out.append(Token(raw, boundary, comma, dash, cap, quote, glued))
            boundary = comma = dash = False
            if len(raw) == 1:
                run += 1
                spelled = spelled or run >= 3
            else:
                run = 0
            continue
        if not stripped:
            if raw in _DASHES or all(c in "-—–−" for c in raw):
                dash = True
            if not ends.isdisjoint(raw):
                boundary = True
            continue
        initial = cap and len(stripped) == 1 and raw.endswith(".")
        out.append(Token(stripped, boundary, comma, dash, cap, quote, glued, initial))
        boundary = comma = dash = False
        if len(stripped) == 1:
            run += 1
            spelled = spelled or run >= 3
        else:
            run = 0
        tail = raw[len(raw.rstrip(_EDGE)) :]
        if tail == "." and (INITIALS_RE.fullmatch(stripped) or (cap and len(stripped) == 1)):
            pass  # «Петрова Е.Н. не выставила», «Е. Н. Петрова»: the dot of an initial ends no sentence
        elif not ends.isdisjoint(tail):
            boundary = True
        elif "," in tail:
            comma = True
        elif tail and tail[-1] in "-—–":
            dash = True
    return _join_spelled_out(out) if spelled else out


def comma_after(toks: list[Token], i: int) -> bool:
    """A comma, a sentence end or the end of the message follows token ``i`` (for vocatives)."""
    return i + 1 >= len(toks) or toks[i + 1].sentence_start or toks[i + 1].comma_before


def _join_spelled_out(toks: list[Token]) -> list[Token]:
    """``х у й`` / ``f u c k``: runs of >= 3 one-character tokens become one token.

    After its first letter (which may differ: «М у д а к») a run breaks between initials (a capital
    and a dot, known only with the cased text) and other letters: «Спасибо Х. У. и У. Х.» is
    initials and a conjunction, not a word spelled out; «Х. У. Й.», «Х у Й» and «х у й» are.
    """
    out: list[Token] = []
    i = 0
    n = len(toks)
    while i < n:
        j = i
        kind = toks[i + 1].initial if i + 1 < n else False  # the first letter may differ: «М у д а к»
        while j < n and len(toks[j].text) == 1 and (j == i or toks[j].initial == kind):
            j += 1
        if j - i >= 3:
            first = toks[i]
            joined = SPELLED + "".join(t.text for t in toks[i:j])
            out.append(Token(joined, first.sentence_start, first.comma_before, first.dash_before,
                             first.cap, first.quote))
            i = j
        else:
            out.append(toks[i])
            i += 1
    return out


# --------------------------------------------------------------------------- candidates


# Marks a token joined from letters spelled out one by one; its first one or two letters may be
# ordinary one-letter words («и е б л а н ы»), so the matcher also tries the shorter tails.
SPELLED = "\x01"


class Form(IntEnum):
    """What kind of string a candidate is."""

    CYR = 0  # collapsed Cyrillic word
    CYR_MASKED = 1  # Cyrillic with '*' wildcards (letters collapsed, stars kept)
    LAT = 2  # Latin word after English leet mapping (not collapsed)
    LAT_MASKED = 3


def is_plain_cyrillic(token: str) -> bool:
    return _CYR_WORD_RE.fullmatch(token) is not None


def _mask_variants(word: str, stretch: bool = True) -> list[str]:
    """A run of k stars may stand for k-1..k+1 letters; at most two runs are expanded."""
    runs = list(_MASK_RUN_RE.finditer(word))
    if not runs or len(runs) > 2:
        return []
    if not stretch:
        return [word]
    variants = [""]
    pos = 0
    for r in runs:
        k = len(r.group())
        if k > 4:
            return []
        lengths = sorted({max(1, k - 1), k, k + 1})
        head = word[pos : r.start()]
        variants = [v + head + "*" * ln for v in variants for ln in lengths]
        pos = r.end()
    tail = word[pos:]
    return [v + tail for v in variants]


def _letters(word: str) -> int:
    return sum(1 for c in word if c.isalpha())


def candidates(token: str, translit_allow: frozenset[str] = frozenset()) -> list[tuple[Form, str]]:
    """All the word forms to match for one (non plain-Cyrillic) token.

    ``translit_allow``: Latin words never read as Russian transliteration (``hue``, ``ebay``).
    Identifiers (logins with ``_`` or digit runs) are not read as transliteration either.
    """
    if _URLISH_RE.search(token):
        return []
    identifier = "_" in token or _DIGIT_RUN_RE.search(token) is not None
    token = _DOTS_INSIDE_RE.sub(lambda m: "*" * max(1, len(m.group()) - 1), token)
    pieces: list[tuple[str, bool]] = []  # (piece, may a run of stars stand for more or fewer letters)
    parts = [p for p in _SEP_SPLIT_RE.split(token) if p]
    if len(parts) > 1:
        pieces.extend((p, True) for p in parts)
        pieces.append(("".join(parts), True))
        seps = [c for c in token if c in _SEPARATORS]
        if len(seps) == 1 and min(len(p) for p in parts) <= 2 and len(token) <= 9:
            # "х.й", "п-зда", "бл-ть": a lone separator next to a short piece may be one masked letter
            pieces.append((_SEP_SPLIT_RE.sub("*", token), False))
    else:
        pieces.append((token, True))
    out: list[tuple[Form, str]] = []
    seen: set[tuple[Form, str]] = set()

    def add(form: Form, s: str) -> None:
        if s and (form, s) not in seen:
            seen.add((form, s))
            out.append((form, s))

    for piece, stretch in pieces:
        if _HAS_CYR_RE.search(piece):
            masked = piece.translate(_MASK_TABLE)
            for table in (_VISUAL_TABLE, _PHONETIC_TABLE):
                _add_cyr(masked.translate(table), stretch, add)
        elif _HAS_LAT_RE.search(piece):
            if "!" in piece[1:-1] or "$" in piece or "@" in piece or any(c.isdigit() for c in piece):
                lat = piece.translate(_EN_LEET_TABLE)
            else:
                lat = piece
            lat_masked = lat.translate(_MASK_TABLE)
            if "*" in lat_masked:
                stripped = lat_masked.strip("*")
                if _letters(stripped) >= 2 and stripped.count("*") <= _letters(stripped):
                    for v in _mask_variants(stripped, stretch):
                        add(Form.LAT_MASKED, v)
            else:
                add(Form.LAT, lat)
                if lat.isalpha() and lat.isascii() and not identifier and lat not in translit_allow:
                    add(Form.CYR, collapse(translit(lat)))
                    if all(c in _HOMOGLYPH_LATIN for c in lat):
                        add(Form.CYR, collapse(lat.translate(_HOMOGLYPH_TABLE)))
    return out


def _add_cyr(mapped: str, stretch: bool, add: Callable[[Form, str], None]) -> None:
    if "*" in mapped:
        stripped = mapped.strip("*")
        letters = _letters(stripped)
        if letters >= 2 and stripped.count("*") <= letters + 1 and _HAS_CYR_RE.search(stripped):
            collapsed = _COLLAPSE_LETTERS_RE.sub(r"\1", stripped)
            for v in _mask_variants(collapsed, stretch):
                add(Form.CYR_MASKED, v)
            if "*" not in collapsed:
                add(Form.CYR, collapse(collapsed))
        return
    if _HAS_CYR_RE.search(mapped) and not _HAS_LAT_RE.search(mapped):
        add(Form.CYR, collapse(mapped))
