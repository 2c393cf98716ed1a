"""Matching normalised tokens against the lexicon, and the insult context rule."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from . import lexicon as lx
from .normalize import (
    SPELLED,
    Form,
    Token,
    basic,
    candidates,
    collapse,
    comma_after,
    is_plain_cyrillic,
    tokens,
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


def scan(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Return (obscene, insult, english, all-in-order) offending fragments of a message."""
    toks = tokens(basic(text))
    words = [analyse(t.text) for t in toks]
    obscene: list[str] = []
    insult: list[str] = []
    english: list[str] = []
    ordered: list[str] = []
    has_trigger = False
    for i, (tok, w) in enumerate(zip(toks, words, strict=True)):
        has_trigger = has_trigger or w.trigger
        shown = tok.text.lstrip(SPELLED)
        hit = False
        if w.obscene:
            obscene.append(shown)
            hit = True
        if w.english:
            english.append(shown)
            hit = True
        if w.strong and not _reported(i, words):
            insult.append(shown)
            hit = True
        elif (w.weak_adj or w.weak_noun) and not w.strong and _aimed_at_person(i, toks, words):
            insult.append(shown)
            hit = True
        if hit and shown not in ordered:
            ordered.append(shown)
    if has_trigger:
        line = " ".join(
            ("| " if t.sentence_start and k else "") + w.key
            for k, (t, w) in enumerate(zip(toks, words, strict=True))
        )
        m = lx.PHRASE_INSULT_RE.search(line)
        if m is not None:
            phrase = m.group().strip("| ")
            insult.append(phrase)
            if phrase not in ordered:
                ordered.append(phrase)
    return obscene, insult, english, ordered
