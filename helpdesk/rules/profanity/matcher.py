"""Matching normalised tokens against the lexicon: the insult context rule, names, reported speech.

:func:`scan` reads a message in two passes. The first tokenises the lower-cased text and looks each
word up; a message with no hit and no phrase trigger (most messages) stops there. Otherwise the
text is tokenised again with its capitals, which show names (:mod:`.names`), initials and titles,
and every hit is weighed: a name, a title, a school-subject term or someone else's reported words
are not the user's violation (the rules are in the package docstring).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from . import lexicon as lx
from .names import EN_NAME_WORDS, FIRST_NAMES, NAME, NAME_WORDS, NOT_NAME, names, surname_shaped
from .normalize import (
    INITIALS_RE,
    SPELLED,
    Form,
    Token,
    basic,
    candidates,
    cased,
    collapse,
    comma_after,
    is_plain_cyrillic,
    tokens,
    translit,
)

_PHRASE_TRIGGERS: frozenset[str] = frozenset(
    collapse(w)
    for w in (
        "пошел",
        "пошла",
        "пошли",
        "пошёл",
        "иди",
        "идите",
        "закрой",
        "закройте",
        "заткни",
        "заткните",
        "завали",
        "завалите",
        "захлопни",
        "захлопните",
        "вон",
        "катись",
        "катитесь",
        "сам",
        "сама",
        "сами",
        "shut",
        "get",
        "screw",
        "piss",
        "go",
    )
)


class Word(NamedTuple):
    """What the lexicon says about one token (context-free)."""

    key: str  # the main normalised form (used for phrases)
    obscene: bool = False
    english: bool = False
    strong: bool = False  # insult whatever the context
    weak_adj: bool = False  # insult when aimed at a person
    weak_noun: bool = False
    pron2: bool = False
    person: bool = False
    filler: bool = False
    reporting: bool = False
    trigger: bool = False
    content: bool = True

    @property
    def insulting(self) -> bool:
        return self.strong or self.weak_adj or self.weak_noun


def _masked_hit(patterns: tuple[re.Pattern[str], ...], word: str) -> bool:
    """A wildcard match counts only if real letters outnumber the stars it relies on.

    ``учитель**предметник`` must not match ``ж*п`` through ``**п``: the matched span needs two real
    letters unless it starts the word (``б**ть`` matches ``^бля`` through ``б**``).
    """
    stars = word.count("*")
    if stars >= len(word) - stars:
        return False
    for pattern in patterns:
        m = pattern.search(word)
        if m is None:
            continue
        span = m.group()
        if m.start() == 0 or len(span) - span.count("*") >= 2:
            return True
    return False


def _obscene_cyr(word: str) -> bool:
    if lx.OBSCENE_RE.search(word) is None:
        return False
    return not (word in lx.OBSCENE_ALLOW_EXACT or lx.OBSCENE_ALLOW_RE.match(word))


@lru_cache(maxsize=1 << 16)
def analyse(token: str) -> Word:
    """Classify one token (cached: help-desk messages reuse the same words all the time)."""
    if token.startswith(SPELLED):
        letters = token[1:]
        parts = [_analyse(letters[k:]) for k in range(3) if len(letters) - k >= 3]
        return Word(
            key=letters,
            obscene=any(p.obscene for p in parts),
            english=any(p.english for p in parts),
            strong=any(p.strong for p in parts),
        )
    return _analyse(token)


def _analyse(token: str) -> Word:
    if is_plain_cyrillic(token):
        w = collapse(token)
        return Word(
            key=w,
            obscene=_obscene_cyr(w),
            strong=w in lx.STRONG_RU,
            weak_adj=w in lx.WEAK_ADJ_RU,
            weak_noun=w in lx.WEAK_NOUN_RU,
            pron2=w in lx.PRON2,
            person=w in lx.PERSON,
            filler=w in lx.FILLER,
            reporting=w in lx.REPORTING,
            trigger=w in _PHRASE_TRIGGERS,
        )
    cands = candidates(token, lx.TRANSLIT_ALLOW)
    if not cands:
        return Word(key=token, content=False)
    key = ""
    obscene = english = strong = weak_adj = weak_noun = pron2 = person = filler = reporting = False
    trigger = False
    for form, s in cands:
        if form is Form.CYR:
            key = key or s
            obscene = obscene or _obscene_cyr(s)
            strong = strong or s in lx.STRONG_RU
            weak_adj = weak_adj or s in lx.WEAK_ADJ_RU
            weak_noun = weak_noun or s in lx.WEAK_NOUN_RU
            pron2 = pron2 or s in lx.PRON2
            person = person or s in lx.PERSON
            filler = filler or s in lx.FILLER
            reporting = reporting or s in lx.REPORTING
            trigger = trigger or s in _PHRASE_TRIGGERS
        elif form is Form.CYR_MASKED:
            obscene = obscene or _masked_hit(lx.OBSCENE_MASKED, s)
            strong = strong or lx.STRONG_MASKED_RE.match(s) is not None
        elif form is Form.LAT:
            c = collapse(s)
            key = key or c
            english = english or lx.ENGLISH_RE.search(s) is not None
            strong = strong or c in lx.STRONG_EN
            weak_adj = weak_adj or c in lx.WEAK_ADJ_EN
            weak_noun = weak_noun or c in lx.WEAK_NOUN_EN
            pron2 = pron2 or c in lx.PRON2
            person = person or c in lx.PERSON
            filler = filler or c in lx.FILLER
            trigger = trigger or c in _PHRASE_TRIGGERS
        else:  # Form.LAT_MASKED
            english = english or _masked_hit(lx.ENGLISH_MASKED, s)
            strong = strong or lx.STRONG_MASKED_RE.match(s) is not None
    return Word(
        key=key or token,
        obscene=obscene,
        english=english,
        strong=strong,
        weak_adj=weak_adj,
        weak_noun=weak_noun,
        pron2=pron2,
        person=person,
        filler=filler,
        reporting=reporting,
        trigger=trigger,
    )


def _reported(i: int, words: list[Word]) -> bool:
    """«обзывают дебилом», «слово "идиот"», роман «Идиот»: reported speech, not aimed at the reader."""
    return any(words[j].reporting for j in range(max(0, i - 4), i))


def _aimed_at_person(i: int, toks: list[Token], words: list[Word]) -> bool:
    """The context rule for weak insults (тупой, козёл ...): see the package docstring."""
    n = len(toks)
    word = words[i]
    tok = toks[i]
    if word.weak_adj and not word.weak_noun and i + 1 < n:
        nxt_tok = toks[i + 1]
        nxt = words[i + 1]
        if (
            not nxt_tok.sentence_start
            and not nxt_tok.comma_before
            and nxt.content
            and not (nxt.filler or nxt.pron2 or nxt.person or nxt.insulting)
        ):
            return False  # attributive to a thing: «тупой вопрос», «глупые правила»
    # backwards: skipping fillers and other insults, the first word is "you" or a person noun
    j = i - 1
    steps = 0
    while j >= 0 and steps < 5 and not toks[j + 1].sentence_start:
        w = words[j]
        if w.pron2 or w.person:
            return True
        if not (w.filler or w.insulting):
            break
        j -= 1
        steps += 1
    # copula after a dash: «учительница истории — тупая овца»
    if tok.dash_before or (i > 0 and words[i - 1].insulting and toks[i - 1].dash_before):
        start = i if tok.dash_before else i - 1
        for j in range(max(0, start - 3), start):
            if words[j].pron2 or words[j].person:
                return True
    # forwards: «тупая училка», «тупые вы», «козёл ты»
    j = i + 1
    steps = 0
    while j < n and steps < 3 and not toks[j].sentence_start and not toks[j].comma_before:
        w = words[j]
        if w.pron2 or w.person:
            return True
        if not (w.filler or w.insulting):
            break
        j += 1
        steps += 1
    # vocative: «Козёл!», «Баран, ...» at the start of a sentence
    return word.weak_noun and tok.sentence_start and comma_after(toks, i)


def _you_in_sentence(start: int, q: int, toks: list[Token], words: list[Word]) -> bool:
    """A second-person pronoun outside quotation ``q`` in the sentence where it opens."""
    first = start
    while first > 0 and not toks[first].sentence_start:
        first -= 1
    last = start + 1
    while last < len(toks) and not toks[last].sentence_start:
        last += 1
    return any(words[k].pron2 and toks[k].quote != q for k in range(first, last))


def _framed_quotes(toks: list[Token], words: list[Word]) -> tuple[set[int], set[int]]:
    """Quotations that are someone else's words: (reported speech, titles). See the package docstring."""
    starts: dict[int, int] = {}
    lengths: dict[int, int] = {}
    for i, tok in enumerate(toks):
        if tok.quote:
            starts.setdefault(tok.quote, i)
            lengths[tok.quote] = lengths.get(tok.quote, 0) + 1
    reported: set[int] = set()
    titles: set[int] = set()
    for q, start in starts.items():
        j = start - 1
        steps = 0
        while j >= 0 and steps < 6:
            if toks[j].quote == 0 and words[j].key in lx.QUOTE_FRAMES:
                own = any(words[k].key in lx.FIRST_PERSON for k in range(max(0, j - 3), j))
                if not own:
                    reported.add(q)
                break
            if toks[j].sentence_start and j < start:
                break
            j -= 1
            steps += 1
        if lengths[q] <= 4 and toks[start].cap and not _you_in_sentence(start, q, toks, words):
            titles.add(q)  # «Идиот» Достоевского, «Недоросль», «Dura lex, sed lex»; not «Ну вы и «Идиоты»»
    return reported, titles


