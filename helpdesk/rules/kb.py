"""Knowledge base: reference articles the school edits without code, and the matcher.

Layout on disk (see ``knowledge/README.md``)::

    knowledge/
        ru/<article-id>.md      the default locale; every article must exist here
        en/<article-id>.md      translations, same ids

Every file starts with a front matter block::

    ---
    id: ed-password-reset
    title: Забыли пароль от электронного дневника
    topics: ed
    categories: login
    roles: par, stu
    keywords: пароль, забыл, восстановить
    priority: 10
    examples:
      - не помню пароль от дневника
      - пишет неверный логин или пароль
    ---
    Markdown body (paragraphs, numbered and bulleted lists, **bold**, *italic*, [links](https://...)).

The body is converted to Telegram HTML once, at load time (markdown-it-py). Pure Python: no aiogram here.

The matcher (:meth:`KnowledgeBase.search`) works on meanings rather than letters:

* every word becomes its dictionary form (pymorphy3 and its Russian dictionary, loaded once per process);
  words that mean the same here are one term (``_SYNONYM_GROUPS``: «ставить», «выставить», «поставить»);
  a word the dictionary does not know is corrected to an article word one typo away;
* an article scores by the rarity of the question's terms in its title, keywords, example questions (written in
  its front matter, and learned from answered tickets, :meth:`KnowledgeBase.with_examples`) and body, with a
  bonus for a whole keyword phrase;
* it is offered only when it explains enough of the question (``MIN_COVERAGE``): a noun no article uses (also one
  the dictionary does not know, or an abbreviation: «аватарка», «впр») is what the question is about, so «когда
  родительское собрание» gets nothing rather than a guess; a word found only in an article's body explains a third
  of itself (``BODY_COVERAGE``), and an article for another role or topic must explain more
  (``MISMATCH_COVERAGE``); words that set the scene («понимать», «система») count neither way;
* optionally, a word no article uses stands for its nearest article word by word vectors (``WordVectors``,
  navec from the natasha wheel: :mod:`helpdesk.rules.kb_vectors`), when they are close enough.

Quality is measured by ``benchmarks/kb_bench.py`` on a frozen held-out set; the constants are tuned on the
dev set only.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pymorphy3
import snowballstemmer
from markdown_it import MarkdownIt
from markdown_it.token import Token

from helpdesk.domain import Category, Role, Topic, default_topic
from helpdesk.formatting import escape, plain_text

__all__ = [
    "DEFAULT_LOCALE",
    "MAX_BODY_CHARS",
    "Article",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Match",
    "QuestionGroup",
    "WordVectors",
    "group_questions",
    "load_knowledge_base",
    "markdown_to_telegram_html",
]

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "ru"
MAX_BODY_CHARS = 3000
MAX_ID_LENGTH = 40  # ids travel in callback data (64 bytes)


class KnowledgeBaseError(Exception):
    """A knowledge file is broken. The message starts with ``file:line:``."""


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    topics: tuple[Topic, ...]
    categories: tuple[Category, ...]
    roles: tuple[Role, ...]
    keywords: tuple[str, ...]
    body_html: str
    locale: str
    priority: int = 0
    source: str = field(default="", compare=False, repr=False)
    examples: tuple[str, ...] = ()  # questions as people ask them (the ``examples:`` list of the front matter)

    def for_role(self, role: Role | None) -> bool:
        return role is None or role in self.roles

    def render(self) -> str:
        """Title and body as one Telegram HTML message."""
        return f"<b>{escape(self.title)}</b>\n\n{self.body_html}"


@dataclass(frozen=True, slots=True)
class Match:
    article: Article
    score: float


# --------------------------------------------------------------------------- front matter values

_ALL_WORDS = frozenset({"all", "все", "всем", "*"})

_TOPIC_ALIASES: dict[str, Topic] = {
    "эж": Topic.JOURNAL,
    "журнал": Topic.JOURNAL,
    "электронный журнал": Topic.JOURNAL,
    "эд": Topic.DIARY,
    "дневник": Topic.DIARY,
    "электронный дневник": Topic.DIARY,
}
_ROLE_ALIASES: dict[str, Role] = {
    "администрация": Role.ADMINISTRATION,
    "администратор": Role.ADMINISTRATION,
    "учитель": Role.SUBJECT_TEACHER,
    "учителя": Role.SUBJECT_TEACHER,
    "предметник": Role.SUBJECT_TEACHER,
    "учитель-предметник": Role.SUBJECT_TEACHER,
    "классный руководитель": Role.CLASS_TEACHER,
    "классные руководители": Role.CLASS_TEACHER,
    "классрук": Role.CLASS_TEACHER,
    "сотрудник": Role.OTHER_STAFF,
    "сотрудники": Role.OTHER_STAFF,
    "ученик": Role.STUDENT,
    "ученики": Role.STUDENT,
    "учащийся": Role.STUDENT,
    "родитель": Role.PARENT,
    "родители": Role.PARENT,
    "staff": Role.OTHER_STAFF,
}
_STAFF_WORDS = frozenset({"staff-all", "все сотрудники", "персонал"})
_CATEGORY_ALIASES: dict[str, Category] = {
    "вход": Category.LOGIN,
    "оценки": Category.GRADES,
    "дз": Category.HOMEWORK,
    "домашнее задание": Category.HOMEWORK,
    "посещаемость": Category.ATTENDANCE,
    "расписание": Category.TIMETABLE,
    "отчеты": Category.REPORTS,
    "приложение": Category.MOBILE,
    "мобильное приложение": Category.MOBILE,
    "другое": Category.OTHER,
}

_KEYS = ("id", "title", "topics", "categories", "roles", "keywords", "priority", "examples")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _norm_word(value: str) -> str:
    return value.strip().lower().replace("ё", "е")


def _split_list(value: str) -> list[str]:
    return [item for item in (_norm_word(v) for v in re.split(r"[,;]", value)) if item]


E = TypeVar("E", Topic, Category, Role)


def _parse_codes(value: str, enum: type[E], aliases: dict[str, E], where: str, what: str) -> tuple[E, ...]:
    items = _split_list(value)
    if not items:
        raise KnowledgeBaseError(f"{where}: {what} must not be empty (use 'all' for every value)")
    result: list[E] = []
    for item in items:
        if item in _ALL_WORDS:
            return tuple(enum)
        if enum is Role and item in _STAFF_WORDS:
            result.extend(r for r in Role if r.is_staff_member and r not in result)  # type: ignore[misc]
            continue
        code: E | None = aliases.get(item)
        if code is None:
            try:
                code = enum(item)
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                raise KnowledgeBaseError(
                    f"{where}: unknown {what[:-1] if what.endswith('s') else what} {item!r} "
                    f"(allowed: {allowed}, all)"
                ) from None
        if code not in result:
            result.append(code)
    order = list(enum)
    return tuple(sorted(result, key=order.index))


# --------------------------------------------------------------------------- Markdown -> Telegram HTML

_URL_RE = re.compile(r"^(?:https?://[^\s\"<>]+|mailto:[^\s\"<>]+|tel:\+?[0-9()\- ]+|tg://[^\s\"<>]+)$")


@functools.cache
def _markdown() -> MarkdownIt:
    # CommonMark without raw HTML (escaped as text); a line break in a paragraph stays a line break.
    return MarkdownIt("commonmark", {"html": False, "breaks": True})


class _Renderer:
    """markdown-it's tokens -> the Telegram HTML subset: <b>, <i>, <a href>; everything else is text."""

    def __init__(self, source: str, first_line: int, lines: list[str]) -> None:
        self.source = source
        self.first_line = first_line
        self.lines = lines

    def where(self, block: Token | None, needle: str = "") -> str:
        start, end = (block.map or [0, 1]) if block is not None else (0, 1)
        number = start
        if needle:
            number = next((i for i in range(start, max(end, start + 1)) if needle in self.lines[i]), start)
        return f"{self.source}:{self.first_line + number}"

    def inline(self, token: Token, block: Token | None) -> str:
        out: list[str] = []
        for child in token.children or []:
            kind = child.type
            if kind == "text":
                text = child.content
                if "**" in text:
                    raise KnowledgeBaseError(
                        f"{self.where(block, '**')}: unclosed '**' (bold text must be written as **text** on one line)"
                    )
                if "](" in text:
                    raise KnowledgeBaseError(
                        f"{self.where(block, '](')}: malformed link (write [text](https://address))"
                    )
                out.append(escape(text))
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
            elif kind == "strong_open":
                out.append("<b>")
            elif kind == "strong_close":
                out.append("</b>")
            elif kind == "em_open":
                out.append("<i>")
            elif kind == "em_close":
                out.append("</i>")
            elif kind == "link_open":
                url = str(child.attrs.get("href", ""))
                if not _URL_RE.match(url):
                    raise KnowledgeBaseError(
                        f"{self.where(block, url)}: link address {url!r} must start with https://, http://, "
                        "mailto: or tel:"
                    )
                out.append(f'<a href="{escape(url, quote=True)}">')
            elif kind == "link_close":
                out.append("</a>")
            elif kind in ("code_inline", "html_inline"):
                out.append(escape(child.content))
            elif kind == "image":
                out.append(escape(child.content))
        return "".join(out)

    def render(self, markdown: str) -> str:
        """Blocks in source order; a blank line in the source between two blocks is kept (one at most)."""
        tokens = _markdown().parse(markdown)
        blocks: list[tuple[int, int, str]] = []  # first line, end line, html
        heading = False
        prefixes: list[str] = []
        block: Token | None = None
        for token in tokens:
            kind = token.type
            if kind in ("paragraph_open", "heading_open"):
                block = token
                heading = kind == "heading_open"
            elif kind == "list_item_open":
                number = token.info
                prefixes.append(f"{number}. " if number else "• ")
            elif kind == "list_item_close":
                prefixes.pop()
            elif kind == "inline" and block is not None:
                html_text = self.inline(token, block)
                if heading:
                    html_text = f"<b>{html_text}</b>"
                if prefixes and token.map:
                    indent = "   " * (len(prefixes) - 1)
                    html_text = indent + prefixes[-1] + html_text
                    prefixes[-1] = "   "  # a second paragraph of the same item is not a new bullet
                start, end = token.map or (0, 1)
                blocks.append((start, end, html_text))
            elif kind in ("fence", "code_block"):
                start, end = token.map or (0, 1)
                blocks.append((start, end, escape(token.content.rstrip("\n"))))
        out: list[str] = []
        previous_end: int | None = None
        for start, end, html_text in blocks:
            if previous_end is not None:
                blank = any(not self.lines[i].strip() for i in range(previous_end, start))
                out.append("\n\n" if blank else "\n")
            out.append(html_text)
            previous_end = end
        return "".join(out)


