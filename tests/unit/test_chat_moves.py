"""The staff group's moves (a group upgraded to a supergroup): stored, chained, and the queue follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.staff_chat import StaffChat
from storage.chat_moves import ChatMovesRepo
from storage.db import Database
from storage.outbox import OutboxRepo

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
OLD, NEW, NEWER = -4000000001, -1002000000001, -1002000000002


async def test_moves_chain_and_queued_notices_follow(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "moves.sqlite3")
    try:
        repo = ChatMovesRepo(db.conn)
        assert await repo.resolve(OLD) == []
        outbox = OutboxRepo(db.conn)
        for chat, thread, reply in ((OLD, None, 7), (OLD, 3, None), (42, None, None)):
            await outbox.add(
                chat_id=chat,
                thread_id=thread,
                reply_to=reply,
                text="t",
                markup=None,
                dedupe_key=None,
                now=NOW,
            )
        async with db.transaction() as conn:
            await ChatMovesRepo(conn).record(OLD, NEW, NOW)
        # Queued for the old id: now for the new one, without the old group's message and topic ids.
        pending = await outbox.pending()
        assert [(i.chat_id, i.thread_id, i.reply_to) for i in pending] == [
            (NEW, None, None),
            (NEW, None, None),
            (42, None, None),
        ]
        async with db.transaction() as conn:
            await ChatMovesRepo(conn).record(NEW, NEWER, NOW + timedelta(days=1))
        chain = await repo.resolve(OLD)
        assert [(m.old_chat_id, m.new_chat_id) for m in chain] == [(OLD, NEW), (NEW, NEWER)]
        assert chain[0].moved_at == NOW
        # STAFF_CHAT_ID set to the new id on purpose: only the later move applies; another group: none.
        assert [m.new_chat_id for m in await repo.resolve(NEW)] == [NEWER]
        assert await repo.resolve(-1009999999999) == []
    finally:
        await db.close()


def test_staff_chat_moves_once_and_remembers_where_it_was() -> None:
    staff = StaffChat(OLD)
    assert staff.id == staff.configured == OLD and staff.former == ()
    staff.move_to(NEW)
    staff.move_to(NEW)
    assert staff.id == NEW and staff.configured == OLD and staff.former == (OLD,)
    assert "formerly" in repr(staff)