def _name_called(i: int, toks: list[Token], words: list[Word]) -> bool:
    """«одноклассник назвал дочь блядью»: a word up to three words after a name-calling verb."""
    for j in range(max(0, i - 3), i):
        if words[j].key in lx.NAME_CALLING and not any(t.sentence_start for t in toks[j + 1 : i + 1]):
            return not any(words[k].key in lx.FIRST_PERSON for k in range(max(0, j - 3), j))
    return False


def _subject_term(i: int, toks: list[Token], words: list[Word]) -> bool:
    """School-subject words that share a form with an obscene or insulting one."""
    key = words[i].key
    if lx.WOOD_KNOT_RE.match(key) and any(w.key.startswith(lx.WOOD_CUES) for w in words):
        return True  # технология: «пороки древесины — сучки»
    if key == "суку" and i > 0 and words[i - 1].key == "на":
        return True  # «ворона сидит на суку»
    if i + 1 < len(toks) and words[i + 1].key in lx.LATIN_PHRASE_NEXT:
        return True  # «Dura lex, sed lex»
    text = toks[i].text
    if "-" in text and collapse(text.split("-", 1)[0]) in FIRST_NAMES:
        return True  # «Иван-дурак», a fairy-tale hero
    return False


# Initials are never read as words («Е.Б.», «Х.Е.» are not masked obscenities); they show a person.
_INITIALS_WORD = Word(key="", person=True)


