"""Knowledge base: loader, Markdown -> Telegram HTML, matcher, and the quality set."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpdesk.domain import Category, Role, Topic, categories_for
from helpdesk.rules.kb import (
    MAX_BODY_CHARS,
    Article,
    KnowledgeBase,
    KnowledgeBaseError,
    Match,
    load_knowledge_base,
    markdown_to_telegram_html,
)

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "data" / "kb_questions.tsv"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(KNOWLEDGE)


def ids(matches: Sequence[Match]) -> list[str]:
    return [m.article.id for m in matches]


# --------------------------------------------------------------------------- Telegram HTML checker

_ENTITY_RE = re.compile(r"&(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);")
_ALLOWED_TAG_RE = re.compile(r'</?b>|</?i>|<a href="[^"<>]*">|</a>')


class _TelegramHtmlChecker(HTMLParser):
    """Only <b>, <i>, <a href>; properly nested; nothing else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"b", "i", "a"}:
            self.problems.append(f"tag <{tag}> is not allowed")
        if tag == "a":
            if [name for name, _ in attrs] != ["href"] or not (attrs[0][1] or "").startswith(
                ("https://", "http://", "mailto:", "tel:", "tg://")
            ):
                self.problems.append(f"bad link attributes {attrs}")
        elif attrs:
            self.problems.append(f"<{tag}> must have no attributes")
        if tag in self.stack:
            self.problems.append(f"<{tag}> nested in itself")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()


def telegram_html_problems(text: str) -> list[str]:
    checker = _TelegramHtmlChecker()
    checker.feed(text)
    checker.close()
    problems = list(checker.problems)
    if checker.stack:
        problems.append(f"unclosed {checker.stack}")
    outside_tags = _ALLOWED_TAG_RE.sub("", text)
    if "<" in outside_tags or ">" in outside_tags:
        problems.append("unescaped < or >")
    if "&" in _ENTITY_RE.sub("", outside_tags):
        problems.append("unescaped &")
    return problems


def test_checker_catches_bad_html() -> None:
    assert telegram_html_problems('<b>ok</b> &amp; <a href="https://x.example">x</a>') == []
    assert telegram_html_problems("<b>open")
    assert telegram_html_problems("<u>no</u>")
    assert telegram_html_problems("a & b")
    assert telegram_html_problems("<b><i>x</b></i>")
    assert telegram_html_problems("1 < 2")


# --------------------------------------------------------------------------- the shipped articles


def test_shipped_articles_load_without_warnings(kb: KnowledgeBase) -> None:
    assert len(kb.all("ru")) >= 28
    assert kb.warnings == ()
    assert set(kb.locales) >= {"ru", "en"}


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_body_is_valid_telegram_html(kb: KnowledgeBase, locale: str) -> None:
    for article in kb.all(locale):
        assert article.locale == locale, article.id
        assert len(article.body_html) < MAX_BODY_CHARS, article.id
        problems = telegram_html_problems(article.body_html) + telegram_html_problems(article.render())
        assert problems == [], f"{article.id} ({locale}): {problems}"


def test_every_ru_article_has_an_en_twin_with_same_metadata(kb: KnowledgeBase) -> None:
    en_dir = KNOWLEDGE / "en"
    for ru in kb.all("ru"):
        en = kb.article(ru.id, "en")
        assert en is not None and en.locale == "en", f"{ru.id} has no en/{ru.id}.md"
        assert (en.topics, en.categories, en.roles) == (ru.topics, ru.categories, ru.roles), ru.id
    assert {p.stem for p in en_dir.glob("*.md")} == {a.id for a in kb.all("ru")}


def test_articles_use_school_contacts_and_placeholder_links_only(kb: KnowledgeBase) -> None:
    for article in kb.all("ru") + kb.all("en"):
        for href in re.findall(r'href="([^"]+)"', article.body_html):
            assert href.startswith("https://school.example/"), (article.id, href)
        for phone in re.findall(r"\(\d{5}\) [\d-]+", article.body_html):
            assert phone == "(86550) 93-464", article.id
        for mail in re.findall(r"[\w.]+@\w+(?:\.\w+)+", article.body_html):
            assert mail == "kazmschool@mail.ru", article.id


def test_articles_are_reachable_from_menus(kb: KnowledgeBase) -> None:
    """Every article is offered for at least one role/topic/category the bot shows as buttons."""
    reachable: set[str] = set()
    for role in Role:
        for topic in Topic:
            for category in categories_for(role, topic):
                reachable.update(a.id for a in kb.for_context(role, topic, category, "ru", limit=100))
    assert reachable == {a.id for a in kb.all("ru")}


