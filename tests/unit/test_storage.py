from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import SQLiteStorage
from helpdesk.clock import ManualClock
from helpdesk.domain import Category, Role, TicketStatus, Topic
from helpdesk.rules.routing import RouteDecision
from helpdesk.store import Attachment, ClaimOutcome, Draft, Store
from storage.db import Database, migrations
from storage.users import TELEGRAM

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
UNROUTED = RouteDecision(candidates=(), on_duty_now=(), queued=True, take_up_at=None, assignee=None)


async def test_all_migrations_apply_to_an_empty_database(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "empty.sqlite3")
    try:
        async with db.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == len(migrations()) >= 1
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            mode = await cur.fetchone()
        assert mode is not None and mode[0] == "wal"
        async with db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
            tables = {r[0] for r in await cur.fetchall()}
        assert {"users", "tickets", "messages", "fsm"} <= tables
        assert await db.migrate() == len(migrations())  # idempotent
    finally:
        await db.close()


async def test_ticket_lifecycle_and_message_mapping(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        service = Store(db, ManualClock(NOW))
        user = await service.touch_user(
            channel=TELEGRAM, external_id="42", chat_id=42, first_name="Анна", last_name=None,
            username=None, client_language="ru",
        )
        await service.set_role(user, Role.PARENT)
        draft = Draft("", ()).add("Вопрос", None).add("", Attachment("photo", 42, 7, "F1", "скрин"))
        ticket, created = await service.open_ticket(
            user, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES, draft=draft, routing=UNROUTED
        )
        assert created
        rows = [r for r in await service.messages.for_ticket(ticket.id) if r.direction == "in"]
        assert ticket.status is TicketStatus.OPEN and ticket.question == "Вопрос"
        assert len(rows) == 1 and rows[0].user_message_id == 7
        await service.delivered(rows[0], staff_chat_id=-100, staff_message_id=55)
        ticket = await service.set_card(ticket, staff_chat_id=-100, thread_id=None, card_id=50)
        assert (await service.ticket_for_staff_message(-100, 55)) == ticket
        assert (await service.ticket_for_staff_message(-100, 50)) == ticket
        assert await service.ticket_for_staff_message(-100, 999) is None

        outcome, claimed = await service.claim(ticket.id, staff_id=9, staff_name="Ирина")
        assert outcome is ClaimOutcome.CLAIMED and claimed is not None and claimed.claimed_by_name == "Ирина"
        outcome, _ = await service.claim(ticket.id, staff_id=10, staff_name="Пётр")
        assert outcome is ClaimOutcome.ALREADY_CLAIMED
        changed, closed = await service.close(ticket.id, closed_by="Ирина")
        assert changed and closed is not None and closed.status is TicketStatus.CLOSED
        assert (await service.close(ticket.id, closed_by="Ирина"))[0] is False

        row, fresh, reopened = await service.record_out(
            ticket, kind="text", text="Поздний ответ", file_id=None, staff_id=9, staff_name="Ирина",
            staff_chat_id=-100, staff_message_id=60,
        )
        assert reopened and fresh.status is TicketStatus.CLAIMED and fresh.answered_at is not None
        note, _, reopened_again = await service.record_out(
            fresh, kind="text", text="// заметка", file_id=None, staff_id=9, staff_name="Ирина",
            staff_chat_id=-100, staff_message_id=61, note=True,
        )
        assert note.direction == "note" and not reopened_again
        assert [m.id for m in await service.messages.pending()] == [row.id]
    finally:
        await db.close()


async def test_ticket_for_a_topic_is_the_users_latest(tmp_path: Path) -> None:
    """A specialist's answer in a topic finds the user and their latest ticket (one query, joined)."""
    db = await Database.open(tmp_path / "th.sqlite3")
    try:
        service = Store(db, ManualClock(NOW))
        users = [
            await service.touch_user(
                channel=TELEGRAM, external_id=str(i), chat_id=i, first_name=name, last_name="Петрова",
                username=None, client_language="ru",
            )
            for i, name in ((1, "Анна"), (2, "Борис"))
        ]
        await service.set_role(users[0], Role.SUBJECT_TEACHER)
        tickets = []
        for user, text in ((users[0], "первый"), (users[1], "чужой"), (users[0], "второй")):
            ticket, _ = await service.open_ticket(
                user, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES,
                draft=Draft("", ()).add(text, None), routing=UNROUTED,
            )
            tickets.append(ticket)
        await service.set_staff_thread(users[0], 77)
        await service.set_staff_thread(users[1], 78)
        found = await service.ticket_for_thread(77)
        assert found is not None
        user, ticket = found
        assert user == await service.users.get(users[0].id)  # every column, as a plain read gives it
        assert user.role is Role.SUBJECT_TEACHER and user.staff_thread_id == 77
        assert ticket == tickets[2] and ticket.question == "второй"
        assert (await service.ticket_for_thread(78)) == (await service.users.get(users[1].id), tickets[1])
        assert await service.ticket_for_thread(79) is None
        # ... and whether the specialist's message is stored already (an update handled again)
        assert (await service.answer_in_thread(77, -100, 500)) == (user, ticket, False)
        await service.record_out(
            ticket, kind="text", text="Ответ", file_id=None, staff_id=9, staff_name="Ирина",
            staff_chat_id=-100, staff_message_id=500,
        )
        await service.record_out(
            ticket, kind="text", text="// заметка", file_id=None, staff_id=9, staff_name="Ирина",
            staff_chat_id=-100, staff_message_id=501, note=True,
        )
        await service.map_staff_message(ticket, -100, 502)  # a card part: the bot's, not an answer
        seen = [(await service.answer_in_thread(77, -100, m) or (None, None, None))[2] for m in (500, 501, 502)]
        assert seen == [True, True, False]
        assert (await service.answer_in_thread(77, -101, 500) or (None, None, None))[2] is False  # other chat
        assert await service.answer_in_thread(79, -100, 500) is None
    finally:
        await db.close()


async def test_a_users_message_is_stored_once(tmp_path: Path) -> None:
    """The same message handled twice (an update replayed after a crash) is stored once."""
    db = await Database.open(tmp_path / "once.sqlite3")
    try:
        service = Store(db, ManualClock(NOW))
        user = await service.touch_user(
            channel=TELEGRAM, external_id="5", chat_id=5, first_name="Анна", last_name=None,
            username=None, client_language="ru",
        )
        ticket, _ = await service.open_ticket(
            user, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES,
            draft=Draft("", ()).add("Вопрос", None), routing=UNROUTED,
        )
        first = await service.record_in(ticket, user, kind="text", text="Уточнение", file_id=None, message_id=9)
        assert first is not None and (first.direction, first.user_message_id, first.text) == ("in", 9, "Уточнение")
        again = await service.record_in(ticket, user, kind="text", text="Уточнение", file_id=None, message_id=9)
        assert again is None
        other = await service.record_in(ticket, user, kind="photo", text="", file_id="F", message_id=10)
        assert other is not None and other.id != first.id
        assert [m.user_message_id for m in await service.messages.for_ticket(ticket.id) if m.direction == "in"] == [
            9,
            10,
        ]
    finally:
        await db.close()


async def test_user_keyed_by_channel_and_external_id(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "u.sqlite3")
    try:
        service = Store(db, ManualClock(NOW))
        tg = await service.touch_user(
            channel="tg", external_id="5", chat_id=5, first_name="A", last_name=None, username=None,
            client_language="en",
        )
        mx = await service.touch_user(
            channel="max", external_id="5", chat_id=777, first_name="B", last_name=None, username=None,
            client_language=None,
        )
        assert tg.id != mx.id
        assert tg.effective_locale("ru") == "en" and mx.effective_locale("ru") == "ru"
        await service.mark_unreachable("tg", 5)
        again = await service.users.get(tg.id)
        assert again is not None and again.unreachable
        back = await service.touch_user(
            channel="tg", external_id="5", chat_id=5, first_name="A", last_name=None, username=None,
            client_language="en",
        )
        assert not back.unreachable
    finally:
        await db.close()


async def test_fsm_state_survives_reopening_the_database(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    db = await Database.open(path)
    storage = SQLiteStorage(db)
    await storage.set_state(key, "AskQuestion:confirm")
    await storage.set_data(key, {"draft": {"text": "Привет", "attachments": []}})
    await db.close()

    db = await Database.open(path)
    try:
        storage = SQLiteStorage(db)
        assert await storage.get_state(key) == "AskQuestion:confirm"
        assert (await storage.get_data(key))["draft"]["text"] == "Привет"
        await storage.set_state(key, None)
        assert await storage.get_state(key) is None
        assert await storage.get_data(StorageKey(bot_id=1, chat_id=3, user_id=3)) == {}
    finally:
        await db.close()


async def test_fsm_preloaded_table_answers_new_keys_from_memory(tmp_path: Path) -> None:
    """With the whole table read at start-up, a key with no row costs no query; once a key has to be
    forgotten (the cache is full), misses go to the database again."""
    path = tmp_path / "fsm.sqlite3"
    first, second = StorageKey(bot_id=1, chat_id=2, user_id=2), StorageKey(bot_id=1, chat_id=3, user_id=3)
    db = await Database.open(path)
    storage = SQLiteStorage(db)
    await storage.set_state(first, "AskQuestion:role")
    await storage.set_data(second, {"draft": {"text": "Вопрос", "attachments": []}})
    await db.close()

    db = await Database.open(path)
    try:
        storage = SQLiteStorage(db, cache_size=2)
        await storage.preload()
        await db.conn.close()  # any query would fail now: everything must come from memory
        assert await storage.get_state(first) == "AskQuestion:role"
        assert (await storage.get_data(second))["draft"]["text"] == "Вопрос"
        assert await storage.get_state(StorageKey(bot_id=1, chat_id=4, user_id=4)) is None  # no row, no query
    finally:
        await db.close()

    db = await Database.open(path)
    try:
        storage = SQLiteStorage(db, cache_size=1)  # two rows do not fit: misses are read from the table
        await storage.preload()
        assert await storage.get_state(first) == "AskQuestion:role"
        assert (await storage.get_data(second))["draft"]["text"] == "Вопрос"
        # `first` was forgotten to make room: it is read again, not taken for a key with no row.
        assert await storage.get_state(first) == "AskQuestion:role"
    finally:
        await db.close()
