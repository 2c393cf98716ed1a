"""End to end: the user rates the help after a close (once, with an optional comment; a low rating alerts the
deputy director; the card shows it); management's /report and /export, refused to anyone else; the weekly
report fires once, moved by the injected clock."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from bot.charts import HEIGHT_PX, WIDTH_PX
from fakegram import Actor, Msg
from tests.conftest import Harness
from tests.e2e.helpers import answer, ask, press_on

REFUSED = "только руководству школы"
# The first chart in a process imports matplotlib and reads its fonts: seconds on a loaded machine.
CHART_WAIT = 30.0
QUESTION = "Не вижу оценки ребёнка за вчерашнюю контрольную по алгебре"


def _deputy(h: Harness) -> Actor:
    return h.server.actor(h.deputy, chat=h.group)


def _png(h: Harness, msg: Msg) -> bytes:
    sizes = msg.raw["photo"]
    return h.server.file_bytes(max(sizes, key=lambda s: s["width"] * s["height"])["file_id"])


async def test_rating_after_a_close_once_with_a_comment_and_a_low_one_alerts_the_deputy(
    plain_desk: Harness,
) -> None:
    h = plain_desk
    parent = h.user("Вера")
    number, card = await ask(h, parent, QUESTION)
    staff = h.staff()
    await answer(h, card, "Оценки появятся после проверки работ, обычно к вечеру.")
    await parent.expect("Оценки появятся")
    await press_on(staff, card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    prompt = await parent.expect("оцените помощь")
    assert [label for label, _ in prompt.buttons] == ["1", "2", "3", "4", "5"]
    five = dict(prompt.buttons)["5"]
    assert five is not None

    await press_on(parent, prompt, "2")
    await parent.expect("напишите комментарий")
    assert "Ваша оценка: 2 из 5" in (prompt.text or "")
    alert = await staff.expect("Низкая оценка")
    assert f"№{number}" in alert.text and "2 из 5" in alert.text
    await h.server.wait_idle(timeout=5)
    assert "Оценка пользователя: ★★☆☆☆ (2 из 5)" in (card.text or "")

    await parent.send("Ответили быстро, но оценки так и не появились")
    await parent.expect("Спасибо за отзыв")
    comment = await staff.expect("Комментарий к оценке")
    assert "так и не появились" in comment.text

    # Once: the buttons are gone, and a second press (an old client, a replay) changes nothing.
    assert prompt.buttons == []
    again = await parent.press_data(prompt, five)
    assert "уже оценили" in (again.text or "")
    assert "★★☆☆☆" in (card.text or "")
    # A late answer reopens the ticket; closing it again does not ask a second time.
    await answer(h, card, "Проверьте, пожалуйста, ещё раз сейчас.")
    await parent.expect("Проверьте")
    await staff.expect("снова открыт")
    await h.server.wait_idle(timeout=5)
    await press_on(staff, card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    await parent.expect_nothing(timeout=1.0)


async def test_the_user_closes_and_is_asked_after_the_confirmation_a_good_rating_alerts_nobody(
    plain_desk: Harness,
) -> None:
    h = plain_desk
    parent = h.user("Нина")
    _number, card = await ask(h, parent)
    await parent.press("Вопрос решён")
    closed = await parent.expect("закрыт. Спасибо")
    prompt = await parent.expect("оцените помощь")
    assert prompt.message_id > closed.message_id
    await press_on(parent, prompt, "5")
    await parent.press("Без комментария")
    await parent.expect("спасибо за оценку")
    await h.server.wait_idle(timeout=5)
    assert "(5 из 5)" in (card.text or "")
    assert not any("Низкая оценка" in m.content for m in h.server.chat_messages(h.group))
    # Out of the comment dialog: the next message is a new question again.
    await parent.send("А где расписание на завтра?")
    await parent.expect("С чем связан вопрос")


async def test_a_vendor_hand_off_asks_only_at_the_close_and_a_conduct_end_never(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Ольга")
    _number, card = await ask(h, parent)
    staff = h.staff()
    await press_on(staff, card, "Передать разработчику")
    await parent.expect("разработчик")
    await h.server.wait_idle(timeout=5)
    assert not any("оцените помощь" in m.content for m in parent.inbox)
    await press_on(staff, card, "Закрыть")
    await parent.expect("оцените помощь")

    rude = h.user("Пётр")
    _number, card = await ask(h, rude, "Почему не видно оценок?")
    await rude.send("Вы там все идиоты?")
    await rude.expect("нарушает правила общения")
    await h.server.wait_idle(timeout=5)
    assert not any("оцените помощь" in m.content for m in rude.inbox)


async def test_report_and_export_are_for_management_only(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Анна")
    number, card = await ask(h, parent, QUESTION)
    await answer(h, card, "Посмотрите, пожалуйста, раздел «Оценки» ещё раз.")
    await press_on(h.staff(), card, "Закрыть")
    prompt = await parent.expect("оцените помощь")
    await press_on(parent, prompt, "4")

    staff = h.staff()
    for command in ("/report", "/report month", "/export", "/export week"):
        await staff.send(command)
        await staff.expect(REFUSED)
    assert not any(m.kind in ("photo", "document") for m in h.server.chat_messages(h.group))

    deputy = _deputy(h)
    await deputy.send("/report week")
    text = await deputy.expect("Отчёт службы помощи", timeout=CHART_WAIT)
    assert "Вопросов: 1 (ЭД 1), закрыто 1" in text.content
    assert "Оценки: 4,0 из 5" in text.content
    chart = await deputy.expect("Диаграмма", timeout=CHART_WAIT)
    assert chart.kind == "photo"
    with Image.open(io.BytesIO(_png(h, chart))) as image:
        assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)

    await deputy.send("/report 01.09.2026-30.09.2026")
    await deputy.expect("01.09.2026 – 30.09.2026", timeout=CHART_WAIT)
    await deputy.send("/report вчера")
    await deputy.expect("Использование: /report")

    await deputy.send("/export")
    document = await deputy.expect("Выгрузка вопросов", timeout=CHART_WAIT)
    assert document.kind == "document" and (document.file_name or "").endswith(".csv")
    data = h.server.file_bytes(document.raw["document"]["file_id"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data), delimiter=";"))
    assert [r["ticket"] for r in rows] == [str(number)]
    assert rows[0]["rating"] == "4" and rows[0]["status"] == "closed" and rows[0]["closed_how"] == "staff"
    assert QUESTION not in data and "Посмотрите" not in data


async def test_the_weekly_report_fires_once_with_the_injected_clock(plain_desk: Harness) -> None:
    h = plain_desk
    assert h.app is not None
    runner = h.app.runner
    # Tuesday 1 September 2026: a question this week.
    parent = h.user("Мария")
    await ask(h, parent)

    def reports() -> list[Msg]:
        return [m for m in h.server.chat_messages(h.group) if "Отчёт службы помощи" in m.content]

    await runner.tick()  # the week before (24–30 August) was empty: nothing is sent
    # Monday 7 September, 07:59 in Moscow: not yet.
    h.clock.set(datetime(2026, 9, 7, 4, 59, tzinfo=UTC))
    await runner.tick()
    await h.server.wait_idle(timeout=5)
    assert reports() == []
    # 08:00: the report of 31 August – 6 September, with its chart, once however often the job runs.
    h.clock.set(datetime(2026, 9, 7, 5, 0, tzinfo=UTC))
    await runner.tick()
    await runner.tick()
    h.clock.advance(hours=30)
    await runner.tick()
    staff = h.staff()
    text = await staff.expect("Отчёт службы помощи: 31.08.2026 – 06.09.2026", timeout=CHART_WAIT)
    assert "Вопросов: 1" in text.content
    chart = await staff.expect("Диаграмма", timeout=CHART_WAIT)
    assert chart.kind == "photo"
    with Image.open(io.BytesIO(_png(h, chart))) as image:
        assert image.size == (WIDTH_PX, HEIGHT_PX)
    await h.server.wait_idle(timeout=5)
    assert len(reports()) == 1
    # No manager chat: the report went to the staff group, so it names no specialist's load.
    assert "Нагрузка специалистов" not in text.content
    # The next Monday reports the next week (quiet: nothing happened), never the same one again.
    h.clock.set(datetime(2026, 9, 14, 5, 0, tzinfo=UTC) + timedelta(minutes=1))
    await runner.tick()
    await h.server.wait_idle(timeout=5)
    assert len(reports()) == 1


async def test_a_message_long_after_the_rating_is_not_taken_for_a_comment(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Зоя")
    await ask(h, parent)
    await parent.press("Вопрос решён")
    prompt = await parent.expect("оцените помощь")
    await press_on(parent, prompt, "3")
    await parent.expect("напишите комментарий")
    h.clock.advance(hours=2)
    await parent.send("Подскажите, где посмотреть домашнее задание?")
    await parent.expect("С чем связан вопрос")