def test_article_lookup_and_locale_fallback(kb: KnowledgeBase) -> None:
    ru = kb.article("ed-password-reset", "ru")
    assert ru is not None and ru.locale == "ru" and "пароль" in ru.title.lower()
    en = kb.article("ed-password-reset", "en-US")
    assert en is not None and en.locale == "en"
    de = kb.article("ed-password-reset", "de")
    assert de is not None and de.locale == "ru"
    assert kb.article("no-such-article", "ru") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        ru.title = "x"  # type: ignore[misc]


def test_by_topic_and_all(kb: KnowledgeBase) -> None:
    journal = kb.by_topic(Topic.JOURNAL, "ru")
    diary = kb.by_topic(Topic.DIARY, "ru")
    assert all(Topic.JOURNAL in a.topics for a in journal)
    assert all(Topic.DIARY in a.topics for a in diary)
    assert {a.id for a in journal} | {a.id for a in diary} == {a.id for a in kb.all("ru")}
    assert "contacts" in {a.id for a in journal} & {a.id for a in diary}


# --------------------------------------------------------------------------- for_context


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("topic", list(Topic))
def test_for_context_filters_by_role_topic_category(kb: KnowledgeBase, role: Role, topic: Topic) -> None:
    for category in categories_for(role, topic):
        found = kb.for_context(role, topic, category, "ru", limit=3)
        assert len(found) <= 3
        for article in found:
            assert role in article.roles and topic in article.topics and category in article.categories


def test_for_context_offers_the_obvious_article_first(kb: KnowledgeBase) -> None:
    first = kb.for_context(Role.PARENT, Topic.DIARY, Category.LOGIN, "ru")[0]
    assert first.id == "ed-password-reset"
    first = kb.for_context(Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.GRADES, "ru")[0]
    assert first.id == "ej-put-grade"
    reports = ids_of(kb.for_context(Role.CLASS_TEACHER, Topic.JOURNAL, Category.REPORTS, "ru"))
    assert "ej-class-teacher-reports" in reports
    admin_only = {a.id for a in kb.all("ru") if a.roles == (Role.ADMINISTRATION,)}
    assert admin_only
    teacher_view = {
        a.id
        for c in categories_for(Role.SUBJECT_TEACHER, Topic.JOURNAL)
        for a in kb.for_context(Role.SUBJECT_TEACHER, Topic.JOURNAL, c, "ru", limit=50)
    }
    assert not admin_only & teacher_view
    assert kb.for_context(Role.PARENT, Topic.DIARY, Category.LOGIN, "en")[0].locale == "en"
    assert kb.for_context(Role.PARENT, Topic.DIARY, None, "ru", limit=0) == []


def ids_of(articles: Sequence[Article]) -> list[str]:
    return [a.id for a in articles]


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize("form", ["пароль", "пароля", "паролем", "паролей", "Пароли", "ПАРОЛЮ"])
def test_word_forms(kb: KnowledgeBase, form: str) -> None:
    found = ids(kb.search(f"забыла {form} от дневника", "ru", role=Role.PARENT))
    assert found and found[0] == "ed-password-reset"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("пороль не подходит", "ed-password-reset"),
        ("не приходят уведамления", "ed-notifications"),
        ("дневнек не показывает домашку", "ed-homework-not-visible"),
        ("как войти через госуслуг", "ed-first-login-gosuslugi"),
        ("как войти через гасуслуги", "ed-first-login-gosuslugi"),
        ("не видно оченки", "ed-grade-not-shown"),
    ],
)
def test_typos(kb: KnowledgeBase, question: str, expected: str) -> None:
    assert expected in ids(kb.search(question, "ru", role=Role.PARENT, topic=Topic.DIARY))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("как войти через ЕСИА", "ed-first-login-gosuslugi"),
        ("где дз", "ed-homework-not-visible"),
        ("не видно отметку", "ed-grade-not-shown"),
        ("в ЭД ребенка нет", "ed-link-child"),
        ("ёлки, не отображаётся домашнее задание", "ed-homework-not-visible"),
    ],
)
def test_synonyms_and_normalisation(kb: KnowledgeBase, question: str, expected: str) -> None:
    assert ids(kb.search(question, "ru", role=Role.PARENT, topic=Topic.DIARY))[:1] == [expected]