def markdown_to_telegram_html(markdown: str, source: str = "<text>", first_line: int = 1) -> str:
    """Convert an article's Markdown into Telegram HTML, with markdown-it-py (CommonMark).

    Line breaks are kept as they are (Telegram shows them), runs of blank lines become one blank line.
    Paragraphs, ``1.`` numbered and ``-`` bulleted lists, ``#`` headings (shown in bold), ``**bold**``,
    ``*italic*``, ``[text](https://address)``; raw HTML and everything else is escaped text. A link must be
    https://, http://, mailto: or tel:; an unclosed ``**`` or a broken link is an error with its line.
    """
    lines = markdown.splitlines() or [""]
    return _Renderer(source, first_line, lines).render(markdown)


# --------------------------------------------------------------------------- file parsing


@dataclass(slots=True)
class _Parsed:
    article: Article
    id_line: int


def _parse_article(path: Path, locale: str) -> _Parsed:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{name}:1: file is not UTF-8 ({exc.reason})") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise KnowledgeBaseError(f"{name}:1: the file must start with a '---' line (front matter)")
    meta: dict[str, tuple[int, str]] = {}
    examples: list[str] = []
    in_list = False  # inside the ``examples:`` list ("- question" lines)
    end: int | None = None
    for index in range(1, len(lines)):
        number = index + 1
        stripped = lines[index].strip()
        if stripped == "---":
            end = index
            break
        if not stripped or stripped.startswith("#"):
            continue
        if in_list and stripped.startswith("-"):
            question = stripped[1:].strip()
            if question:
                examples.append(question)
            continue
        in_list = False
        key, sep, value = stripped.partition(":")
        key = key.strip().lower()
        if not sep or not key:
            raise KnowledgeBaseError(f"{name}:{number}: expected 'key: value', got {stripped!r}")
        if key not in _KEYS:
            raise KnowledgeBaseError(f"{name}:{number}: unknown key {key!r} (allowed: {', '.join(_KEYS)})")
        if key in meta:
            raise KnowledgeBaseError(
                f"{name}:{number}: key {key!r} is repeated (first on line {meta[key][0]})"
            )
        meta[key] = (number, value.strip())
        if key == "examples":
            if value.strip():
                raise KnowledgeBaseError(
                    f"{name}:{number}: write each example question on its own line below 'examples:', "
                    "starting with '- '"
                )
            in_list = True
    if end is None:
        raise KnowledgeBaseError(f"{name}:1: front matter is not closed with a '---' line")

    def where(key: str) -> str:
        return f"{name}:{meta[key][0] if key in meta else 1}"

    def required(key: str) -> str:
        if key not in meta or not meta[key][1]:
            raise KnowledgeBaseError(f"{where(key)}: missing {key}")
        return meta[key][1]

    article_id = meta["id"][1] if "id" in meta and meta["id"][1] else path.stem
    if not _ID_RE.match(article_id):
        raise KnowledgeBaseError(
            f"{where('id')}: bad id {article_id!r} (use latin lower-case letters, digits and '-')"
        )
    if len(article_id) > MAX_ID_LENGTH:
        raise KnowledgeBaseError(
            f"{where('id')}: id {article_id!r} is longer than {MAX_ID_LENGTH} characters"
        )
    title = required("title")
    topics = _parse_codes(required("topics"), Topic, _TOPIC_ALIASES, where("topics"), "topics")
    categories = _parse_codes(
        required("categories"), Category, _CATEGORY_ALIASES, where("categories"), "categories"
    )
    roles_value = meta.get("roles", (1, ""))[1]
    roles = (
        tuple(Role)
        if not roles_value
        else _parse_codes(roles_value, Role, _ROLE_ALIASES, where("roles"), "roles")
    )
    keywords = tuple(k.strip() for k in re.split(r"[,;]", meta.get("keywords", (1, ""))[1]) if k.strip())
    priority = 0
    if "priority" in meta and meta["priority"][1]:
        try:
            priority = int(meta["priority"][1])
        except ValueError:
            raise KnowledgeBaseError(f"{where('priority')}: priority must be a whole number") from None
    body_md = "\n".join(lines[end + 1 :])
    body = markdown_to_telegram_html(body_md, name, end + 2)
    if not body:
        raise KnowledgeBaseError(f"{name}:{end + 2}: the article has no text after the front matter")
    if len(body) > MAX_BODY_CHARS:
        raise KnowledgeBaseError(
            f"{name}:{end + 2}: the text is too long ({len(body)} characters, at most {MAX_BODY_CHARS})"
        )
    article = Article(
        id=article_id,
        title=title,
        topics=topics,
        categories=categories,
        roles=roles,
        keywords=keywords,
        body_html=body,
        locale=locale,
        priority=priority,
        source=name,
        examples=tuple(examples),
    )
    return _Parsed(article, meta["id"][0] if "id" in meta else 1)


