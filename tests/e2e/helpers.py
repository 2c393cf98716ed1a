"""Scenario helpers shared by the end-to-end tests."""

from __future__ import annotations

from fakegram import Actor, CallAnswer, Msg
from tests.conftest import Harness


async def ask(
    h: Harness,
    user: Actor,
    question: str = "Не вижу оценки ребёнка за вчерашнюю контрольную",
    *,
    role: str = "Родитель",
    topic: str = "дневник",
    category: str = "Оценки",
    first_time: bool = True,
) -> tuple[int, Msg]:
    """The user goes through the dialog; returns the ticket number and its card in the staff group."""
    await user.send("/start")
    greeting = await user.expect("Здравствуйте")  # one message: the greeting asks the next question
    if first_time:
        assert "кто Вы" in greeting.text
        await user.press(role)
        await user.expect("С чем связан вопрос")
    else:
        assert "С чем связан вопрос" in greeting.text
    await user.press(topic)
    await user.expect("Выберите тему")
    await user.press(category)
    await user.expect("Опишите")
    await user.send(question)
    await user.expect("Проверьте")
    await user.press("Отправить")
    accepted = await user.expect("принят")
    number = int(accepted.text.split("№")[1].split()[0])
    card = await h.staff().expect(f"Вопрос №{number}")
    return number, card


async def answer(h: Harness, card: Msg, text: str) -> Msg:
    """A specialist answers a ticket the way the staff group works: in the topic, or as a reply."""
    staff = h.staff()
    if h.forum:
        return await staff.in_thread(card.thread_id).send(text)  # type: ignore[arg-type]
    return await staff.reply_to(card, text)


async def press_on(actor: Actor, message: Msg, text: str) -> CallAnswer:
    """Press the button whose text contains ``text`` on a given message (not just the newest one)."""
    for label, data in message.buttons:
        if text in label and data is not None:
            return await actor.press_data(message, data)
    raise AssertionError(f"no button {text!r} on message {message.message_id}: {message.buttons}")


async def agree(user: Actor) -> None:
    """The user reads the personal-data notice (shown before their first question) and agrees.

    Users made by ``Harness.user()`` have agreed already (see ``Harness.consented``); this is for the
    scenarios of the notice itself and for actors made otherwise."""
    await user.expect("Персональные данные")
    await user.press("✅ Согласен(на)")


def db_bytes(h: Harness) -> bytes:
    """The database file and its write-ahead log, as bytes (what a disk image or a backup would hold)."""
    path = h.tmp_path / "helpdesk.sqlite3"
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
