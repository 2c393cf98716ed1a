"""The audit trail: the repository, and the use cases writing it in the transaction of the action."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.clock import ManualClock
from helpdesk.domain import Category, Role, Topic
from helpdesk.rules.routing import RouteDecision
from helpdesk.store import Draft, Store
from storage.audit import AuditRepo
from storage.db import Database
from storage.users import TELEGRAM

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
UNROUTED = RouteDecision(candidates=(), on_duty_now=(), queued=True, take_up_at=None, assignee=None)


async def test_repository_records_and_reads_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3")
    try:
        repo = AuditRepo(db.conn)
        async with db.transaction():
            await repo.record("invite", at=NOW, actor_id=1, actor_name="Ольга", detail="tech")
            await repo.record("claim", at=NOW, actor_id=2, actor_name="Ирина", ticket_id=7)
            await repo.record("close", at=NOW, actor_id=2, actor_name="Ирина", ticket_id=7)
            await repo.record("claim", at=NOW, actor_id=3, actor_name="Пётр", ticket_id=8)
        recent = await repo.recent(3)
        assert [(e.action, e.ticket_id) for e in recent] == [("claim", 8), ("close", 7), ("claim", 7)]
        history = await repo.of_ticket(7)
        assert [(e.action, e.actor_id, e.actor_name) for e in history] == [("claim", 2, "Ирина"), ("close", 2, "Ирина")]
        assert history[0].at == NOW and (await repo.recent(10))[-1].detail == "tech"
    finally:
        await db.close()


async def test_an_action_rolled_back_leaves_no_trail(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "r.sqlite3")
    try:
        repo = AuditRepo(db.conn)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await repo.record("unlink", at=NOW, actor_id=1, actor_name="Ольга")
                raise RuntimeError("the action failed")
        assert await repo.recent() == []
    finally:
        await db.close()


async def test_claim_close_and_reopen_are_recorded_with_who(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        store = Store(db, ManualClock(NOW))
        user = await store.touch_user(
            channel=TELEGRAM, external_id="42", chat_id=42, first_name="Анна", last_name=None,
            username=None, client_language="ru",
        )
        ticket, _ = await store.open_ticket(
            user, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES,
            draft=Draft("Вопрос", ()), routing=UNROUTED,
        )
        await store.claim(ticket.id, staff_id=9, staff_name="Ирина")
        await store.close(ticket.id, closed_by="Ирина", actor_id=9)
        await store.record_out(
            ticket, kind="text", text="Поздний ответ", file_id=None, staff_id=10, staff_name="Пётр",
            staff_chat_id=-100, staff_message_id=60,
        )
        trail = [(e.action, e.actor_id, e.actor_name) for e in await store.audit.of_ticket(ticket.id)]
        assert trail == [("claim", 9, "Ирина"), ("close", 9, "Ирина"), ("reopen", 10, "Пётр")]
    finally:
        await db.close()