# --------------------------------------------------------------------------- text analysis

_EN = snowballstemmer.stemmer("english")
_TOKEN_RE = re.compile(r"[a-zа-я0-9]+")
_CYRILLIC_RE = re.compile(r"[а-я]")
_DIGIT_RE = re.compile(r"[0-9]")

_STOP_WORDS = frozenset(
    """
    и в во на до не ни что он она оно они я ты мы вы с со как а то все всё так его ее её но да к у же за бы по
    только мне меня мной нам нас вам вас им их ему ей было был была были быть будет будут вот от еще ещё
    нет о об обо из теперь когда даже ну ли если уже или там тут где есть надо для чем без чего раз тоже
    себе себя под тогда кто этот эта это эти этого этой этом того тот та те потому какой какая какие каким
    совсем здесь один почти мой моя мое моё мои моего моей моим моих твой наш наша наше наши нашего нашей
    ваш ваша ваши тем чтобы чтоб сейчас куда зачем всех всем всего можно нельзя при хоть после над больше
    через про много очень просто вообще который которая которые которого свой своя свои своего своей
    здравствуйте здравствуй добрый доброе доброго добрый день дня вечер вечера утро утра пожалуйста
    подскажите скажите подскажи помогите помоги спасибо заранее почему зачем отчего сделать делать
    сделал сделала нужно нужна нужен надо хочу хотел хотела хотим могу может можете могут мочь
    вопрос вопросом такой такая такое такие же ж вроде типа кстати пишет пишу уважаемые уважаемый
    ситуация подскажите-пожалуйста ребята коллеги всё-таки как-то что-то где-то почему-то
    a an the and or to of in on at for is are be it i my we our you your me us this that with not
    no how why what do does can could should please hello hi thanks there have has was were when where
    who which will would get got am his her their they he she did if so as from by about into after before
    any just still again then here need want help dear good morning afternoon evening
    """.split()
)
# Lemmas that carry no subject (the forms above are caught before lemmatisation; these after it).
_STOP_LEMMAS = frozenset(
    """
    быть мочь хотеть нужный надо сделать делать который какой свой весь этот тот такой что как где когда
    сказать подсказать помочь пожалуйста здравствуйте спасибо почему зачем ли же бы
    я ты он она оно мы вы они
    """.split()
)

# Words that set the scene of a school question but say nothing about which article answers it: school subjects,
# days and time, kinds of schoolwork. They count neither for an article nor against it (not in «nothing»).
_SCENE_LEMMAS = frozenset(
    """
    математика алгебра геометрия русский язык литература английский немецкий французский история
    обществознание география биология химия физика информатика физкультура физра музыка изо технология
    обж окружающий мир чтение предмет
    понедельник вторник среда четверг пятница суббота воскресенье сегодня завтра вчера послезавтра
    неделя день месяц утро вечер сентябрь октябрь ноябрь декабрь январь февраль март апрель май
    вчерашний завтрашний сегодняшний прошлый следующий
    диктант сочинение изложение доклад реферат проект тест самостоятельный лабораторный
    система портал платформа страница вкладка понимать понять основной вообще ничего происходить
    получаться получиться пытаться попытаться стоить значит рядом количество куча
    """.split()
)