def test_journal_versus_diary(kb: KnowledgeBase) -> None:
    question = "забыл пароль"
    assert ids(kb.search(question, "ru", role=Role.PARENT))[0] == "ed-password-reset"
    assert ids(kb.search(question, "ru", role=Role.SUBJECT_TEACHER))[0] == "ej-password-reset"
    assert ids(kb.search(question, "ru", topic=Topic.JOURNAL))[0] == "ej-password-reset"
    grades = "что делать если оценка неправильная"
    assert ids(kb.search(grades, "ru", role=Role.PARENT, topic=Topic.DIARY))[0] == "ed-wrong-grade"
    assert ids(kb.search(grades, "ru", role=Role.SUBJECT_TEACHER, topic=Topic.JOURNAL))[0] == "ej-fix-grade"
    # the words "журнал"/"дневник" in the question decide when nothing else does
    assert ids(kb.search("пароль от журнала", "ru"))[0] == "ej-password-reset"
    assert ids(kb.search("пароль от дневника", "ru"))[0] == "ed-password-reset"
    # a teacher asking about the diary of their own child
    assert ids(kb.search("не видно оценки", "ru", role=Role.SUBJECT_TEACHER, topic=Topic.DIARY))[0] == (
        "ed-grade-not-shown"
    )


def test_category_boost(kb: KnowledgeBase) -> None:
    found = kb.search("не работает", "ru", role=Role.PARENT, topic=Topic.DIARY, category=Category.MOBILE)
    assert ids(found)[0] == "ed-mobile-app-login"


@pytest.mark.parametrize(
    "question",
    [
        "где купить школьную форму",
        "привет как дела",
        "",
        "   ",
        "???",
        "asdf qwerty",
        "что в столовой на обед",
    ],
)
def test_nothing_relevant_returns_nothing(kb: KnowledgeBase, question: str) -> None:
    assert kb.search(question, "ru", role=Role.PARENT, topic=Topic.DIARY) == []


def test_search_results_are_sorted_limited_and_in_locale(kb: KnowledgeBase) -> None:
    found = kb.search("средний балл оценки", "ru", limit=2)
    assert 0 < len(found) <= 2
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert kb.search("оценки", "ru", limit=0) == []
    english = kb.search("I forgot my password", "en", role=Role.PARENT)
    assert english and english[0].article.id == "ed-password-reset" and english[0].article.locale == "en"


def test_long_message_is_fast_enough(kb: KnowledgeBase) -> None:
    import time

    text = "здравствуйте подскажите пожалуйста почему у ребенка в дневнике не видно оценки " * 30
    started = time.perf_counter()
    for _ in range(20):
        kb.search(text, "ru", role=Role.PARENT)
    assert (time.perf_counter() - started) / 20 < 0.05


# --------------------------------------------------------------------------- quality set


def _read_questions() -> list[tuple[Role | None, Topic | None, str, str]]:
    rows: list[tuple[Role | None, Topic | None, str, str]] = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        role, topic, expected, text = line.split("\t")
        rows.append(
            (Role(role) if role != "-" else None, Topic(topic) if topic != "-" else None, expected, text)
        )
    return rows


def test_quality_set_is_well_formed(kb: KnowledgeBase) -> None:
    rows = _read_questions()
    known = {a.id for a in kb.all("ru")}
    assert len(rows) >= 70
    assert sum(1 for *_, expected, _ in rows if expected == "-") >= 10
    assert {expected for *_, expected, _ in rows if expected != "-"} <= known
    covered = {expected for *_, expected, _ in rows}
    assert len(covered & known) >= 0.9 * len(known)


def test_quality_set_accuracy(kb: KnowledgeBase) -> None:
    top1 = top3 = answerable = nothing = nothing_ok = 0
    misses: list[str] = []
    for role, topic, expected, text in _read_questions():
        found = ids(kb.search(text, "ru", role=role, topic=topic, limit=3))
        if expected == "-":
            nothing += 1
            nothing_ok += not found
            continue
        answerable += 1
        top1 += found[:1] == [expected]
        top3 += expected in found
        if expected not in found:
            misses.append(f"{text!r}: expected {expected}, got {found}")
    assert top3 / answerable >= 0.85, misses
    assert top1 / answerable >= 0.75, misses
    assert nothing_ok / nothing >= 0.8


# --------------------------------------------------------------------------- Markdown conversion


def test_markdown_to_telegram_html() -> None:
    md = (
        "Первый абзац & <тег>.\n\n\n"
        "1. Шаг **важно**\n"
        "2) Шаг *курсив* и [ссылка](https://school.example/help?a=1&b=2)\n"
        "- пункт\n"
        "## Заголовок\n"
    )
    out = markdown_to_telegram_html(md)
    assert out == (
        "Первый абзац &amp; &lt;тег&gt;.\n\n"
        "1. Шаг <b>важно</b>\n"
        '2. Шаг <i>курсив</i> и <a href="https://school.example/help?a=1&amp;b=2">ссылка</a>\n'
        "• пункт\n"
        "<b>Заголовок</b>"
    )
    assert telegram_html_problems(out) == []
    assert markdown_to_telegram_html("2 * 3 = 6, a*b") == "2 * 3 = 6, a*b"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Текст **без конца", "unclosed '**'"),
        ("[ссылка](javascript:alert(1))", "link"),
        ("[ссылка](ftp://x)", "link address"),
    ],
)
def test_markdown_errors_have_line_numbers(line: str, problem: str) -> None:
    with pytest.raises(KnowledgeBaseError, match=rf"^a\.md:12: .*{re.escape(problem)}"):
        markdown_to_telegram_html(f"ok\n{line}", "a.md", 11)


