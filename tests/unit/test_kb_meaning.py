"""The matcher by meaning (issue 17): lemmas, verbs by meaning, typos, «nothing» for an unknown subject, the
semantic signal, learned example questions, and grouping the questions no article answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from helpdesk.domain import Role, Topic
from helpdesk.rules.kb import (
    KnowledgeBase,
    KnowledgeBaseError,
    _lemma,
    group_questions,
    load_knowledge_base,
    markdown_to_telegram_html,
)

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(KNOWLEDGE)


def ids(kb: KnowledgeBase, text: str, role: Role | None = None, topic: Topic | None = None) -> list[str]:
    return [m.article.id for m in kb.search(text, "ru", role=role, topic=topic)]


def test_words_are_reduced_to_their_dictionary_form() -> None:
    assert _lemma("оценок") == _lemma("оценками") == _lemma("оценку") == "оценка"
    assert _lemma("вижу") == "видеть"
    assert _lemma("ребёнка") == _lemma("ребенку") == "ребенок"
    assert _lemma("пищит") == _lemma("пищал") == "пищать"
    assert _lemma("grades") == _lemma("grade")  # English words are stemmed


@pytest.mark.parametrize(
    ("first", "second", "role", "expected"),
    [
        # other forms of the same words
        ("не приходят уведомления", "уведомление не пришло", Role.PARENT, "ed-notifications"),
        ("забыла пароль от журнала", "пароль от журнала забыт", Role.SUBJECT_TEACHER, "ej-password-reset"),
        # other words for the same thing: aspect pairs and prefixes are different dictionary words
        ("как поставить оценку в журнал", "куда ставить оценки ученикам", Role.SUBJECT_TEACHER, "ej-put-grade"),
        ("как поставить оценку в журнал", "выставление отметок в журнал", Role.SUBJECT_TEACHER, "ej-put-grade"),
        ("в дневнике не видно оценки", "в дневнике не отображаются отметки", Role.PARENT, "ed-grade-not-shown"),
    ],
)
def test_word_forms_and_paraphrases_find_the_same_article(
    kb: KnowledgeBase, first: str, second: str, role: Role, expected: str
) -> None:
    assert expected in ids(kb, first, role)[:3]
    assert expected in ids(kb, second, role)[:3]


def test_typos_are_corrected_in_words_the_dictionary_does_not_know(kb: KnowledgeBase) -> None:
    assert ids(kb, "пороль не подходит в дневнек", Role.STUDENT, Topic.DIARY)[:1] == ["ed-password-reset"]
    assert ids(kb, "как войти через гасуслуги", Role.PARENT, Topic.DIARY)[:1] == ["ed-first-login-gosuslugi"]


@pytest.mark.parametrize(
    "question",
    [
        "когда будет родительское собрание",
        "как оплатить питание в столовой",
        "сколько стоит летний лагерь",
        "когда будет зарплата за сентябрь",
    ],
)
def test_no_offer_when_the_question_is_about_a_subject_no_article_knows(kb: KnowledgeBase, question: str) -> None:
    assert ids(kb, question, Role.PARENT) == []


# --------------------------------------------------------------------------- the semantic signal


class TinyVectors:
    """Three words in a 3-dimensional space: «пищать» is near «уведомление», far from «пароль»."""

    def __init__(self) -> None:
        raw = {"уведомление": (1.0, 0.0, 0.0), "пищать": (0.9, 0.3, 0.0), "пароль": (0.0, 0.0, 1.0)}
        self.table = {w: tuple(x / math.sqrt(sum(y * y for y in v)) for x in v) for w, v in raw.items()}

    def vector(self, word: str) -> Sequence[float] | None:
        return self.table.get(word)


def test_the_semantic_signal_finds_an_article_by_a_word_it_does_not_use() -> None:
    pytest.importorskip("numpy")  # the vectors bring it; without them the signal is off
    articles = load_knowledge_base(KNOWLEDGE)
    with_vectors = load_knowledge_base(KNOWLEDGE, vectors=TinyVectors())
    # (Questions with other words the articles' examples know, «перестало», «оценки», are found without it.)
    for question in ("ничего не пищит", "не пищит"):
        assert "ed-notifications" not in ids(articles, question, Role.PARENT)
        assert ids(with_vectors, question, Role.PARENT)[:1] == ["ed-notifications"]
    # A word far from every article word is no signal.
    assert ids(with_vectors, "когда будет родительское собрание", Role.PARENT) == []


def test_navec_vectors_from_the_natasha_wheel_load_and_answer() -> None:
    """The real vectors (optional extra ``vectors``): 0.8 s and about 190 MB, once per process."""
    pytest.importorskip("navec")
    from helpdesk.rules.kb_vectors import load_navec

    vectors = load_navec()
    if vectors is None:
        pytest.skip("natasha (with the navec vectors) is not installed")
    assert vectors.vector("оценка") is not None and vectors.vector("zzzzqqq") is None
    kb = load_knowledge_base(KNOWLEDGE, vectors=vectors)
    assert ids(kb, "не приходят уведомления об оценках", Role.PARENT)[:1] == ["ed-notifications"]
    assert ids(kb, "когда будет родительское собрание", Role.PARENT) == []


# --------------------------------------------------------------------------- learning and gaps


def test_an_example_question_makes_the_same_question_in_new_words_find_the_article(kb: KnowledgeBase) -> None:
    learned = "Телефон перестал пищать, когда ставят отметки"
    asked = "Планшет больше не пищит при новых оценках"
    assert "ed-notifications" not in ids(kb, asked, Role.PARENT, Topic.DIARY)
    taught = kb.with_examples({"ed-notifications": [learned]})
    assert ids(taught, asked, Role.PARENT, Topic.DIARY)[:1] == ["ed-notifications"]
    assert taught.examples == {"ed-notifications": (learned,)}
    assert len(taught) == len(kb)  # the same articles


def test_three_wordings_of_one_missing_subject_are_grouped(kb: KnowledgeBase) -> None:
    questions = [
        "Когда будет родительское собрание в 5А?",
        "забыла пароль от дневника",
        "Во сколько начнётся собрание для родителей",
        "как оплатить питание в столовой",
        "перенесли ли собрание на четверг",
        "меню столовой на неделю где посмотреть",
        "не вижу оценки",
    ]
    groups = group_questions(kb, questions)
    assert [(g.members, g.subject) for g in groups] == [((0, 2, 4), ("собрание",)), ((3, 5), ("столовая",))]


# --------------------------------------------------------------------------- markdown-it


def test_markdown_it_renders_the_telegram_subset() -> None:
    md = "Текст <b>не тег</b> и `код`\n\n- пункт\n  - вложенный\n\n```\nблок < 1\n```"
    assert markdown_to_telegram_html(md) == (
        "Текст &lt;b&gt;не тег&lt;/b&gt; и код\n\n• пункт\n   • вложенный\n\nблок &lt; 1"
    )


# --------------------------------------------------------------------------- tuning (i17-tune)


def test_example_questions_in_the_front_matter_are_parsed_and_matched(tmp_path: Path) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "a.md").write_text(
        "---\nid: a\ntitle: Питание\ntopics: ed\ncategories: other\nexamples:\n"
        "  - где посмотреть меню столовой\n  - сколько стоит обед\nkeywords: питание\n---\nТекст.\n",
        encoding="utf-8",
    )
    for path in (KNOWLEDGE / "ru").glob("*.md"):  # the other articles: word rarities as in the bot
        (tmp_path / "ru" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    article = kb.article("a")
    assert article is not None and article.examples == ("где посмотреть меню столовой", "сколько стоит обед")
    assert article.keywords == ("питание",)
    assert ids(kb, "какое меню в столовой") == ["a"]


def test_examples_written_on_the_key_line_are_an_error_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "a.md").write_text(
        "---\nid: a\ntitle: T\ntopics: ed\ncategories: other\nexamples: одно, другое\n---\nТекст.\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError, match=r"a\.md:6: write each example"):
        load_knowledge_base(tmp_path)


def test_an_article_for_another_role_must_explain_more_of_the_question(kb: KnowledgeBase) -> None:
    # «нагрузка» is in the administration's articles: a teacher's question about his hours is not about them.
    question = "сколько часов нагрузка у учителя математики в этом году"
    assert ids(kb, question, Role.SUBJECT_TEACHER, Topic.JOURNAL) == []
    assert ids(kb, "новому учителю не назначена нагрузка", Role.ADMINISTRATION, Topic.JOURNAL)[:1] == [
        "adm-new-teacher"
    ]


def test_an_unknown_noun_is_the_subject_of_the_question(kb: KnowledgeBase) -> None:
    # «аватарку» is in no dictionary and one typo from no article word: the question is about it, not grades.
    assert ids(kb, "как поставить аватарку в дневнике", Role.STUDENT, Topic.DIARY) == []


def test_words_written_apart_and_in_russian_letters_are_recognised(kb: KnowledgeBase) -> None:
    assert "ed-first-login-gosuslugi" in ids(kb, "как войти через гос услуги", Role.PARENT, Topic.DIARY)
    assert ids(kb, "можно ли сохранить журнал в эксель", Role.SUBJECT_TEACHER, Topic.JOURNAL)[:1] == [
        "ej-print-journal"
    ]


def test_whether_to_offer_is_one_decision_and_which_articles_another(kb: KnowledgeBase) -> None:
    # «прошлого года» is in one example of the timetable article, which so explains more of the question; the
    # article on lesson topics explains less but matches its subject («тема урока») and is offered beside it, first.
    found = ids(kb, "как скопировать темы уроков из прошлого года", Role.SUBJECT_TEACHER, Topic.JOURNAL)
    assert found[:1] == ["ej-lesson-topic"]
    # Alone, the article on lesson topics explains too little of it: no reason to offer anything.
    without = KnowledgeBase([a for a in kb.all("ru") if a.id != "ej-timetable-changes"])
    assert ids(without, "как скопировать темы уроков из прошлого года", Role.SUBJECT_TEACHER, Topic.JOURNAL) == []


def test_a_word_the_dictionary_does_not_know_is_matched_in_its_guessed_form(kb: KnowledgeBase) -> None:
    # «сферуме», «сферума» are in no dictionary; both stand for «сферум», in the articles and in the question.
    for question in ("как попасть в чат класса в сферуме", "не могу найти ссылку сферума"):
        assert ids(kb, question, Role.PARENT)[:1] == ["sferum-messenger"], question


def test_a_girl_is_a_child_and_a_pronoun_is_no_subject(kb: KnowledgeBase) -> None:
    assert "ej-fix-grade" in ids(kb, "поставила двойку не той девочке, как исправить", Role.SUBJECT_TEACHER, Topic.JOURNAL)
    assert "ej-parent-contacts" in ids(
        kb, "мама ученицы пишет что у нее в дневнике нет дочери", Role.CLASS_TEACHER, Topic.JOURNAL
    )


def test_a_class_name_is_the_scene_not_the_subject(kb: KnowledgeBase) -> None:
    # «10а» is no word of any article and none of the dictionary: still not what the question is about.
    for question in ("у сына в 10а не видно оценки в дневнике", "у сына в 5в не видно оценки в дневнике"):
        assert ids(kb, question, Role.PARENT, Topic.DIARY)[:1] == ["ed-grade-not-shown"], question