# canonical word -> variants that mean the same here. Both sides are lemmatised when first used.
_SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "госуслуги": ("есиа", "есиа", "госуслуг", "госуслугах", "госуслугами", "gosuslugi", "esia", "гу"),
    "журнал": ("эж", "журнал", "журнала", "журнале", "журналом", "журналы", "журналов", "журнальчик"),
    "дневник": ("эд", "электронка", "дневник", "дневника", "дневнике", "дневником", "дневники", "дневнику", "эдневник"),
    "оценка": (
        "отметка",
        "отметки",
        "отметку",
        "отметок",
        "оценки",
        "оценок",
        "балл",
        "баллы",
        "двойка",
        "двойку",
        "двойки",
        "тройка",
        "тройку",
        "четверка",
        "четверку",
        "пятерка",
        "пятерку",
        "пятерки",
        "пятерок",
        "двоек",
        "троек",
        "четверок",
    ),
    "домашнее задание": ("дз", "домашка", "домашку", "домашки", "домашние", "домашнего", "домашнюю"),
    "приложение": (
        "мобильное",
        "мобильном",
        "мобильного",
        "смартфон",
        "смартфоне",
        "телефон",
        "телефоне",
        "телефона",
        "андроид",
        "android",
        "айфон",
        "iphone",
        "ios",
        "app",
        "apps",
        "приложуха",
        "приложении",
        "приложения",
    ),
    "вход": (
        "войти",
        "зайти",
        "захожу",
        "заходит",
        "заходить",
        "зайду",
        "входит",
        "входить",
        "вхожу",
        "войду",
        "авторизация",
        "авторизоваться",
        "залогиниться",
        "login",
        "log",
        "sign",
        "signin",
    ),
    "пропуск": (
        "прогул",
        "прогулы",
        "пропуски",
        "пропусков",
        "отсутствие",
        "отсутствовал",
        "отсутствовала",
        "н",
        "нка",
        "энки",
        "нки",
        "нку",
        "болел",
        "болела",
        "заболел",
        "заболела",
        "заболеть",
        "приболел",
        "больничный",
        "больничном",
        "болезнь",
        "болезни",
        "absence",
        "absent",
        "absences",
    ),
    "ребенок": (
        "ребенка",
        "ребенку",
        "ребенком",
        "дети",
        "детей",
        "детям",
        "сын",
        "сына",
        "сыну",
        "дочь",
        "дочка",
        "дочки",
        "дочери",
        "дочку",
        "девочка",
        "мальчик",
        "child",
        "children",
        "kid",
        "kids",
        "son",
        "daughter",
    ),
    "родитель": ("мама", "папа", "мать", "отец", "бабушка", "дедушка", "опекун", "родители", "parent", "parents"),
    "первый": ("впервые", "первично"),
    "сферум": (
        "sferum",
        "беседа",
        "беседе",
        "мессенджер",
        "мессенджере",
        "чат",
        "чате",
        "чата",
        "вк",
        "vk",
        "вконтакте",
        "messenger",
        "chat",
    ),
    "итоговая": (
        "итоговые",
        "итоговых",
        "годовая",
        "годовые",
        "годовых",
        "годовую",
        "итоговую",
        "final",
        "year",
        "annual",
    ),
    "четверть": (
        "четвертная",
        "четвертные",
        "четвертных",
        "четвертную",
        "триместр",
        "полугодие",
        "полугодовая",
        "quarter",
        "term",
        "termly",
    ),
    "учитель": ("учительница", "учительницы", "учительнице", "учительницу", "учителя", "учителю", "педагог"),
    "урок": ("уроки", "урока", "уроке", "уроков", "занятие", "занятия", "lesson", "lessons"),
    "пароль": ("пароля", "паролем", "паролей", "пасворд", "password", "passwords"),
    # Verbs by meaning: aspect pairs and prefixes are different dictionary words («ставить», «поставить»).
    "поставить": (
        "ставить", "выставить", "выставлять", "проставить", "проставлять", "ставят", "поставят", "выставление",
    ),
    "отображаться": (
        "видно", "видеть", "увидеть", "виден", "видна", "видны", "показываться", "показывать", "появиться",
        "появляться", "отображение", "отобразиться", "высвечиваться", "пусто", "пустой",
    ),
    "учетный": ("учетка", "аккаунт", "учетная"),
    "двое": ("оба", "трое", "двое", "несколько"),
    "отчет": ("сводка", "ведомость", "отчетность", "табель"),
    "заполнить": ("заполнять", "внести", "вносить", "записать", "записывать", "вписать", "вписывать"),
    "выгрузить": ("выгружать", "экспорт", "экспортировать", "выгрузка"),
    "сохранить": ("сохранять", "сохраняться", "сохраниться", "сохранение"),
    "исправить": ("исправлять", "поменять", "менять", "изменить", "изменять", "поправить", "заменить"),
    "удалить": ("удалять", "убрать", "убирать", "стереть"),
    "прикрепить": ("прикреплять", "приложить", "прикладывать", "загрузить", "загружать", "вложить"),
    "восстановить": ("восстанавливать", "сбросить", "сбрасывать", "вспомнить", "напомнить"),
    "привязать": ("привязывать", "связать", "связывать", "добавить", "добавлять", "подключить", "подключать"),
    "перевести": ("переводить", "перейти", "переходить", "перевестись", "переводиться"),
    "отметить": ("отмечать", "пометить", "помечать"),
    "задать": ("задавать", "задано", "задали"),
    "ошибочный": ("неправильный", "неверный", "ошибиться", "ошибочно", "неправильно", "перепутать", "ошибка"),
    "печать": ("печатать", "напечатать", "распечатать", "распечатывать", "распечатка", "печатный"),
    "фото": ("фотография", "фотка", "снимок", "скан", "сканировать", "картинка"),
    "уведомление": ("оповещение", "пуш", "push", "уведомлять", "оповещать", "извещение"),
    "ученик": ("ученица", "школьник", "школьница", "учащийся", "обучающийся", "pupil", "pupils"),
    "почта": ("письмо", "email", "мейл", "имейл", "емейл"),
    "клетка": ("ячейка", "колонка", "столбец", "графа", "клеточка"),
    "сотрудник": (
        "психолог", "библиотекарь", "тьютор", "воспитатель", "вожатый", "соцпедагог", "педагог-организатор",
        "секретарь", "лаборант",
    ),
    "excel": ("эксель", "ексель", "экселе", "xls", "xlsx", "таблица"),
    "pdf": ("пдф",),
    "grade": ("mark", "marks", "grades", "grading", "score"),
    "homework": ("hw", "assignment", "assignments"),
    "timetable": ("schedule", "schedules"),
}


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    """The Russian dictionary (about 0.2 s and 25 MB), loaded once per process on first use."""
    return pymorphy3.MorphAnalyzer(lang="ru")