_GLUED_RE = re.compile(r"(?:[а-яa-z]\.){1,2}([а-яa-z]{2,})")  # «Е.Н.Петрова», «А.Сафина»


@lru_cache(maxsize=1 << 16)
def _word(text: str, named: bool, glued_name: bool = False) -> Word:
    """:func:`analyse`, knowing initials and names (cached like it)."""
    if INITIALS_RE.fullmatch(text):
        return _INITIALS_WORD
    glued = _GLUED_RE.fullmatch(text) if "." in text else None
    if glued is not None:
        # Initials glued to a surname: «Е.Н.Петрова» written with capitals, or any surname-shaped word
        # («е.б.кузнецовой»); the surname alone is read. Not «е.б.ать», «х.у.евый», «Е.Н.Сука».
        surname = glued.group(1)
        shaped = len(surname) >= 4 and surname_shaped(surname)
        if glued_name or shaped:
            w = analyse(surname)
            return Word(key=w.key, obscene=w.obscene and not shaped, english=w.english, person=True)
    w = analyse(text)
    return w._replace(person=True) if named else w


def _name_exempt(tok: Token, strength: int) -> tuple[bool, bool, bool]:
    """What a token in a name's position is exempt from: (obscene, insult, english).

    Insults: always. Obscene roots: only a surname-shaped word of at least four letters, and in
    Cyrillic only with the stronger evidence (:data:`.names.NAME`): «кучка Мудаков» is not a name.
    """
    text = tok.text
    if text.isascii():
        parts = text.split("-")
        shaped = text.isalpha() and surname_shaped(collapse(translit(text)))
        return shaped, True, any(p in EN_NAME_WORDS for p in parts) and "head" not in parts
    shaped = strength == NAME and len(text) >= 4 and surname_shaped(text)
    return shaped or text in NAME_WORDS, True, False


