"""Proper names in a message: people's names with initials, surnames, English names.

Parents and teachers name people all the time («Учитель Петрова Е.Н. не выставила оценки»,
«1. Дураков Артём», «С уважением, Сукина Е.Б.»), and some real names look like insults or
obscene words. A token is a *name* when it is written with a capital letter and

* stands next to an initial (``Е.Н.``, ``Е.``), a first name or a patronymic, in the same sentence:
  «Дураков Артём», «Сукин Олег Николаевич», «Е.Н. Херова»; or
* has the shape of a surname (``-ов, -ев, -ин, -ын, -ский`` ... with case endings) and stands
  after a word that introduces a name («ученик Дураков», «фамилия Сукина») or inside a sentence,
  not at its start («Петя Дураков и Саша Сукин», «написали Дураков вместо Дуряков»); or
* is Latin and stands next to another capitalised Latin word or an initial, or inside a sentence
  («Moby Dick», «Philip K. Dick», «Dick Francis», «про Dick and Jane»).

What a name exempts (see :func:`helpdesk.rules.profanity.matcher.scan`): insults always; obscene
roots only when the word has a surname's shape («Сукин Олег», «Херова Анна» pass; «Сука Анна»,
«Пиздец Иван» do not); English profanity only for the few English names in
:data:`EN_NAME_WORDS` («Dick»).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .normalize import INITIALS_RE, Token, collapse

_FIRST_NAMES_RU = (
    # the names of children and parents in Russian schools, with the short forms parents write
    "александр алексей анатолий андрей антон аркадий арсений артем артур богдан борис вадим валентин"
    " валерий василий виктор виталий владимир владислав всеволод вячеслав геннадий георгий герман глеб"
    " григорий давид даниил данила денис дмитрий евгений егор емельян ефим захар иван игнат игорь илья"
    " кирилл константин лев леонид макар максим марк матвей михаил назар никита николай олег павел петр"
    " платон прохор роберт родион роман руслан савелий святослав семен сергей станислав степан тимофей"
    " тимур федор филипп эдуард юрий ян ярослав рустам ринат марат ильдар айдар тагир вальтер"
    " саша сашка петя ваня миша дима коля вова володя леша алеша сережа женя паша гоша гриша костя федя"
    " тема витя толя слава стас макс егорка"
    " александра алена алина алиса алла анастасия ангелина анна антонина арина валентина валерия варвара"
    " василиса вера вероника виктория галина дарья диана ева евгения екатерина елена елизавета жанна зинаида"
    " злата зоя инна ирина карина кира кристина ксения лариса лидия лилия любовь людмила майя маргарита"
    " марина мария милана мирослава надежда наталья нина оксана ольга полина раиса регина светлана"
    " серафима снежана софия софья таисия тамара татьяна ульяна эвелина элина юлия яна ярослава айгуль"
    " гульнара лейла"
    " аня маша даша катя лена наташа оля таня настя юля соня вика ксюша люба надя галя света тоня варя"
)
_FIRST_NAME_ENDINGS = ("", "а", "у", "ом", "е", "ы", "ой", "ю", "я", "и", "ей")
FIRST_NAMES: frozenset[str] = frozenset(
    collapse(stem + e)
    for name in _FIRST_NAMES_RU.split()
    for stem in {name, name[:-1] if name[-1] in "аяьйо" else name}
    for e in _FIRST_NAME_ENDINGS
)
PATRONYMIC_RE = re.compile(r"(?:ович|евич|ьич|овн|евн|ичн|инич)[а-я]{0,3}$")
# -ов/-ев/-ин/-ын (Дураков, Сукина, Тупицыну), -ский/-цкая, -енко, -ук, -ер, -дзе ... with case endings.
SURNAME_RE = re.compile(
    r"(?:[оеё]в|[иы]н)(?:а|у|ой|ым|ом|е|ых|ы|ым|ыми)?$"
    r"|(?:ск|цк)(?:ий|ая|ого|ой|ому|ую|им|ие|их)$"
    r"|(?:енко|ук|юк|ер|ман|дзе|швили|ян)$"  # Latin names are checked through their transliteration
)
# Words that introduce a name: «ученик Дураков», «фамилия Сукина», «Mr Dick».
NAME_TITLES: frozenset[str] = frozenset(
    collapse(w)
    for w in (
        "ученик", "ученика", "ученику", "учеником", "ученица", "ученицы", "ученице", "ученицу",
        "учитель", "учителя", "учителю", "учительница", "учительницы", "учительнице", "учительницу",
        "фамилия", "фамилию", "фамилией", "фамилии", "господин", "госпожа", "гражданин", "гражданка",
        "товарищ", "мальчик", "девочка", "сын", "сына", "дочь", "дочери", "семья", "семьи", "мама",
        "мамы", "папа", "папы", "отец", "мать", "автор", "писатель", "режиссер", "mr", "mrs", "ms",
        "miss", "dr", "sir", "lady", "lord",
    )
)
# Proper names that are not words, though they collapse into one («Скотт» is not «скот»).
NAME_WORDS: frozenset[str] = frozenset(("скотт", "скотта", "скотту", "скоттом", "скотте"))
# English names that are also English profanity: exempt only in a name's position.
EN_NAME_WORDS: frozenset[str] = frozenset(("dick",))
_LATIN_RE = re.compile(r"[a-z]+(?:-[a-z]+)?")


# How sure we are that a token is a name.
NOT_NAME = 0
LIKELY = 1  # a surname-shaped capitalised word inside a sentence: exempt from insults only
NAME = 2  # beside an initial, a first name, a patronymic or a word introducing a name


def is_initial(tok: Token) -> bool:
    return INITIALS_RE.fullmatch(tok.text) is not None or (
        tok.cap and len(tok.text) == 1 and tok.text.isalpha()
    )


def surname_shaped(word: str) -> bool:
    return SURNAME_RE.search(word) is not None


@lru_cache(maxsize=1 << 14)
def _given_name(text: str) -> bool:
    """A first name or a patronymic (the token is capitalised)."""
    return collapse(text) in FIRST_NAMES or PATRONYMIC_RE.search(text) is not None


@lru_cache(maxsize=1 << 14)
def _title(text: str) -> bool:
    return collapse(text) in NAME_TITLES


def _marker(tok: Token) -> bool:
    """An initial, a first name or a patronymic: what shows that its neighbour is a name."""
    return is_initial(tok) or (tok.cap and _given_name(tok.text))


def _latin(tok: Token) -> bool:
    return _LATIN_RE.fullmatch(tok.text) is not None


def names(toks: list[Token]) -> list[int]:
    """For each token: :data:`NAME`, :data:`LIKELY` or :data:`NOT_NAME`. See the module docstring."""
    n = len(toks)
    out = [NOT_NAME] * n
    for i, tok in enumerate(toks):
        if not tok.cap or is_initial(tok) or _title(tok.text):
            continue
        prev_ok = i > 0 and not tok.sentence_start
        next_ok = i + 1 < n and not toks[i + 1].sentence_start
        if (prev_ok and _marker(toks[i - 1])) or (next_ok and _marker(toks[i + 1])):
            out[i] = NAME
            continue
        if _latin(tok):
            if "-" in tok.text or (next_ok and toks[i + 1].cap and _latin(toks[i + 1])):
                out[i] = NAME  # «Moby-Dick», «King-Smith», «Dick Francis»
            elif not tok.sentence_start:
                out[i] = LIKELY if not (i > 0 and _title(toks[i - 1].text)) else NAME
            continue
        if surname_shaped(tok.text):
            if i > 0 and _title(toks[i - 1].text):
                out[i] = NAME  # «ученик Дураков», «фамилия Сукина»
            elif not tok.sentence_start:
                out[i] = LIKELY  # «Петя Дураков и Саша Сукин» (Петя makes Дураков a NAME already)
    return out