@dataclass(frozen=True, slots=True)
class _Word:
    lemma: str
    known: bool  # in the dictionary (a word that is not may be a typo: it is corrected, not guessed)
    subject: bool  # a noun or a name: what a question is about, when no article knows it
    guess: str = ""  # for an unknown word whose guessed lemma differs from it: the word as written (typo correction)


_WORD_CACHE: dict[str, _Word] = {}
_WORD_CACHE_SIZE = 200_000
_SUBJECT_POS = frozenset({"NOUN", None})


def _word(token: str) -> _Word:
    """The dictionary form of a word: «оценок» -> «оценка», «вижу» -> «видеть»; English words are stemmed."""
    token = token.replace("ё", "е")
    cached = _WORD_CACHE.get(token)
    if cached is not None:
        return cached
    if _DIGIT_RE.search(token):  # a number, a class («10а»), a time: the scene, not the subject
        word = _Word(token, True, False)
    elif _CYRILLIC_RE.search(token):
        morph = _morph()
        if morph.word_is_known(token):
            parse = morph.parse(token)[0]
            word = _Word(parse.normal_form.replace("ё", "е"), True, parse.tag.POS in _SUBJECT_POS)
        else:
            parse = morph.parse(token)[0]
            guess = parse.normal_form.replace("ё", "е")
            # A word the dictionary does not know but takes for a noun («аватарку»): when no article word is one
            # typo away from it, it is likely what the question is about.
            # So is an abbreviation the dictionary cannot parse at all («впр», «огэ»).
            noun = UNKNOWN_NOUNS and (
                (parse.tag.POS == "NOUN" and len(token) >= MIN_FUZZY_LENGTH) or ("UNKN" in parse.tag and len(token) >= 3)
            )
            # Its guessed dictionary form stands for it on both sides («сферуме», «сферума» -> «сферум»); the word
            # as written is kept for the typo correction.
            word = _Word(guess, False, noun, token if guess != token else "")
    else:
        word = _Word(str(_EN.stemWord(token)), True, True)
    if len(_WORD_CACHE) < _WORD_CACHE_SIZE:
        _WORD_CACHE[token] = word
    return word


def _lemma(token: str) -> str:
    return _word(token).lemma


_JOINED_RE = re.compile(r"\b(гос)\s+(услуг)")  # «гос услуги» is written apart as often as not


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_JOINED_RE.sub(r"\1\2", text.lower().replace("ё", "е")))


@dataclass(frozen=True, slots=True)
class _Lexicon:
    """Synonyms, weak words and topic hints, as lemmas. Built once per process (it needs the dictionary)."""

    synonyms: dict[str, tuple[str, ...]]
    weak: frozenset[str]
    topic_hints: dict[Topic, frozenset[str]]


# Words nearly every question contains: they count, but little.
_WEAK_WORDS = (
    "ребенок", "журнал", "дневник", "электронный", "школа", "учитель", "ученик", "родитель", "класс", "завуч",
    "директор", "администрация", "коллега",
    "school", "teacher", "student", "parent", "class", "journal", "diary", "electronic",
)  # fmt: skip


@functools.cache
def _lexicon() -> _Lexicon:
    result: dict[str, set[str]] = {}
    for canonical, variants in _SYNONYM_GROUPS.items():
        canon = tuple(_lemma(t) for t in _tokens(canonical))
        for variant in (canonical, *variants):
            lemmas = [_lemma(t) for t in _tokens(variant)]
            if len(lemmas) != 1:
                continue
            result.setdefault(lemmas[0], set()).update(canon)
    synonyms = {
        lemma: tuple(sorted(canon)) for lemma, canon in result.items()
    }
    weak = frozenset(
        term for w in _WEAK_WORDS for term in synonyms.get(_lemma(w), (_lemma(w),))
    )
    hints = {
        Topic.JOURNAL: frozenset({_lemma("журнал"), "journal"}),
        Topic.DIARY: frozenset({_lemma("дневник"), _lemma("diary")}),
    }
    return _Lexicon(synonyms, weak, hints)


def _expand(term: str) -> tuple[str, ...]:
    return _lexicon().synonyms.get(term, (term,))


def _terms(text: str) -> list[tuple[str, ...]]:
    """Groups of alternative index terms, one group per meaningful word of ``text``."""
    return [group for group, _ in _analyse(text)]


def _analyse(text: str) -> list[tuple[tuple[str, ...], _Word]]:
    """Each meaningful word of ``text``: its group of alternative index terms, and the word."""
    groups: list[tuple[tuple[str, ...], _Word]] = []
    synonyms = _lexicon().synonyms
    for token in _tokens(text):
        if token in _STOP_WORDS:
            continue
        word = _word(token)
        if word.lemma in _STOP_LEMMAS or (len(word.lemma) < 2 and word.lemma not in synonyms):
            continue
        if word.lemma in _SCENE_LEMMAS and word.lemma not in synonyms:
            continue
        groups.append((_expand(word.lemma), word))
    return groups