def scan(text: str) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Return (obscene, insult, english, all-in-order, reported) offending fragments of a message.

    ``reported`` are the fragments that were not counted: someone else's words in a framed
    quotation or after a name-calling verb.
    """
    low = basic(text)
    toks = tokens(low)
    words = [analyse(t.text) for t in toks]  # initials («е.н» may read as a masked word) are sorted out below
    if not any(w.obscene or w.english or w.strong or w.weak_adj or w.weak_noun for w in words):
        if not any(w.trigger for w in words):
            return [], [], [], [], []  # most messages: nothing to find, nothing to exempt
        is_name = [NOT_NAME] * len(toks)
    else:  # capitals matter only now: names, titles, initials
        toks = tokens(low, cased(text))
        is_name = names(toks)
        words = [_word(t.text, named != NOT_NAME, t.glued_name) for t, named in zip(toks, is_name, strict=True)]
    quoted, titles = _framed_quotes(toks, words) if any(t.quote for t in toks) else (set(), set())
    obscene: list[str] = []
    insult: list[str] = []
    english: list[str] = []
    ordered: list[str] = []
    reported: list[str] = []
    skip: list[bool] = []  # tokens left out of the phrase line (reported speech)
    has_trigger = False
    for i, (tok, w) in enumerate(zip(toks, words, strict=True)):
        shown = tok.text.lstrip(SPELLED)
        in_report = tok.quote in quoted
        skip.append(in_report)
        if not in_report:
            has_trigger = has_trigger or w.trigger
        if not (w.obscene or w.english or w.strong or w.weak_adj or w.weak_noun):
            continue
        if tok.text in NAME_WORDS or _subject_term(i, toks, words):
            continue
        no_obscene = no_insult = no_english = False
        if is_name[i]:
            no_obscene, no_insult, no_english = _name_exempt(tok, is_name[i])
        if tok.quote in titles:
            no_insult = True
        if w.english and i > 0 and words[i - 1].key == "spoted":
            no_english = True  # «spotted dick», a pudding
        is_obscene = w.obscene and not no_obscene
        is_english = w.english and not no_english
        is_insult = said = False  # said: a strong insult after a reporting word («обзывают дебилом»)
        if w.strong and not no_insult:
            is_insult = True
            said = _reported(i, words)
        elif (w.weak_adj or w.weak_noun) and not no_insult:
            is_insult = _aimed_at_person(i, toks, words)
        if not (is_obscene or is_english or is_insult):
            continue
        if (
            in_report
            or (said and not is_obscene and not is_english)
            or (is_obscene and _name_called(i, toks, words))
        ):
            if shown not in reported:
                reported.append(shown)
            continue
        for hit, bucket in ((is_obscene, obscene), (is_english, english), (is_insult, insult)):
            if hit:
                bucket.append(shown)
        if shown not in ordered:
            ordered.append(shown)
    if has_trigger:
        line = " ".join(
            ("| " if t.sentence_start and k else "") + ("|" if skip[k] else w.key)
            for k, (t, w) in enumerate(zip(toks, words, strict=True))
        )
        m = lx.PHRASE_INSULT_RE.search(line)
        if m is not None:
            phrase = m.group().strip("| ")
            insult.append(phrase)
            if phrase not in ordered:
                ordered.append(phrase)
    return obscene, insult, english, ordered, reported
