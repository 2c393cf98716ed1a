"""End to end: a specialist answers with a reference article, the user says whether it helped, the knowledge
base learns from it; management's /kbstats, /kbgaps, /kbreload (issue 17)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from fakegram import Actor, FakeTelegram, Msg
from helpdesk.domain import Category, Role, Topic
from tests.conftest import Harness
from tests.e2e.helpers import ask, press_on
from tests.e2e.test_schedule import MSK, _scheduled

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

# One question, and the same question in other words (other word forms, a synonym): before the knowledge base
# learns, the second does not find the notifications article.
FIRST = "Телефон перестал пищать, когда ставят отметки"
SECOND = "Планшет больше не пищит при новых оценках"


def _deputy(h: Harness) -> Actor:
    return h.server.actor(h.deputy, chat=h.group)


def _staff_in(h: Harness, card: Msg) -> Actor:
    return h.staff().in_thread(card.thread_id) if h.forum else h.staff()  # type: ignore[arg-type]


async def _article_command(h: Harness, card: Msg, words: str) -> Msg:
    """``/article <words>`` in the ticket's thread; returns the list of articles to pick from."""
    staff = h.staff()
    if h.forum:
        await staff.in_thread(card.thread_id).send(f"/article {words}")  # type: ignore[arg-type]
    else:
        await staff.reply_to(card, f"/article {words}")
    return await staff.expect("Статьи для вопроса")


async def test_an_article_sent_by_staff_teaches_the_next_users_question(desk: Harness) -> None:
    h = desk
    assert h.app is not None
    before = h.app.kb.search(SECOND, "ru", role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES)
    assert "ed-notifications" not in [m.article.id for m in before]

    first = h.user("Алла")
    number, card = await ask(h, first, FIRST)
    pick = await _article_command(h, card, "не приходят уведомления")
    assert pick.buttons and pick.buttons[0][0] == "📖 Уведомления об оценках и сообщениях не приходят"
    await press_on(h.staff(), pick, "Уведомления об оценках")

    article = await first.expect("Статья помогла?")
    assert "Настройки" in article.text
    assert [label for label, _ in article.buttons] == ["✅ Помогло", "Нет, не помогло"]
    sent = await h.staff().expect("отправил(а) пользователю статью")
    assert f"№{number}" in sent.text and "Ирина" in sent.text
    if h.forum:
        assert sent.thread_id == card.thread_id
    await first.press("Помогло")
    await first.expect("Рады, что статья помогла")
    told = await h.staff().expect("помогла")
    assert "запомнен как пример" in told.text
    # The ticket records it; a second press changes nothing.
    assert await h.app.store.kb.articles_of_ticket(number) == [("ed-notifications", "helped")]
    examples = await h.app.store.kb.examples()
    assert [(e.article_id, e.question, e.ticket_id) for e in examples] == [("ed-notifications", FIRST, number)]

    # The next parent asks the same in other words: the article is offered before any specialist.
    second = h.user("Белла")
    await second.send("/start")
    await second.expect("кто Вы")
    await second.press("Родитель")
    await second.press("дневник")
    await second.press("Оценки")
    await second.expect("Опишите")
    await second.send(SECOND)
    offer = await second.expect("Похоже, ответ на Ваш вопрос есть в справке")
    assert offer.buttons[0][0] == "📖 Уведомления об оценках и сообщениях не приходят"