# --------------------------------------------------------------------------- loader errors

GOOD = """---
id: {id}
title: Заголовок
topics: ed
categories: login
roles: par, stu
keywords: пароль
---
Текст статьи.
"""


def _write(root: Path, locale: str, name: str, text: str) -> Path:
    path = root / locale / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_accepts_aliases_and_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "ru",
        "some-article.md",
        "---\n# comment\ntitle: T\ntopics: ЭЖ, дневник\ncategories: Оценки, other\nroles:\n---\nТело\n",
    )
    kb = load_knowledge_base(tmp_path)
    article = kb.article("some-article", "ru")
    assert article is not None
    assert article.topics == (Topic.JOURNAL, Topic.DIARY)
    assert article.categories == (Category.GRADES, Category.OTHER)
    assert article.roles == tuple(Role)
    assert article.keywords == ()


def test_missing_translation_is_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, "ru", "a.md", GOOD.format(id="a"))
    _write(tmp_path, "ru", "b.md", GOOD.format(id="b"))
    _write(tmp_path, "en", "a.md", GOOD.format(id="a"))
    _write(tmp_path, "ru", "_draft.md", "not even front matter")
    kb = load_knowledge_base(tmp_path)
    assert len(kb.warnings) == 1 and "b.md:1:" in kb.warnings[0] and "en" in kb.warnings[0]
    b = kb.article("b", "en")
    assert b is not None and b.locale == "ru"
    assert [a.id for a in kb.all("en")] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.format(id="x").replace("topics: ed", "topics: ed, xx"), 4, "unknown topic 'xx'"),
        (GOOD.format(id="x").replace("categories: login", "categories: money"), 5, "unknown categor"),
        (GOOD.format(id="x").replace("roles: par, stu", "roles: par, boss"), 6, "unknown role 'boss'"),
        (GOOD.format(id="x").replace("title: Заголовок\n", ""), 1, "missing title"),
        (GOOD.format(id="x").replace("title: Заголовок", "title:"), 3, "missing title"),
        (GOOD.format(id="x").replace("topics: ed", "topics:"), 4, "missing topics"),
        (GOOD.format(id="x").replace("topics: ed", "topics: ,"), 4, "must not be empty"),
        (GOOD.format(id="x").replace("keywords: пароль", "colour: red"), 7, "unknown key 'colour'"),
        (GOOD.format(id="x").replace("keywords: пароль", "title: again"), 7, "repeated"),
        (GOOD.format(id="x").replace("keywords: пароль", "just text"), 7, "expected 'key: value'"),
        (GOOD.format(id="Bad Id"), 2, "bad id"),
        (GOOD.format(id="x").replace("keywords: пароль", "priority: high"), 7, "whole number"),
        ("title: no front matter\n", 1, "must start with a '---'"),
        ("---\ntitle: T\ntopics: ed\n", 1, "not closed"),
        (GOOD.format(id="x").replace("Текст статьи.", ""), 9, "no text"),
        (GOOD.format(id="x").replace("Текст статьи.", "a\n\n**b"), 11, "unclosed '**'"),
        (GOOD.format(id="x").replace("Текст статьи.", "я" * (MAX_BODY_CHARS + 1)), 9, "too long"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = _write(tmp_path, "ru", "x.md", text)
    with pytest.raises(KnowledgeBaseError) as error:
        load_knowledge_base(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message, message


def test_duplicate_id_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "ru", "a.md", GOOD.format(id="same"))
    second = _write(tmp_path, "ru", "b.md", GOOD.format(id="same"))
    with pytest.raises(KnowledgeBaseError, match=rf"^{re.escape(str(second))}:2: duplicate id 'same'"):
        load_knowledge_base(tmp_path)


def test_missing_directories_are_errors(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="not found"):
        load_knowledge_base(tmp_path / "nope")
    (tmp_path / "en").mkdir()
    with pytest.raises(KnowledgeBaseError, match="default locale"):
        load_knowledge_base(tmp_path)
    (tmp_path / "ru").mkdir()
    with pytest.raises(KnowledgeBaseError, match="no articles"):
        load_knowledge_base(tmp_path)
