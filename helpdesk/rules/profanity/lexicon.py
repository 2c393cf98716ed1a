"""The conduct filter's lexicon: obscene roots, insults, English profanity, context words.

Obscene patterns are regexes over one *collapsed* Cyrillic word (lower case, ``ё→е``, every run of a
repeated letter reduced to one, so no pattern below contains a doubled letter). Roots that occur
inside ordinary words are anchored: ``еб`` only at the start of a word or right after a verbal
prefix (``за-, вы-, до-, на-, от(ъ)-, по-, раз(ъ)-, у-, съ-, подъ-`` ...), so ``учебник, тебя,
хлеба, ребёнок, себе, погреб`` pass; ``ху[йеяию]`` likewise (``страхуй, психуй, плохую``
pass); ``бля`` only at the start (``рубля, оскорблять, гребля, сабля`` pass); ``сука``/``манда``
only as whole words with their endings (``сукно, суккулент, мандарин, мандат, команда`` pass).

Word lists are written in natural spelling and collapsed at import time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .normalize import collapse

# --------------------------------------------------------------------------- obscene (Russian)

_PFX = r"(?:на|по|о|а|об|обо|от|ото|за|вы|до|ни|не|рас|раз|с|у|при|пере|недо|под|вз|вс|из|ис|про|полу)"
_PFX_EB = (
    r"(?:вы|за|до|на|от[ъь]?|ото|по|раз[ъь]?|рас|у|с[ъь]|под[ъь]?|об[ъь]|обо|из[ъь]|вз[ъь]|при|про|недо"
    r"|долбо|мозго|пиздо|хуе|дуро|мудо|за[ъь])"
)

OBSCENE_PATTERNS: tuple[str, ...] = (
    # хуй and family: хуйня, хуёвый, охуеть, нахуя, похуй, нихуя, дохуя, захуярить
    rf"^{_PFX}?ху[йеяию]",
    r"^(?:на|по|ни|до)хер$|^хера$|^(?:о|а)хере|^херн[яеиюо]|^херов|^(?:на|по|за|от|вы)херач|^(?:по|за)хер[иял]",
    r"^хули$",
    # пизда, пиздец, спиздить, распиздяй, пиздёж
    r"п[иеы][зс]д",
    # ебать and family (see module docstring)
    rf"^{_PFX_EB}?(?:е|йо|ье)б(?:а|у|е[тшнм]|и[стшл]|и$|л|н|ы|о[шк]|ь|к|$)",
    # блядь, блять, бля (бляха is mild and allowed; see package docstring)
    r"^(?:вы)?бля(?![хм])",
    r"^блеа[дт]ь?$|^бла[дт]ь$",
    # сука and family (not сукно, сукровица, суккулент, Сукачёв, сучок)
    r"^сук(?:а|и|у|е|ой|ою|ам|ами|ах|ин|ина|ину|ином|ины|иных|иным|ино)$",
    r"^суч(?:ка|ки|ке|ку|кой|кою|ек|ара|ары|аре|ару|арой|ий|онок|ата)$",
    # мудак, мудила, мудозвон
    r"^(?:за)?муд(?:ак|ач|ил|озвон|оеб|ох|л[оа])",
    # манда (not мандарин, мандат, мандолина, мандраж, команда)
    r"^манд(?:а|ы|е|у|ой|ою|ища|ище|ец|еж|юк|ятин[а-я]*)$|^мандавош",
    # пидор, пидарас, педик
    r"^п[иеэ]д[оа]р|пид[оа]рас|пидор|^пидр|^педрил|педераст|^педик(?:и|а|ов|у|ом|ами)?$",
    r"залуп",
    r"^шл[юу]х|^шлюш",
    r"^г[ао]ндон",
    rf"^{_PFX}?дроч",
    # vulgar, not мат in the strict sense, but not polite either
    r"^(?:за|на|о|об|по|из)?г[оа]вн",
    r"^дерьм",
    r"жоп|^рукожап",
    r"^(?:на|по|об|обо|за|вы|рас|про|ис)?сра(?:ть|л|н|к|ч)",
)

# Words the obscene patterns hit that are not violations (checked on the collapsed form).
OBSCENE_ALLOW_PREFIXES: tuple[str, ...] = (
    "ебург",  # Екатеринбург (informal city name), «Ебургер»
    "херсон",
    "херувим",
    "херес",
)
OBSCENE_ALLOW_EXACT: frozenset[str] = frozenset(
    collapse(w)
    for w in (
        "небо",
        "себе",
        "обсыхать",
    )
)

# --------------------------------------------------------------------------- insults (Russian)

_MASC = ("", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах")
_MASC_SOFT = ("ь", "я", "ю", "ем", "е", "и", "ей", "ям", "ями", "ях")
_FEM = ("а", "ы", "е", "у", "ой", "ою", "", "ам", "ами", "ах")
_FEM_K = ("ка", "ки", "ке", "ку", "кой", "ок", "кам", "ками", "ках")
_FEM_SOFT = ("ь", "и", "ью", "ей", "ям", "ями", "ях")


def _forms(stem: str, endings: Iterable[str]) -> list[str]:
    return [stem + e for e in endings]


def _ok_noun(stem_full: str, stem_oblique: str) -> list[str]:
    """придурок / придурк-а: fleeting vowel nouns."""
    return [stem_full, *_forms(stem_oblique, ("а", "у", "ом", "е", "и", "ов", "ам", "ами", "ах"))]


_STRONG_RU: list[str] = [
    *_forms("идиот", _MASC),
    *_forms("идиот", _FEM_K),
    "идиотина",
    "идиотины",
    *_forms("дебил", _MASC),
    *_forms("дебил", _FEM_K),
    "дебилоид",
    "дебилоиды",
    "дебилище",
    "дибил",
    "дибилы",
    "дэбил",
    "дебилы",
    *_forms("кретин", _MASC),
    *_forms("кретин", _FEM_K),
    *_forms("имбецил", _MASC),
    *_forms("дегенерат", _MASC),
    *_forms("олигофрен", _MASC),
    *_ok_noun("придурок", "придурк"),
    "придурочный",
    "придурочная",
    "придурочные",
    "придурошный",
    *_ok_noun("недоумок", "недоумк"),
    *_ok_noun("недоносок", "недоноск"),
    *_ok_noun("ублюдок", "ублюдк"),
    *_ok_noun("выродок", "выродк"),
    *_ok_noun("отморозок", "отморозк"),
    *_ok_noun("подонок", "подонк"),
    *_ok_noun("говнюк", "говнюк"),
    *_forms("тупиц", _FEM),
    *_forms("бестолоч", _FEM_SOFT),
    "бездарь",
    "бездари",
    "бездарей",
    "бездарям",
    "бездарями",
    *_forms("урод", _MASC),
    *_forms("уродин", _FEM),
    "уродец",
    "уродцы",
    *_forms("твар", _FEM_SOFT),
    *_forms("мраз", _FEM_SOFT),
    *_forms("сволоч", _FEM_SOFT),
    "сволота",
    *_forms("скотин", _FEM),
    *_forms("гнид", ("а", "е", "у", "ой", "ою")),
    *_forms("падл", _FEM),
    *_forms("паскуд", _FEM),
    "чмо",
    "чмошник",
    "чмошники",
    "чмошница",
    "быдло",
    "хамло",
    "хамка",
    "шваль",
    "мерзавец",
    "мерзавцы",
    "мерзавка",
    "негодяй",
    "негодяи",
    "негодяйка",
    "засранец",
    "засранцы",
    "засранка",
    "лошара",
    "лошары",
    "нищеброд",
    "нищеброды",
    "тупорылый",
    "тупорылая",
    "тупорылые",
    "тупоголовый",
    "тупоголовая",
    "тупоголовые",
    "безмозглый",
    "безмозглая",
    "безмозглые",
    "безмозглое",
    "конченый",
    "конченая",
    "конченые",
    "конченный",
    "конченная",
    "конченные",
    "долбанутый",
    "долбанутая",
    "долбанутые",
    "дегенераты",
    *_forms("дур", ("а", "ы", "е", "у", "ой", "ою")),
    "дурак",
    "дураки",
    "дураков",
    "дураку",
    "дураком",
    "дурачьё",
    "дурачье",
    "дурачина",
    "дурень",
    "дурни",
    "дурында",
    "идиотки",
    "шизик",
    "шизики",
    "неадекват",
    "неадекваты",
    "тупорылые",
    # rude imperatives
    "заткнись",
    "заткнитесь",
    "заткнулся",
    "заткнулась",
    "заткнулись",
    "отвали",
    "отвалите",
    "отвянь",
    "отвяньте",
    "проваливай",
    "проваливайте",
]
# "дурака/дурачка" are excluded on purpose: «валять дурака», «играть в дурака».

# Insulting only when aimed at a person (see matcher: second person, person noun, vocative).
_WEAK_ADJ_RU: list[str] = [
    "тупой",
    "тупая",
    "тупые",
    "тупое",
    "туп",
    "тупа",
    "тупы",
    "тупенький",
    "тупенькая",
    "глупый",
    "глупая",
    "глупые",
    "глуп",
    "глупа",
    "глупы",
    "бестолковый",
    "бестолковая",
    "бестолковые",
    "бездарный",
    "бездарная",
    "бездарные",
    "криворукий",
    "криворукая",
    "криворукие",
    "тупорукий",
    "тупорукие",
    "неадекватный",
    "неадекватная",
    "неадекватные",
    "ненормальный",
    "ненормальная",
    "ненормальные",
    "тормознутый",
    "тормознутая",
    "тормознутые",
    "чокнутый",
    "чокнутая",
    "чокнутые",
    "безграмотный",
    "безграмотная",
    "безграмотные",
    "убогий",
    "убогая",
    "убогие",
    "жалкий",
    "жалкая",
    "жалкие",
    "мерзкий",
    "мерзкая",
    "мерзкие",
    "поехавший",
    "поехавшая",
    "поехавшие",
    "ущербный",
    "ущербная",
    "ущербные",
]
_WEAK_NOUN_RU: list[str] = [
    "козел",
    "козлы",
    "коза",
    "козлина",
    "баран",
    "бараны",
    "осел",
    "ослы",
    "свинья",
    "свиньи",
    "корова",
    "овца",
    "овцы",
    "курица",
    "дятел",
    "дятлы",
    "обезьяна",
    "обезьяны",
    "клоун",
    "клоуны",
    "шут",
    "тормоз",
    "лох",
    "лохи",
    "лузер",
    "лузеры",
    "неудачник",
    "неудачница",
    "неудачники",
    "даун",
    "дауны",
    "гниды",
    "дрянь",
    "овощ",
    "овощи",
    "истеричка",
    "истерички",
    "психопат",
    "психопатка",
    "психи",
    "псих",
    "животное",
    "животные",
    "скот",
    "неуч",
    "неучи",
    "бездельник",
    "бездельники",
    "хам",
    "хамы",
    "ничтожество",
    "ничтожества",
    "посмешище",
    "позорище",
    "бездарность",
]

# --------------------------------------------------------------------------- context words

PRON2_RU = ("ты", "вы", "тебя", "вас", "тебе", "вам", "тобой", "вами")
PERSON_RU = (
    "учитель",
    "учителя",
    "учителю",
    "учителей",
    "учительница",
    "учительницы",
    "учительницу",
    "училка",
    "училки",
    "училку",
    "училок",
    "преподаватель",
    "преподаватели",
    "преподавательница",
    "препод",
    "преподы",
    "педагог",
    "педагоги",
    "классуха",
    "классная",
    "руководитель",
    "руководительница",
    "руководство",
    "директор",
    "директора",
    "директриса",
    "завуч",
    "завучи",
    "админ",
    "админы",
    "админка",
    "администратор",
    "администраторы",
    "администрация",
    "сотрудник",
    "сотрудники",
    "сотрудница",
    "специалист",
    "специалисты",
    "оператор",
    "операторы",
    "модератор",
    "модераторы",
    "поддержка",
    "техподдержка",
    "люди",
    "человек",
    "мужик",
    "баба",
    "тетка",
    "тетя",
    "дядя",
    "девушка",
    "женщина",
    "мужчина",
    "парень",
    "ученик",
    "ученица",
    "ученики",
    "одноклассник",
    "одноклассники",
    "одноклассница",
    "мальчик",
    "девочка",
    "дети",
    "родители",
    "мамаша",
    "папаша",
    "программисты",
    "программист",
    "разработчики",
    "математичка",
    "русичка",
    "физрук",
    "историк",
    "англичанка",
    "химичка",
    "биологичка",
    "информатик",
    "секретарь",
    "бухгалтер",
    "охранник",
    "вахтер",
    "кураторы",
    "куратор",
    "школьники",
    "мамочки",
    "родительница",
)
FILLER_RU = (
    "что",
    "чё",
    "че",
    "совсем",
    "вообще",
    "там",
    "тут",
    "здесь",
    "все",
    "же",
    "ведь",
    "ли",
    "ль",
    "то",
    "просто",
    "очень",
    "реально",
    "конкретно",
    "полностью",
    "абсолютно",
    "опять",
    "как",
    "какой",
    "какая",
    "какие",
    "такой",
    "такая",
    "такие",
    "такое",
    "настолько",
    "прям",
    "прямо",
    "действительно",
    "правда",
    "и",
    "у",
    "нас",
    "них",
    "вашей",
    "наш",
    "наша",
    "наши",
    "ваш",
    "ваша",
    "ваши",
    "твой",
    "твоя",
    "твои",
    "это",
    "этот",
    "эта",
    "эти",
    "ну",
    "да",
    "бы",
    "ж",
    "еще",
    "уже",
    "чтоли",
    "штоли",
    "вроде",
    "походу",
    "совершенно",
    "окончательно",
    "круглый",
    "круглая",
    "полный",
    "полная",
    "полные",
    "редкостный",
    "редкостная",
    "последний",
    "последняя",
    "натуральный",
    "настоящий",
    "настоящая",
    "самый",
    "самая",
    "самые",
    "законченный",
    "законченная",
    "старый",
    "старая",
    "просто-напросто",
    "они",
    "он",
    "она",
    "оба",
    "обе",
    "сегодня",
    "опять",
    "снова",
    "тоже",
    "такими",
    "был",
    "была",
    "были",
    "будешь",
    "будете",
    "есть",
    "стал",
    "стала",
    "стали",
    "всегда",
    "вечно",
    "или",
    "нет",
    "не",
    "а",
    "ваще",
    "глухой",
    "глухая",
    "глухие",
    "слепой",
    "слепая",
    "слепые",
    "больной",
    "больная",
    "больные",
)
# A strong insult right after these is quoted or reported, not aimed at the reader.
REPORTING_RU = (
    "обзывает",
    "обзывают",
    "обзывал",
    "обзывала",
    "обзывали",
    "обозвал",
    "обозвала",
    "обозвали",
    "обзываться",
    "называет",
    "называют",
    "называл",
    "называла",
    "называли",
    "назвал",
    "назвала",
    "назвали",
    "дразнит",
    "дразнят",
    "дразнили",
    "дразнил",
    "дразнила",
    "слово",
    "словом",
    "слова",
    "роман",
    "романе",
    "романа",
    "книга",
    "книгу",
    "книге",
    "фильм",
    "повесть",
    "произведение",
    "сочинение",
    "мультфильм",
    "пьеса",
    "пьесу",
    "оскорбление",
    "оскорбления",
    "обзывательство",
    "обзывательства",
    "обозвать",
    "назвать",
    "обзывать",
    "словами",
    "обзывательствами",
)

# Reported speech in quotation marks (see the package docstring, «Quoting»): a quotation is someone
# else's words when one of these stands before it in the same sentence.
_QUOTE_FRAMES_RU = (
    # verbs of saying, writing, naming (third person and impersonal: the user quoting themselves
    # — «я написал», «мы сказали» — is excluded by the matcher)
    *_forms("назвал", ("", "а", "и", "о")), "называет", "называют", "называл", "называла", "называли",
    *_forms("обозвал", ("", "а", "и")), "обзывает", "обзывают", "обзывал", "обзывала", "обзывали",
    "дразнит", "дразнят", "дразнил", "дразнила", "дразнили",
    *_forms("сказал", ("", "а", "и", "о")), "говорит", "говорят", "говорил", "говорила", "говорили",
    *_forms("написал", ("", "а", "и", "о")), "написано", "пишет", "пишут", "писал", "писала", "писали",
    "подписал", "подписала", "подписали",
    "кричит", "кричат", "кричал", "кричала", "кричали", "крикнул", "крикнула", "крикнули",
    "прислал", "прислала", "прислали", "отправил", "отправила", "отправили", "ответил", "ответила",
    "ответили", "заявил", "заявила", "обращается", "обращались", "ругается", "ругался", "ругалась",
    "получил", "получила", "получили", "пришло", "пришла", "выкрикивал", "выкрикивали",
    # nouns naming an utterance or a work
    "слово", "словом", "слова", "словами", "сообщение", "сообщения", "сообщением", "надпись",
    "надписью", "надписи", "фраза", "фразу", "фразой", "выражение", "выражением", "цитата", "цитату",
    "цитатой", "пословица", "пословицу", "поговорка", "тема", "тему", "теме", "темой", "название",
    "названием", "комментарий", "комментарии", "голосовое", "голосовым", "смс", "записка", "записку",
    "прозвище", "кличка", "кличку", "оскорбление", "оскорбления",
    *_forms("роман", _MASC), *_forms("рассказ", _MASC), *_forms("фильм", _MASC), *_forms("спектакл", _MASC_SOFT),
    *_forms("мультфильм", _MASC), *_forms("стих", _MASC), "стихотворение", "стихотворения",
    *_forms("книг", ("а", "и", "е", "у", "ой")), *_forms("басн", _FEM_SOFT), *_forms("сказк", ("а", "и", "е", "у", "ой")),
    *_forms("пьес", ("а", "ы", "е", "у", "ой")), *_forms("песн", ("я", "и", "е", "ю", "ей")),
    *_forms("повест", _FEM_SOFT), "произведение", "произведения", "произведению", "сочинение", "сочинения",
    "читает", "читаем", "читали", "прочитать", "учим", "смотрим", "поэма", "поэму", "комедия", "комедию",
)
QUOTE_FRAMES: frozenset[str] = frozenset(collapse(w) for w in _QUOTE_FRAMES_RU)
# Name-calling without quotation marks, for obscene words too: «одноклассник назвал дочь блядью».
NAME_CALLING: frozenset[str] = frozenset(
    collapse(w) for w in REPORTING_RU if w.startswith(("обзыв", "обозв", "назв", "назыв", "дразн"))
)
FIRST_PERSON: frozenset[str] = frozenset(("я", "мы"))

# School-subject terms that share a form with an obscene word, and the words that show the subject.
# «сучки» are knots in wood (технология: пороки древесины); «на суку» is on a branch.
WOOD_CUES: tuple[str, ...] = (
    "древесин", "доск", "бревн", "дерев", "ветк", "ветв", "заготовк", "строга", "пил", "технолог",
    "сучок", "сучков", "сучкорез", "трещин", "гнил", "косослой", "брус", "фанер", "столяр",
)
WOOD_KNOT_RE = re.compile(r"^суч(?:ок|ка|ку|ке|ком|ки|ков|кам|ками|ках)$")
LATIN_PHRASE_NEXT: frozenset[str] = frozenset(("lex", "лекс"))  # «Dura lex, sed lex»

# --------------------------------------------------------------------------- English

# Letters may be stretched: each pattern letter becomes ``x+`` at compile time.
ENGLISH_PATTERNS: tuple[str, ...] = (
    r"fuck",
    r"^f(?:c|k)k(?:ing|in|er|ers|ed|s)?$",
    r"^fuk(?:ing|in|er|ers|ed|s)?$",
    r"^fuq",
    r"^phuck",
    r"^(?:bull|horse|dip|ape|chicken|holy|bat)?shit(?:s|ty|ting|ter|head|hole|show|bag|storm"
    r"|load|face|ed)?$",
    r"^bitch",
    r"sonofabitch",
    r"a(?:s|r)sehole|a(?:s|r)shole",
    r"^cunts?$",
    r"^dick(?:s|head|heads)?$",
    r"^bastards?$",
    r"^wtf$",
    r"^stfu$",
    r"^whores?$",
    r"^sluts?$",
    r"^slutty$",
    r"^twats?$",
    r"^wankers?$",
    r"^bollocks$",
    r"^jackass",
    r"^dumbass",
    r"^douche(?:bag|bags)?$",
    r"^cocks?(?:sucker|suckers)?$",
    r"^pussy$",
    r"^pussies$",
)
_STRONG_EN = (
    "idiot",
    "idiots",
    "moron",
    "morons",
    "retard",
    "retards",
    "retarded",
    "imbecile",
    "imbeciles",
    "cretin",
    "shutup",
)
_WEAK_ADJ_EN = ("stupid", "dumb", "useless", "pathetic", "brainless", "incompetent")
_WEAK_NOUN_EN = ("loser", "losers", "jerk", "jerks", "fool", "fools", "clown", "clowns", "freak")
PRON2_EN = ("you", "u", "ya", "youre", "ur", "yall", "your")
FILLER_EN = (
    "are",
    "r",
    "re",
    "so",
    "such",
    "a",
    "an",
    "really",
    "just",
    "complete",
    "total",
    "absolute",
    "all",
    "the",
    "fucking",
    "damn",
    "bloody",
    "little",
    "big",
    "an",
    "utter",
    "what",
    "guys",
    "is",
    "being",
)

# Whole-message phrases (on the sequence of normalised words, '|' = sentence boundary).
PHRASE_INSULT_PATTERNS: tuple[str, ...] = (
    r"(?:^|\| )(?:да |а |ну )?пош(?:[её]?л|ла|ли|ел) (?:ты|вы)\b",
    r"\bпош(?:[её]?л|ла|ли|ел)(?: ты| вы| бы)? (?:вон|нафиг|на фиг|к черту|к чертям|лесом|в баню)\b",
    r"\bиди(?:те)? (?:нафиг|на фиг|к черту|к чертям|лесом|в баню|в пень)\b",
    r"\b(?:закрой|закройте|заткни|заткните|завали|завалите|захлопни|захлопните) (?:рот|пасть|хлебало"
    r"|варежку|хлебальник)\b",
    r"\bвон отсюда\b",
    r"\bкати(?:сь|тесь) отсюда\b",
    r"\bсам(?:и|а)? (?:дурак|дура|дураки|идиот|идиоты|такой|такая|такие)\b",
    r"\b(?:shut up|get lost|screw you|piss off|go to hell)\b",
)

# --------------------------------------------------------------------------- compiled forms

STRONG_RU: frozenset[str] = frozenset(collapse(w.replace("ё", "е")) for w in _STRONG_RU)
WEAK_ADJ_RU: frozenset[str] = frozenset(collapse(w) for w in _WEAK_ADJ_RU)
WEAK_NOUN_RU: frozenset[str] = frozenset(collapse(w) for w in _WEAK_NOUN_RU)
STRONG_EN: frozenset[str] = frozenset(collapse(w) for w in _STRONG_EN)
WEAK_ADJ_EN: frozenset[str] = frozenset(collapse(w) for w in _WEAK_ADJ_EN)
WEAK_NOUN_EN: frozenset[str] = frozenset(collapse(w) for w in _WEAK_NOUN_EN)
PRON2: frozenset[str] = frozenset(collapse(w) for w in (*PRON2_RU, *PRON2_EN))
PERSON: frozenset[str] = frozenset(
    collapse(w)
    for w in (*PERSON_RU, "teacher", "teachers", "admin", "admins", "guys", "people", "support", "staff")
)
FILLER: frozenset[str] = frozenset(collapse(w.replace("ё", "е")) for w in (*FILLER_RU, *FILLER_EN))
REPORTING: frozenset[str] = frozenset(collapse(w) for w in REPORTING_RU)

# Latin words that transliterate into something obscene but are ordinary English / names.
TRANSLIT_ALLOW: frozenset[str] = frozenset(
    (
        "hue",
        "hues",
        "huey",
        "ebay",
        "ebook",
        "ebooks",
        "ebony",
        "ebb",
        "eben",
        "ebert",
        "eboli",
        "ebola",
        "sukiyaki",
        "her",
        "here",
        "hers",
        "herself",
        "heron",
        "hero",
        "heroes",
        "herb",
        "herbs",
        "hernia",
        "mudah",
        "manda",
        "blah",
        "blat",
        "blade",
        "pizza",
        "pizzeria",
    )
)


def _letter_plus(pattern: str) -> str:
    """``fuck`` → ``f+u+c+k+`` (letters outside character classes may be stretched)."""
    out: list[str] = []
    depth_class = False
    prev = ""
    for i, ch in enumerate(pattern):
        if ch == "[" and prev != "\\":
            depth_class = True
        elif ch == "]" and prev != "\\":
            depth_class = False
        if not depth_class and "a" <= ch <= "z" and prev != "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            out.append(f"(?:{ch}+)" if nxt in ("?", "*", "{") else ch + "+")
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


def mask_tolerant(pattern: str) -> str:
    """Let every literal letter also match the wildcard ``*`` (``х*й``, ``б**ть``).

    Letters inside negative lookarounds keep their meaning; classes get ``*`` added.
    """
    out: list[str] = []
    stack: list[bool] = []  # True for a negative lookaround group
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        negative = any(stack)
        if ch == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "(":
            if pattern.startswith("(?!", i) or pattern.startswith("(?<!", i):
                stack.append(True)
                head = "(?!" if pattern.startswith("(?!", i) else "(?<!"
                out.append(head)
                i += len(head)
                continue
            stack.append(False)
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
                continue
            out.append(ch)
            i += 1
            continue
        if ch == ")":
            if stack:
                stack.pop()
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            j = pattern.index("]", i + 1)
            body = pattern[i + 1 : j]
            out.append("[" + body + ("" if negative or body.startswith("^") else r"\*") + "]")
            i = j + 1
            continue
        if ("а" <= ch <= "я" or ch in "ъь" or "a" <= ch <= "z") and not negative:
            out.append(f"[{ch}*]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _union(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _words_regex(words: Iterable[str]) -> str:
    return "^(?:" + "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True)) + ")$"


OBSCENE_RE = re.compile(_union(OBSCENE_PATTERNS))
OBSCENE_MASKED: tuple[re.Pattern[str], ...] = tuple(re.compile(mask_tolerant(p)) for p in OBSCENE_PATTERNS)
OBSCENE_ALLOW_RE = re.compile("^(?:" + "|".join(OBSCENE_ALLOW_PREFIXES) + ")")
ENGLISH_RE = re.compile(_union(_letter_plus(p) for p in ENGLISH_PATTERNS))
ENGLISH_MASKED: tuple[re.Pattern[str], ...] = tuple(re.compile(mask_tolerant(p)) for p in ENGLISH_PATTERNS)
STRONG_MASKED_RE = re.compile(mask_tolerant(_words_regex(STRONG_RU | STRONG_EN)))
PHRASE_INSULT_RE = re.compile(_union(PHRASE_INSULT_PATTERNS))
