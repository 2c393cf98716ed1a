"""End to end: restarts, bad input, server errors, blocked users."""

from __future__ import annotations

from tests.conftest import Harness
from tests.e2e.helpers import answer, ask, press_on


async def test_restart_in_the_middle_of_the_dialog(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Светлана")
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.expect("Выберите тему")
    await h.restart()
    # The dialog resumes where it was: the category buttons still work after the restart.
    await parent.press("Домашнее задание")
    await parent.expect("Опишите")
    await h.restart()
    await parent.send("Учитель не прикрепил файл к заданию")
    await parent.expect("Проверьте")
    await parent.press("Отправить")
    await parent.expect("№1 принят")
    await h.staff().expect("Учитель не прикрепил файл")


async def test_restart_with_an_open_ticket(desk: Harness) -> None:
    parent = desk.user("Тамара")
    _number, card = await ask(desk, parent)
    await desk.restart()
    await parent.send("Дополнение после перезапуска")
    await desk.staff().expect("Дополнение после перезапуска")
    await answer(desk, card, "Ответ после перезапуска")
    await parent.expect("Ответ после перезапуска")


async def test_unexpected_input_keeps_the_dialog(desk: Harness) -> None:
    parent = desk.user("Ксения")
    await parent.send("/start")
    await parent.expect("кто Вы")
    await parent.send_sticker()
    await parent.expect("кнопкой")
    await parent.press("Родитель")
    await parent.send_voice()
    hint = await parent.expect("кнопкой")
    assert hint.buttons, "the hint shows the buttons again"
    await parent.press("дневник")
    await parent.send_location()
    await parent.expect("кнопкой")
    await parent.press("Посещаемость")
    await parent.expect("Опишите")
    await parent.send_contact()
    await parent.expect("не могу передать")
    await parent.send_video_note()
    await parent.expect("не могу передать")
    await parent.send("Пропуск по болезни стоит как прогул")
    await parent.expect("Проверьте")
    await parent.send_sticker()
    await parent.expect("не могу передать")
    await parent.press("Отправить")
    await parent.expect("принят")
    # With an open ticket, a sticker is not relayed, and the user is told so.
    await parent.send_sticker()
    await parent.expect("не могу передать")


async def test_text_typed_where_a_button_is_expected_is_kept(plain_desk: Harness) -> None:
    """Private-chat dialog only: the staff group's mode plays no part (run once)."""
    desk = plain_desk
    parent = desk.user("Роза")
    await parent.send("/start")
    await parent.expect("кто Вы")
    await parent.send("У меня не работает дневник")
    await parent.expect("кнопкой")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Вход и пароль")
    summary = await parent.expect("Проверьте")
    assert "У меня не работает дневник" in summary.text


async def test_first_message_without_start_is_not_lost(desk: Harness) -> None:
    parent = desk.user("Алла")
    await parent.send("Здравствуйте, не могу войти в дневник через Госуслуги")
    await parent.expect("сохранено")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Вход и пароль")
    await parent.expect("Проверьте")
    await parent.press("Отправить")
    await parent.expect("принят")
    await desk.staff().expect("через Госуслуги")


async def test_long_text_is_relayed_in_parts(desk: Harness) -> None:
    parent = desk.user("Долгий")
    long_question = ("Очень подробное описание проблемы со входом. " * 95).strip()
    assert len(long_question) > 4000
    _number, card = await ask(desk, parent, long_question)
    await desk.server.wait_idle()
    # Card plus the continuation: every word arrives, and no call was refused by the server.
    staff_texts = [m.text for m in desk.server.chat_messages(desk.group.id) if m.from_bot and m.text]
    relayed = "".join(t for t in staff_texts if "подробное" in t)
    assert relayed.count("подробное") == 95
    long_followup = "Ещё " + "деталь " * 700
    await parent.send(long_followup[:4096])
    await desk.staff().expect("деталь")
    # And a long answer from staff reaches the user whole, in parts.
    long_answer = "Шаг " + "проверки " * 500
    await answer(desk, card, long_answer[:4096])
    first = await parent.expect("специалист школы")
    rest = await parent.expect("проверки")
    assert (first.text + rest.text).count("проверки") == long_answer[:4096].count("проверки")


async def test_outdated_and_forged_buttons(plain_desk: Harness) -> None:
    """Private-chat dialog only: the staff group's mode plays no part (run once)."""
    desk = plain_desk
    parent = desk.user("Инна")
    await parent.send("/start")
    roles = await parent.expect("кто Вы")
    await parent.press("Родитель")
    await parent.press("дневник")
    categories = await parent.expect("Выберите тему")
    await press_on(parent, categories, "Оценки")
    await parent.expect("Опишите")
    # The category menu is old now: pressing it again is answered, not crashed on.
    ans = await parent.press_data(categories, "c:grades")
    assert ans.text == "Это меню устарело. Отправьте /start, чтобы начать заново."
    for forged in ("zzz", "c:nonsense", "d:send", "u:999", "s:cl:abc", "t:ej:extra:fields"):
        ans = await parent.press_data(roles, forged)
        assert ans.text, forged
    await parent.send("Всё ещё работает?")
    await parent.expect("Проверьте")


async def test_cancel_in_every_state(plain_desk: Harness) -> None:
    """Private-chat dialog only: the staff group's mode plays no part (run once)."""
    desk = plain_desk
    parent = desk.user("Отмена")
    await parent.send("/cancel")
    await parent.expect("нечего отменять")
    await parent.send("/start")
    await parent.expect("кто Вы")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await parent.send("/start")
    await parent.press("дневник")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await parent.send("/start")
    await parent.press("дневник")
    await parent.press("Оценки")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await parent.send("/start")
    await parent.press("дневник")
    await parent.press("Оценки")
    await parent.send("Вопрос")
    await parent.expect("Проверьте")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await desk.staff().expect_nothing(timeout=0.3)


async def test_server_429_and_500_on_the_way_to_the_user(desk: Harness) -> None:
    parent = desk.user("Галина")
    _number, card = await ask(desk, parent)
    user_chat = parent.chat.id
    desk.server.fail_next(method="sendMessage", chat_id=user_chat, status=429, retry_after=1)
    await answer(desk, card, "Ответ через 429")
    await parent.expect("Ответ через 429", timeout=8)
    desk.server.fail_next(method="sendMessage", chat_id=user_chat, status=500, count=2)
    await answer(desk, card, "Ответ через 500")
    await parent.expect("Ответ через 500", timeout=8)
    desk.server.fail_next(method="copyMessage", chat_id=user_chat, status=502)
    await desk.staff().reply_to(card, photo=True) if not desk.forum else await desk.staff_in(card.thread_id).send_photo()
    got = await parent.expect("специалист школы", timeout=8)
    assert got.kind == "photo"


async def test_429_in_one_chat_does_not_hold_others(plain_desk: Harness) -> None:
    h = plain_desk
    slow = h.user("Первая")
    fast = h.user("Вторая")
    _, card_slow = await ask(h, slow)
    _, card_fast = await ask(h, fast, first_time=True)
    h.time.auto = False  # the bot's waits last until the test moves the time on
    h.server.fail_next(method="sendMessage", chat_id=slow.chat.id, status=429, retry_after=3)
    await answer(h, card_slow, "Медленный ответ")
    assert await h.server.world.wait_for(lambda: h.time.sleeping == 1, 5), "the slow chat waits its 3 s"
    # Another specialist answers another user meanwhile: the pause of one chat must not hold it.
    await h.server.actor(h.deputy, chat=h.group).reply_to(card_fast, "Быстрый ответ")
    await fast.expect("Быстрый ответ")
    assert h.time.sleeping == 1
    await slow.expect_nothing(timeout=0.1)
    h.time.advance(3)
    await slow.expect("Медленный ответ")


async def test_user_who_blocked_the_bot(desk: Harness) -> None:
    parent = desk.user("Блок")
    number, card = await ask(desk, parent)
    parent.user.block_bot()
    await answer(desk, card, "Ответ, который не дойдёт")
    warning = await desk.staff().expect("заблокировал бота")
    assert f"№{number}" in warning.text
    assert desk.app is not None
    user = await desk.app.store.users.by_chat("tg", parent.chat.id)
    assert user is not None and user.unreachable
    # That refusal was Telegram's answer to a blocked user, expected here: take it off the failure list.
    refused = [c for c in desk.server.rejected if "blocked by the user" in (c.error or "")]
    assert refused
    for call in refused:
        desk.server.rejected.remove(call)
    # When they come back, they are reachable again and the answer path works.
    parent.user.unblock_bot()
    await parent.send("Я вернулся")
    await desk.staff().expect("Я вернулся")
    user = await desk.app.store.users.by_chat("tg", parent.chat.id)
    assert user is not None and not user.unreachable
