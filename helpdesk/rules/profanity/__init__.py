"""The conduct filter: obscene language, insults and English profanity in chat messages.

The school's regulation asks for polite communication without insults or obscene language. The bot
runs :func:`classify` on every user message and on every specialist's reply. Pure Python, no I/O:
the lexicon is compiled at import time, per-token results are cached (LRU, 65 536 tokens).

>>> classify("Не могу войти в электронный дневник, пароль не подходит").violation
False
>>> v = classify("х.у.й")
>>> (v.violation, v.category, v.matches)
(True, <Category.OBSCENE: 'obscene'>, ('х.у.й',))

``Verdict.matches`` lists the offending fragments in text order, as normalised by the filter
(lower case, invisible characters removed, edge punctuation stripped); phrases such as
«пошёл вон» appear as one item.

Decisions (also in ``benchmarks/README-profanity.md``):

* **Category priority**: ``obscene > insult > english``. A message with мат and an insult is
  *obscene*; «you idiot» is an *insult* (an insult in English is still an insult); *english* is
  only for English profanity (fuck, shit, bitch, wtf ...).
* **What counts as obscene**: Russian мат (хуй, пизда, ебать, блядь, and their derivatives with
  prefixes and suffixes) plus the rude words that cannot be said politely in a school chat: сука,
  мудак, манда, пидор/педик, залупа (including «залупаться»), шлюха, гандон, дрочить, херня/нахер/похер,
  говно, дерьмо, жопа, срать. Transliterations (``pizda``, ``nahuy``, ``blyat``, ``suka``) are obscene
  too. **Not** flagged: euphemisms and mild words — «блин», «бляха(-муха)», «хрен», «фиг», «чёрт»,
  «ёпрст», bare «хер» (also the old name of the letter Х), «трахать»; the city nickname «Ебург»/«Ебургер».
* **Quoting** (issue 14): someone else's words that the user reports are not the user's violation.
  A quotation in «…», "…", „…“ is *reported speech* when a reporting word stands before it in the
  same sentence (up to six words back): a verb of saying, writing or naming (назвал, сказал,
  написал, пишут, кричали, прислал, получила …) or a noun for an utterance or a work (слово,
  сообщение, надпись, тема, цитата, роман, басня …) — unless the reporter is the user
  («я/мы сказали …» within three words before the verb). Without quotation marks only name-calling
  counts as a report («одноклассник назвал дочь блядью», «сына обзывают дебилом»). Everything
  outside the report is judged as usual («сына назвали «дебилом», а вам похуй» is obscene), and so
  are quotations the user addresses through the reader («Передайте учителю: «вы мудак»»,
  «Скажу вам прямо: «…»»). The message then reaches staff as written, because a bullying report
  needs the exact words; ``Verdict.reported`` lists the fragments that were not counted.
* **Names are not insults** (issue 14, :mod:`.names`): initials («Е.Н.», «Х.Е.», «е. б.») are never
  read as words; a capitalised word beside an initial, a first name or a patronymic, or a
  surname-shaped word inside a sentence or after «ученик/фамилия …», is a name and never an
  insult; it is obscene only if it does not have a surname's shape («Сукин Олег» passes,
  «Сука Анна» does not). A short capitalised quotation in a sentence without ты/вы is a title («Идиот», «Дура»); «Dick» in a
  name's position (Moby Dick, Philip K. Dick) is a name. School-subject terms: «сучки» in a
  message about wood, «на суку», «Dura lex», «Иван-дурак».
* **Insult context rule**: *strong* insults (идиот, дебил, кретин, придурок, урод, тварь, дура,
  бестолочь, тупица, бездари, «заткнись», «пошёл вон» ...) are violations wherever they stand.
  *Weak* words (тупой, глупый, бездарный, криворукий; козёл, баран, свинья, клоун ...) are insults
  only when aimed at a person: looking back from the word over fillers («что, совсем, там, все, же,
  у нас, такой ...») the first word is a second-person pronoun (ты, вы, тебя, вас ...) or a person
  noun (учитель, училка, директор, админ, сотрудники, люди ...); or looking forward the same
  («тупая училка», «тупые вы»); or a weak noun starts the sentence as an address («Козёл, ...»).
  An adjective directly followed by a non-person noun modifies a thing and never counts
  («тупой вопрос», «у вас тупая система», «карандаш тупой»). First person is self-talk («я тупая,
  не могу найти») and never counts. Criticism of things or of competence without name-calling
  («некомпетентный», «бред», «идиотизм») is not an insult.
* **English**: fuck (and forms, f*ck, fck), shit, bitch, asshole, cunt, dick (not Dickens), bastard,
  motherfucker, whore, slut, wanker, twat, wtf and stfu (they spell out «fuck») are *english*;
  damn, crap, hell, piss are mild and pass. «you idiot/moron/stupid», «shut up» are *insult*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .matcher import scan

__all__ = ["Category", "Verdict", "classify"]


class Category(StrEnum):
    OBSCENE = "obscene"
    INSULT = "insult"
    ENGLISH = "english"


@dataclass(frozen=True, slots=True)
class Verdict:
    violation: bool
    category: Category | None
    matches: tuple[str, ...]
    # Words found in someone else's reported speech and not counted (see «Quoting» above): the message
    # goes through; an adapter may mark it for staff.
    reported: tuple[str, ...] = ()


_CLEAN = Verdict(False, None, ())


def classify(text: str) -> Verdict:
    """Check one message. Pure and deterministic; safe to call from any thread."""
    if not text or text.isspace():
        return _CLEAN
    obscene, insult, english, ordered, reported = scan(text)
    if obscene:
        category = Category.OBSCENE
    elif insult:
        category = Category.INSULT
    elif english:
        category = Category.ENGLISH
    else:
        return Verdict(False, None, (), tuple(reported)) if reported else _CLEAN
    return Verdict(True, category, tuple(ordered), tuple(reported))