async def test_the_cards_button_finds_articles_for_the_question_and_no_is_recorded(plain_desk: Harness) -> None:
    h = plain_desk
    assert h.app is not None
    parent = h.user("Вера")
    number, card = await ask(h, parent)  # «Не вижу оценки ребёнка за вчерашнюю контрольную»
    await press_on(h.staff(), card, "Ответить статьёй")
    pick = await h.staff().expect(f"Статьи для вопроса №{number}")
    titles = [label for label, _ in pick.buttons]
    assert "📖 Оценка не появилась в электронном дневнике" in titles
    await press_on(h.staff(), pick, "Оценка не появилась")
    await parent.expect("Статья помогла?")
    await h.staff().expect("отправил(а) пользователю статью")
    # The same article again before the user answered: not sent twice.
    again = await _article_command(h, card, "оценка не появилась")
    second = await press_on(h.staff(), again, "Оценка не появилась")
    assert second.show_alert and "уже отправлена" in (second.text or "")
    await parent.press("Нет, не помогло")
    await parent.expect("Специалист увидит это")
    await h.staff().expect("не помогла")
    assert await h.app.store.kb.articles_of_ticket(number) == [("ed-grade-not-shown", "declined")]
    assert await h.app.store.kb.examples() == []  # only «помогло» teaches
    # The user's messages still go to the ticket.
    await parent.send("Оценки так и нет")
    await h.staff().expect("Оценки так и нет")

    # /kbstats (management): offered, opened, helped, declined per article.
    await _deputy(h).send("/kbstats")
    stats = await _deputy(h).expect("Справочные статьи")
    line = next(x for x in stats.text.splitlines() if "Оценка не появилась" in x)
    assert "открыта: 1" in line and "помогла: 0" in line and "нет: 1" in line


async def test_the_gaps_report_groups_questions_no_article_answers(plain_desk: Harness) -> None:
    h = plain_desk
    questions = [
        ("Анна", "Когда будет родительское собрание в 5А классе?"),
        ("Борис", "Во сколько начнётся собрание для родителей?"),
        ("Вика", "Перенесли ли собрание на четверг?"),
        ("Глеб", "Как оплатить питание в столовой?"),
    ]
    for name, text in questions:
        await ask(h, h.user(name), text, category="Другое")
    deputy = _deputy(h)
    await deputy.send("/kbgaps")
    report = await deputy.expect("Вопросы без статьи")
    assert "собрание — вопросов: 3" in report.text
    for _, text in questions[:3]:
        assert text[:40] in report.text
    assert "столовой" not in report.text  # one question is not yet a gap
    # Staff who are not management are refused.
    await h.staff().send("/kbgaps")
    await h.staff().expect("только руководству школы")


async def test_kbreload_reads_a_new_article_without_a_restart(plain_desk: Harness, tmp_path: Path) -> None:
    h = plain_desk
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    h.extra_env["KNOWLEDGE_DIR"] = str(knowledge)
    await h.restart()
    (knowledge / "ru" / "meetings.md").write_text(
        "---\nid: meetings\ntitle: Родительские собрания\ntopics: ed\ncategories: other\nroles: par\n"
        "keywords: родительское собрание, собрание\n---\nГрафик собраний — на сайте школы.\n",
        encoding="utf-8",
    )
    deputy = _deputy(h)
    await deputy.send("/kbreload")
    await deputy.expect("Справка перечитана: статей — 39")
    parent = h.user("Дина")
    await parent.send("/faq когда родительское собрание")
    results = await parent.expect("Статьи по запросу")
    assert results.buttons[0][0] == "Родительские собрания"


async def test_the_gaps_report_reaches_management_on_monday_once(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async for h in _scheduled(fake_telegram, tmp_path, False, DAILY_SUMMARY_TIME="08:00"):
        await h.manager().expect("Сводка за 08.09.2026")  # Tuesday: the daily summary, no gaps report
        await ask(h, h.user("Анна"), "Когда будет родительское собрание в 5А?", category="Другое")
        await ask(h, h.user("Борис"), "Во сколько начнётся собрание для родителей?", category="Другое")
        h.clock.set(datetime(2026, 9, 14, 8, 0, 5, tzinfo=MSK))  # Monday
        await h.tick()
        report = await h.manager().expect("Вопросы без статьи")
        assert "собрание — вопросов: 2" in report.text
        await h.tick()
        assert not [m for m in h.manager().inbox if "Вопросы без статьи" in m.content and m is not report]