def _deletes(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


# --------------------------------------------------------------------------- the semantic signal


class WordVectors(Protocol):
    """Word embeddings: a unit vector per known lemma (None for an unknown one)."""

    def vector(self, word: str) -> Sequence[float] | None: ...


# --------------------------------------------------------------------------- scoring constants

TITLE_WEIGHT = 1.6
KEYWORD_WEIGHT = 1.6
EXAMPLE_WEIGHT = 1.4
BODY_WEIGHT = 0.45
PHRASE_WEIGHT = 1.0  # a whole keyword phrase in the question: its words' rarity once more
FUZZY_FACTOR = 0.7
WEAK_FACTOR = 0.4
MIN_FUZZY_LENGTH = 5
MIN_SCORE = 2.6
RELATIVE_CUTOFF = 0.3
# "Nothing" when the article explains too little of the question: the share of the question's weight
# (each word by its rarity; a word no article knows weighs UNKNOWN_IDF) that the article matches.
MIN_COVERAGE = 0.42
# Once one article explains enough, the others that explain this share of "enough" may be offered beside it
# (ranked by score): whether to offer anything is one decision, which articles to offer another.
SECOND_COVERAGE = 0.6
MISMATCH_COVERAGE = 0.2  # more coverage needed from an article for another role or topic, for each
UNKNOWN_NOUNS = True
BODY_COVERAGE = 0.3  # a word only in an article's body explains this share of it (title, keywords, examples: all)
UNKNOWN_IDF = 4.0  # an unknown noun: likely the subject the question is about
UNKNOWN_OTHER_IDF = 0.8  # an unknown verb, adjective, adverb: likely a way of saying it
OTHER_WORD_CAP = 1.0  # a known verb or adjective weighs at most this much in the question (rare or not)
# The semantic signal: a word no article uses stands for its nearest article word when they are close.
SEMANTIC_MIN = 0.5
SEMANTIC_FACTOR = 0.6

ROLE_MISMATCH = 0.6
TOPIC_MATCH = 1.3
TOPIC_MISMATCH = 0.45
ROLE_TOPIC_MATCH = 1.1
ROLE_TOPIC_MISMATCH = 0.75
TEXT_TOPIC_MATCH = 1.15
TEXT_TOPIC_MISMATCH = 0.85
CATEGORY_MATCH = 1.2


@dataclass(frozen=True, slots=True)
class _Resolved:
    """The question's words: groups of index terms with their match factor, and what stayed unknown."""

    groups: list[tuple[tuple[str, ...], float, bool]]  # terms, match factor, a subject word (a noun)
    unknown: float  # the weight of the words no article knows


class _Index:
    """Inverted index of one locale's articles (title, keywords, example phrases, body)."""

    def __init__(
        self,
        articles: Sequence[Article],
        examples: Mapping[str, Sequence[str]],
        vectors: WordVectors | None,
    ) -> None:
        self.articles = tuple(articles)
        postings: dict[str, dict[int, float]] = {}
        for number, article in enumerate(self.articles):
            weights: dict[str, float] = {}
            fields = (
                (article.title, TITLE_WEIGHT),
                (" ".join(article.keywords), KEYWORD_WEIGHT),
                (" ".join((*article.examples, *examples.get(article.id, ()))), EXAMPLE_WEIGHT),
                (plain_text(article.body_html, tag_sep=" "), BODY_WEIGHT),
            )
            for text, weight in fields:
                seen: set[str] = set()
                for group in _terms(text):
                    seen.update(group)
                for term in seen:
                    weights[term] = weights.get(term, 0.0) + weight
            for term, weight in weights.items():
                postings.setdefault(term, {})[number] = weight
        # Keyword phrases of two words or more («оценка не появилась»): all of them in a question is a bonus.
        self.phrases: list[tuple[int, tuple[tuple[str, ...], ...]]] = []
        for number, article in enumerate(self.articles):
            for keyword in article.keywords:
                groups = tuple(_terms(keyword))
                if len(groups) >= 2:
                    self.phrases.append((number, groups))
        total = len(self.articles)
        self.postings = postings
        self.idf = {
            term: math.log(1.0 + (total - len(docs) + 0.5) / (len(docs) + 0.5))
            for term, docs in postings.items()
        }
        self.vocabulary = frozenset(postings) | frozenset(_lexicon().synonyms)
        deletes: dict[str, set[str]] = {}
        for term in self.vocabulary:
            if len(term) >= MIN_FUZZY_LENGTH - 1:
                for variant in _deletes(term) | {term}:
                    deletes.setdefault(variant, set()).add(term)
        self.deletes = deletes
        self._fuzzy_cache: dict[str, tuple[str, ...]] = {}
        self.vectors = vectors
        self._vector_terms: list[str] = []
        self._matrix: Any = None
        if vectors is not None:
            import numpy  # only with vectors: they come with it

            rows = []
            for term in sorted(postings):
                vec = vectors.vector(term)
                if vec is not None:
                    self._vector_terms.append(term)
                    rows.append(vec)
            self._matrix = numpy.array(rows) if rows else None
        self._semantic_cache: dict[str, tuple[tuple[str, ...], float]] = {}

    def fuzzy(self, term: str) -> tuple[str, ...]:
        """Known terms within one edit (or one adjacent swap) of an unknown ``term``."""
        if not term:
            return ()
        cached = self._fuzzy_cache.get(term)
        if cached is not None:
            return cached
        found: set[str] = set()
        if (len(term) >= MIN_FUZZY_LENGTH and _CYRILLIC_RE.search(term)) or len(term) >= MIN_FUZZY_LENGTH + 1:
            for variant in _deletes(term) | {term}:
                for known in self.deletes.get(variant, ()):
                    found.update(_expand(known))
        result = tuple(sorted(t for t in found if t in self.postings))
        if len(self._fuzzy_cache) < 20_000:
            self._fuzzy_cache[term] = result
        return result

    def semantic(self, term: str) -> tuple[tuple[str, ...], float]:
        """The article word nearest in meaning to an unknown ``term``, and how near (0 when none is)."""
        cached = self._semantic_cache.get(term)
        if cached is not None:
            return cached
        result: tuple[tuple[str, ...], float] = ((), 0.0)
        vec = self.vectors.vector(term) if self.vectors is not None else None
        if vec is not None and self._matrix is not None:
            similarities = self._matrix @ vec
            best = int(similarities.argmax())
            similarity = float(similarities[best])
            if similarity >= SEMANTIC_MIN:
                result = ((self._vector_terms[best],), similarity)
        if len(self._semantic_cache) < 20_000:
            self._semantic_cache[term] = result
        return result

    def resolve(self, text: str) -> _Resolved:
        """Query word groups with their match factor (1.0 exact, less for typo corrections and neighbours)."""
        resolved: list[tuple[tuple[str, ...], float, bool]] = []
        seen: set[tuple[str, ...]] = set()
        unknown = 0.0
        synonyms = _lexicon().synonyms
        for group, word in _analyse(text):
            known = tuple(t for t in group if t in self.postings)
            key: tuple[str, ...] = ()
            factor = 1.0
            if known:
                key = known
            elif len(group) == 1 and group[0] not in synonyms:
                if not word.known:
                    key, factor = self.fuzzy(group[0]) or self.fuzzy(word.guess), FUZZY_FACTOR
                if not key:
                    key, similarity = self.semantic(group[0])
                    factor = SEMANTIC_FACTOR * similarity
            if not key:
                if not _DIGIT_RE.search(word.lemma) and word.lemma not in synonyms:
                    unknown += UNKNOWN_IDF if word.subject else UNKNOWN_OTHER_IDF
                continue
            if key not in seen:
                seen.add(key)
                resolved.append((key, factor, word.subject))
        return _Resolved(resolved, unknown)


# --------------------------------------------------------------------------- the knowledge base


class KnowledgeBase:
    """Articles by locale, with a search index built once."""

    def __init__(
        self,
        articles: Iterable[Article],
        default_locale: str = DEFAULT_LOCALE,
        warnings: Iterable[str] = (),
        examples: Mapping[str, Sequence[str]] | None = None,
        vectors: WordVectors | None = None,
    ) -> None:
        """``examples``: article id -> example questions (learned from answered tickets), matched like
        keywords. ``vectors``: word embeddings for the semantic signal (None: words only)."""
        self.default_locale = default_locale
        self.warnings: tuple[str, ...] = tuple(warnings)
        self.examples: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in (examples or {}).items()}
        self.vectors = vectors
        by_locale: dict[str, dict[str, Article]] = {}
        for article in articles:
            by_locale.setdefault(article.locale, {})[article.id] = article
        by_locale.setdefault(default_locale, {})
        self._by_locale = by_locale
        self._merged: dict[str, tuple[Article, ...]] = {}
        self._indexes: dict[str, _Index] = {}
        for locale in by_locale:
            merged = self._merge(locale)
            self._merged[locale] = merged
            self._indexes[locale] = _Index(merged, self.examples, vectors)

    def with_examples(self, examples: Mapping[str, Sequence[str]]) -> KnowledgeBase:
        """The same articles with these example questions (the indexes are rebuilt: milliseconds)."""
        articles = [a for by_id in self._by_locale.values() for a in by_id.values()]
        return KnowledgeBase(articles, self.default_locale, self.warnings, examples, self.vectors)

    def _merge(self, locale: str) -> tuple[Article, ...]:
        own = self._by_locale[locale]
        base = self._by_locale[self.default_locale]
        ids = sorted(set(own) | set(base))
        return tuple(own.get(i) or base[i] for i in ids)

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_locale))

    def _locale(self, locale: str | None) -> str:
        if not locale:
            return self.default_locale
        short = locale.replace("_", "-").split("-", 1)[0].lower()
        return short if short in self._by_locale else self.default_locale

    def __len__(self) -> int:
        return len(self._merged[self.default_locale])

    def article(self, article_id: str, locale: str | None = None) -> Article | None:
        """The article in ``locale``, or in the default locale when it is not translated."""
        loc = self._locale(locale)
        return self._by_locale[loc].get(article_id) or self._by_locale[self.default_locale].get(article_id)

    def all(self, locale: str | None = None) -> list[Article]:
        return list(self._merged[self._locale(locale)])

    def by_topic(self, topic: Topic, locale: str | None = None) -> list[Article]:
        order = list(Category)
        found = [a for a in self._merged[self._locale(locale)] if topic in a.topics]
        return sorted(found, key=lambda a: (min(order.index(c) for c in a.categories), -a.priority, a.title))

    def for_context(
        self,
        role: Role | None,
        topic: Topic,
        category: Category | None,
        locale: str | None = None,
        limit: int = 3,
    ) -> list[Article]:
        """Articles to offer before the question is typed: for this role, topic and category.

        Most specific first (fewest categories and topics), then the ``priority`` the school set.
        """
        found = [
            a
            for a in self._merged[self._locale(locale)]
            if topic in a.topics and a.for_role(role) and (category is None or category in a.categories)
        ]
        found.sort(key=lambda a: (-a.priority, len(a.categories), len(a.topics), len(a.roles), a.id))
        return found[: max(limit, 0)]

    def search(
        self,
        text: str,
        locale: str | None = None,
        role: Role | None = None,
        topic: Topic | None = None,
        category: Category | None = None,
        limit: int = 3,
    ) -> list[Match]:
        """Articles matching a typed question, best first; empty when nothing is relevant enough."""
        if limit <= 0 or not text.strip():
            return []
        index = self._indexes[self._locale(locale)]
        resolved = index.resolve(text[:2000])
        if not resolved.groups:
            return []
        lexicon = _lexicon()
        raw: dict[int, float] = {}
        covered: dict[int, float] = {}
        question_weight = resolved.unknown
        mentioned: set[Topic] = set()
        for terms, factor, subject in resolved.groups:
            for hinted, hints in lexicon.topic_hints.items():
                if hints.intersection(terms):
                    mentioned.add(hinted)
            best: dict[int, float] = {}
            share: dict[int, float] = {}  # how much of the word the article explains (its body alone: less)
            if not lexicon.weak.isdisjoint(terms):
                factor *= WEAK_FACTOR
            rarity = max(index.idf[term] for term in terms) * factor
            if not subject:
                rarity = min(rarity, OTHER_WORD_CAP)
            question_weight += rarity
            for term in terms:
                idf = index.idf[term]
                for number, weight in index.postings[term].items():
                    value = idf * weight * factor
                    if value > best.get(number, 0.0):
                        best[number] = value
                    part = 1.0 if weight > BODY_WEIGHT else BODY_COVERAGE
                    share[number] = max(share.get(number, 0.0), part)
            for number, value in best.items():
                raw[number] = raw.get(number, 0.0) + value
                covered[number] = covered.get(number, 0.0) + rarity * share[number]
        asked = {term for terms, _, _ in resolved.groups for term in terms}
        bonus: dict[int, float] = {}
        for number, phrase in index.phrases:
            if number in raw and all(asked.intersection(group) for group in phrase):
                value = PHRASE_WEIGHT * sum(max(index.idf.get(t, 0.0) for t in group) for group in phrase)
                bonus[number] = max(bonus.get(number, 0.0), value)
        for number, value in bonus.items():
            raw[number] += value
        text_topic = next(iter(mentioned)) if len(mentioned) == 1 else None
        implied_topic = default_topic(role) if role is not None and topic is None else None
        results: list[Match] = []
        answered = False  # one article at least explains enough of the question
        for number, score in raw.items():
            article = index.articles[number]
            # An article for another role or topic must explain more of the question to be offered.
            other_role = role is not None and role not in article.roles
            other_topic = topic is not None and topic not in article.topics
            needed = MIN_COVERAGE + MISMATCH_COVERAGE * (other_role + other_topic)
            coverage = covered[number] / question_weight if question_weight > 0 else 1.0
            if coverage < needed * SECOND_COVERAGE:
                continue
            if other_role:
                score *= ROLE_MISMATCH
            if topic is not None:
                score *= TOPIC_MISMATCH if other_topic else TOPIC_MATCH
            else:
                if text_topic is not None:
                    score *= TEXT_TOPIC_MATCH if text_topic in article.topics else TEXT_TOPIC_MISMATCH
                if implied_topic is not None:
                    score *= ROLE_TOPIC_MATCH if implied_topic in article.topics else ROLE_TOPIC_MISMATCH
            if category is not None and category in article.categories:
                score *= CATEGORY_MATCH
            if score >= MIN_SCORE:
                results.append(Match(article, round(score, 3)))
                answered = answered or coverage >= needed
        if not results or not answered:
            return []
        results.sort(key=lambda m: (-m.score, m.article.id))
        floor = results[0].score * RELATIVE_CUTOFF
        return [m for m in results if m.score >= floor][:limit]


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions about one subject (the gaps report): their positions in the list given, and the words
    they share that no article uses (what the missing article would be about)."""

    members: tuple[int, ...]
    subject: tuple[str, ...]


GROUP_MIN_OVERLAP = 0.5  # or: the share of words two questions have in common (by lemma and synonym)


def group_questions(kb: KnowledgeBase, questions: Sequence[str], locale: str | None = None) -> list[QuestionGroup]:
    """Group questions asked in different words about the same subject: two questions belong together when
    they share a noun that no article uses (the missing subject: «собрание», «столовая»), or half of their
    words. Groups of two or more, largest first. Pure: no storage, the caller picks the questions."""
    index = kb._indexes[kb._locale(locale)]
    weak = _lexicon().weak
    words: list[set[str]] = []
    subjects: list[set[str]] = []
    for text in questions:
        analysed = _analyse(text[:2000])
        words.append({group[0] for group, _ in analysed if group[0] not in weak})
        subjects.append(
            {
                group[0]
                for group, word in analysed
                if word.subject and word.known and group[0] not in weak and not any(t in index.postings for t in group)
            }
        )
    parent = list(range(len(questions)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(questions)):
        for j in range(i + 1, len(questions)):
            union = words[i] | words[j]
            overlap = len(words[i] & words[j]) / len(union) if union else 0.0
            if subjects[i] & subjects[j] or overlap >= GROUP_MIN_OVERLAP:
                parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(questions)):
        members.setdefault(root(i), []).append(i)
    groups: list[QuestionGroup] = []
    for found in members.values():
        if len(found) < 2:
            continue
        counts: dict[str, int] = {}
        for i in found:
            for lemma in subjects[i] or words[i]:
                counts[lemma] = counts.get(lemma, 0) + 1
        shared = sorted((lemma for lemma, n in counts.items() if n >= 2), key=lambda w: (-counts[w], w))
        groups.append(QuestionGroup(tuple(found), tuple(shared[:3])))
    groups.sort(key=lambda g: (-len(g.members), g.members[0]))
    return groups


def load_knowledge_base(
    root: Path, default_locale: str = DEFAULT_LOCALE, vectors: WordVectors | None = None
) -> KnowledgeBase:
    """Read ``root/<locale>/*.md``. Raises KnowledgeBaseError("file:line: problem") on a broken file.

    Files whose name starts with ``_`` or ``.`` are drafts and are skipped. An article missing in a
    translation is only a warning (the default locale's text is shown instead).
    """
    base = Path(root)
    if not base.is_dir():
        raise KnowledgeBaseError(f"{base}:0: knowledge directory not found")
    if not (base / default_locale).is_dir():
        raise KnowledgeBaseError(f"{base / default_locale}:0: the default locale's directory is missing")
    articles: list[Article] = []
    warnings: list[str] = []
    ids_by_locale: dict[str, dict[str, Article]] = {}
    for locale_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        locale = locale_dir.name
        seen: dict[str, Article] = {}
        for path in sorted(locale_dir.glob("*.md")):
            if path.name.startswith(("_", ".")) or path.name.lower() == "readme.md":
                continue
            parsed = _parse_article(path, locale)
            article = parsed.article
            if article.id in seen:
                raise KnowledgeBaseError(
                    f"{path}:{parsed.id_line}: duplicate id {article.id!r} (already used in {seen[article.id].source})"
                )
            seen[article.id] = article
            articles.append(article)
        ids_by_locale[locale] = seen
    base_ids = ids_by_locale[default_locale]
    if not base_ids:
        raise KnowledgeBaseError(f"{base / default_locale}:0: no articles found")
    for locale, seen in ids_by_locale.items():
        if locale == default_locale:
            continue
        for missing in sorted(set(base_ids) - set(seen)):
            warnings.append(f"{base_ids[missing].source}:1: no {locale} translation of {missing!r}")
        for extra in sorted(set(seen) - set(base_ids)):
            warnings.append(f"{seen[extra].source}:1: {extra!r} has no {default_locale} original")
        for same in sorted(set(seen) & set(base_ids)):
            a, b = base_ids[same], seen[same]
            if (a.topics, a.categories, a.roles) != (b.topics, b.categories, b.roles):
                warnings.append(f"{b.source}:1: topics/categories/roles differ from {a.source}")
    for warning in warnings:
        log.warning("knowledge base: %s", warning)
    return KnowledgeBase(articles, default_locale, warnings, vectors=vectors)
