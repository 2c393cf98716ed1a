"""The conduct policy's pure rules, its record, and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.middlewares.conduct import command_of
from helpdesk.clock import ManualClock
from helpdesk.conduct import (
    ConductService,
    Policy,
    Standing,
    UnblockTarget,
    reply_due,
    same_local_day,
    should_block,
    standing,
    transcript,
    unblock_target,
)
from helpdesk.store import Store
from storage.conduct import Actor, ConductRepo, EventKind
from storage.db import Database
from storage.tickets import TicketMessage
from storage.users import TELEGRAM

NOW = datetime(2026, 9, 1, 11, 0, tzinfo=UTC)
POLICY = Policy(cooldown=timedelta(minutes=60), block_after=3, block_window=timedelta(days=30))
MSK = ZoneInfo("Europe/Moscow")


@dataclass(frozen=True)
class M:
    kind: EventKind
    at: datetime


def V(minutes_ago: float) -> M:
    return M(EventKind.VIOLATION, NOW - timedelta(minutes=minutes_ago))


# ---- standing ---------------------------------------------------------------------------------------


def test_no_history_no_restriction() -> None:
    assert standing([], NOW, POLICY) == Standing()
    assert not Standing().restricted


def test_cooldown_runs_from_the_last_violation() -> None:
    s = standing([V(90), V(10)], NOW, POLICY)
    assert s.cooldown_until == NOW + timedelta(minutes=50) and s.restricted and not s.blocked
    assert s.recent == 2
    assert standing([V(60)], NOW, POLICY).cooldown_until is None  # exactly over
    assert standing([V(10)], NOW, Policy(cooldown=timedelta(0))).cooldown_until is None


def test_only_violations_inside_the_window_count() -> None:
    history = [V(60 * 24 * 31), V(60 * 24 * 29), V(120)]
    assert standing(history, NOW, POLICY).recent == 2


def test_block_after_the_limit_and_never_when_off() -> None:
    history = [V(300), V(200), V(100)]
    s = standing(history, NOW, POLICY)
    assert s.recent == 3 and should_block(s, POLICY)
    assert not should_block(standing(history[:2], NOW, POLICY), POLICY)
    never = Policy(block_after=0)
    assert not should_block(standing(history, NOW, never), never)


def test_a_block_holds_until_unblocked_and_unblock_wipes_the_slate() -> None:
    block = M(EventKind.BLOCK, NOW - timedelta(days=10))
    history = [V(60 * 24 * 10 + 2), V(60 * 24 * 10 + 1), V(60 * 24 * 10), block]
    s = standing(history, NOW, POLICY)
    assert s.blocked and s.restricted and s.cooldown_until is None
    assert not should_block(s, POLICY)  # already blocked: no second block event
    unblocked = [*history, M(EventKind.UNBLOCK, NOW - timedelta(minutes=5))]
    s = standing(unblocked, NOW, POLICY)
    assert not s.blocked and s.recent == 0
    # One new violation after the unblock: a cooldown, not an immediate block.
    s = standing([*unblocked, V(1)], NOW, POLICY)
    assert s.recent == 1 and not should_block(s, POLICY) and s.cooldown_until is not None


def test_unblock_also_ends_a_running_cooldown() -> None:
    s = standing([V(10), M(EventKind.UNBLOCK, NOW - timedelta(minutes=5))], NOW, POLICY)
    assert not s.restricted


def test_future_events_are_ignored() -> None:
    assert not standing([V(-5)], NOW, POLICY).restricted


def test_the_restriction_starts_at_the_last_violation_or_block() -> None:
    assert standing([V(90), V(10)], NOW, POLICY).since == NOW - timedelta(minutes=10)
    assert standing([V(61)], NOW, POLICY).since is None  # the pause is over: nothing in force
    block = M(EventKind.BLOCK, NOW - timedelta(days=2))
    assert standing([V(60 * 24 * 2 + 1), block], NOW, POLICY).since == block.at
    # A block by the management long after the last violation starts the restriction anew.
    late_block = M(EventKind.BLOCK, NOW - timedelta(minutes=3))
    assert standing([V(60 * 24 * 5), late_block], NOW, POLICY).since == late_block.at


def test_the_first_message_after_the_end_always_gets_a_reply() -> None:
    ended = NOW - timedelta(minutes=30)
    # The notice at the end answered the violation, not what comes next: the first message gets a reply,
    # however soon after the end (or long after a reply to an earlier restriction) it comes.
    assert reply_due(ended, None, NOW, POLICY)
    assert reply_due(NOW, None, NOW, POLICY)
    assert reply_due(ended, ended - timedelta(seconds=1), NOW, POLICY)
    # Once answered, at most one reply per remind_every (10 minutes by default).
    assert POLICY.remind_every == timedelta(minutes=10)
    assert not reply_due(ended, NOW, NOW, POLICY)
    assert not reply_due(ended, NOW - timedelta(minutes=9, seconds=59), NOW, POLICY)
    assert reply_due(ended, NOW - timedelta(minutes=10), NOW, POLICY)
    # A reply at the very moment of the end counts as the reply.
    assert not reply_due(NOW, NOW, NOW, POLICY)


def test_same_local_day_uses_the_school_time_zone() -> None:
    late = datetime(2026, 9, 1, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    assert same_local_day(late, late - timedelta(hours=1), MSK)
    assert not same_local_day(late + timedelta(hours=1), late, MSK)  # 00:30 next day in Moscow


# ---- parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "target"),
    [
        ("12", UnblockTarget(ticket_id=12)),
        ("№12", UnblockTarget(ticket_id=12)),
        ("#7", UnblockTarget(ticket_id=7)),
        ("id5000000001", UnblockTarget(telegram_id="5000000001")),
        ("ID 42", UnblockTarget(telegram_id="42")),
        ("", None),
        (None, None),
        ("Петров", None),
        ("12 13", None),
    ],
)
def test_unblock_target(arg: str | None, target: UnblockTarget | None) -> None:
    assert unblock_target(arg) == target


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/help", "help"),
        ("/Complaint@school_help_bot текст", "complaint"),
        ("// заметка", None),
        ("/", None),
        ("помогите", None),
        (None, None),
    ],
)
def test_command_of(text: str | None, command: str | None) -> None:
    assert command_of(text) == command


def _row(i: int, direction: str, text: str, *, kind: str = "text", name: str = "Анна") -> TicketMessage:
    return TicketMessage(
        id=i,
        ticket_id=1,
        direction=direction,
        kind=kind,
        author_id=1,
        author_name=name,
        text=text,
        file_id=None,
        user_chat_id=None,
        user_message_id=None,
        staff_chat_id=None,
        staff_message_id=None,
        delivery="delivered",
        delivery_error=None,
        created_at=NOW + timedelta(minutes=i),
    )


def test_transcript_keeps_the_conversation_and_leaves_out_staff_internals() -> None:
    rows = [
        _row(1, "in", "", kind="photo"),
        _row(2, "out", "Ответ", name="Ирина"),
        _row(3, "note", "// позвонить", name="Ирина"),
        _row(4, "card", ""),
        _row(5, "in", "скрин", kind="document"),
    ]
    text = transcript(
        rows,
        MSK,
        {"in": "пользователь", "out": "специалист"},
        "[файл: {kind}]",
        question=(NOW, "Анна", "Не вижу оценки"),
    )
    assert text.splitlines() == [
        "01.09 14:00 Анна (пользователь): Не вижу оценки",
        "01.09 14:01 Анна (пользователь): [файл: photo]",
        "01.09 14:02 Ирина (специалист): Ответ",
        "01.09 14:05 Анна (пользователь): [файл: document] скрин",
    ]
    assert transcript([], MSK, {"in": "u"}, "[{kind}]") == ""


# ---- the record ----------------------------------------------------------------------------------------


async def test_service_records_violations_blocks_unblocks_and_complaints(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "c.sqlite3")
    try:
        clock = ManualClock(NOW)
        tickets = Store(db, clock)
        user = await tickets.touch_user(
            channel=TELEGRAM,
            external_id="42",
            chat_id=42,
            first_name="Анна",
            last_name=None,
            username=None,
            client_language="ru",
        )
        service = ConductService(db, clock, POLICY)
        assert not (await service.standing(user.id)).restricted
        for n in range(1, 4):
            outcome = await service.record_violation(
                user_id=user.id,
                ticket_id=None,
                actor=Actor.FILTER,
                category="obscene",
                matches=("х.у.й", "бля"),
                text="текст",
            )
            assert outcome.blocked_now is (n == 3)
            assert outcome.standing.recent == n
            # The notice just sent answered the violation: the next message gets its one short reply.
            since = outcome.standing.since
            assert since == clock()
            assert await service.take_reminder(user.id, since)
            assert not await service.take_reminder(user.id, since)
            clock.advance(minutes=61)
        current = await service.standing(user.id)
        assert current.blocked
        clock.advance(minutes=10)
        assert await service.take_reminder(user.id, current.since)
        assert not await service.take_reminder(user.id, current.since)

        assert await service.lift(user.id, actor_id=7, actor_name="Ольга")
        assert not await service.lift(user.id, actor_id=7, actor_name="Ольга")
        assert not (await service.standing(user.id)).restricted

        events = await ConductRepo(db.conn).for_user(user.id)
        kinds = [e.kind for e in events]
        assert kinds == [EventKind.VIOLATION, EventKind.SESSION_END] * 3 + [
            EventKind.BLOCK,
            EventKind.UNBLOCK,
        ]
        first = events[0]
        assert first.matches == ("х.у.й", "бля") and first.actor is Actor.FILTER and first.text == "текст"
        assert events[-1].actor is Actor.DEPUTY and events[-1].actor_name == "Ольга"
        assert len(await ConductRepo(db.conn).between(NOW, NOW + timedelta(minutes=1))) == 2

        complaint = await service.add_complaint(
            user_id=user.id, ticket_id=None, specialist_id=9, specialist_name="Ирина", text="грубо"
        )
        assert complaint.sent_to is None
        await service.complaint_sent(complaint, -100)
        [stored] = await ConductRepo(db.conn).complaints()
        assert stored.sent_to == -100 and stored.text == "грубо" and stored.specialist_name == "Ирина"
    finally:
        await db.close()


# ---- settings ------------------------------------------------------------------------------------------

BASE = {"BOT_TOKEN": "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz", "STAFF_CHAT_ID": "-100123"}


def test_settings_defaults_and_values() -> None:
    s = load_settings(BASE)
    assert (s.conduct_cooldown_minutes, s.conduct_block_after, s.conduct_block_window_days) == (60, 3, 30)
    s = load_settings(
        {
            **BASE,
            "CONDUCT_COOLDOWN_MINUTES": "0",
            "CONDUCT_BLOCK_AFTER": "5",
            "CONDUCT_BLOCK_WINDOW_DAYS": "7",
        }
    )
    assert (s.conduct_cooldown_minutes, s.conduct_block_after, s.conduct_block_window_days) == (0, 5, 7)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONDUCT_COOLDOWN_MINUTES", "-1"),
        ("CONDUCT_COOLDOWN_MINUTES", "1h"),
        ("CONDUCT_BLOCK_AFTER", "101"),
        ("CONDUCT_BLOCK_WINDOW_DAYS", "0"),
    ],
)
def test_settings_errors_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({**BASE, name: value})


# ---- the alert's buttons -------------------------------------------------------------------------------


def test_alert_buttons_carry_ids_that_the_adapter_reads_back() -> None:
    from bot.callbacks import ConductAlertCb
    from helpdesk.conduct_desk import AlertAction, alert_buttons
    from helpdesk.rules.roles import MANAGEMENT_ACTIONS, Action, Person, Verdict, decide
    from helpdesk.school import Management

    def tr(key: str, **_: object) -> str:
        return key

    with_ticket = alert_buttons(tr, 41, 1234)  # type: ignore[arg-type]
    assert [b.label for b in with_ticket] == ["conduct.btn_lift", "conduct.btn_block", "conduct.btn_reopen"]
    read = [ConductAlertCb.unpack(b.payload) for b in with_ticket]
    assert [(c.action, c.user, c.ticket) for c in read] == [
        (AlertAction.LIFT, 41, 1234),
        (AlertAction.BLOCK, 41, 1234),
        (AlertAction.REOPEN, 41, 1234),
    ]
    assert all(len(b.payload.encode()) <= 64 for b in alert_buttons(tr, 10**12, 10**9))  # type: ignore[arg-type]
    # Nothing to return to work without a question.
    without = alert_buttons(tr, 41, None)  # type: ignore[arg-type]
    assert [ConductAlertCb.unpack(b.payload).action for b in without] == [AlertAction.LIFT, AlertAction.BLOCK]
    assert ConductAlertCb.unpack(without[0].payload).ticket == 0
    # Every decision is the management's: a member of the staff group is refused.
    for action in (Action.UNBLOCK, Action.BLOCK, Action.REOPEN_ENDED):
        assert action in MANAGEMENT_ACTIONS
        specialist = Person(user_id=5, staff_member=True)
        assert decide(specialist, action, Management(), None) is Verdict.NOT_MANAGEMENT
        assert decide(Person(user_id=7), action, Management(), 7) is Verdict.ALLOWED


async def test_reopen_returns_only_a_question_the_policy_ended_and_lifts_the_pause(tmp_path: Path) -> None:
    from helpdesk.domain import Category, Role, TicketStatus, Topic
    from storage.tickets import TicketRepo

    db = await Database.open(tmp_path / "r.sqlite3")
    try:
        clock = ManualClock(NOW)
        store = Store(db, clock)
        user = await store.touch_user(
            channel=TELEGRAM,
            external_id="42",
            chat_id=42,
            first_name="Анна",
            last_name=None,
            username=None,
            client_language="ru",
        )
        service = ConductService(db, clock, POLICY)
        async with db.transaction():
            repo = TicketRepo(db.conn)
            ended = await repo.create(
                user_id=user.id, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES, question="q", now=NOW
            )
            other = await repo.create(
                user_id=user.id, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES, question="q", now=NOW
            )
        assert ended is not None and other is not None
        changed, closed = await store.close(ended.id, closed_by="регламент", action="conduct_filter", conduct=True)
        assert changed and closed is not None and closed.conduct_ended_at == NOW
        await store.close(other.id, closed_by="Ирина")
        await service.record_violation(
            user_id=user.id, ticket_id=ended.id, actor=Actor.FILTER, category="insult", text="t"
        )
        assert (await service.standing(user.id)).restricted

        # A question closed for another reason is not reopened by a conduct button.
        assert await service.reopen(other.id, user.id, actor_id=7, actor_name="Ольга") is None
        assert (await service.standing(user.id)).restricted
        back = await service.reopen(ended.id, user.id, actor_id=7, actor_name="Ольга")
        assert back is not None and back.status is TicketStatus.OPEN and back.conduct_ended_at is None
        assert not (await service.standing(user.id)).restricted
        assert await service.reopen(ended.id, user.id, actor_id=7, actor_name="Ольга") is None
        audit = [(e.action, e.ticket_id) for e in await store.audit.of_ticket(ended.id)]
        assert audit == [("conduct_filter", ended.id), ("conduct_reopen", ended.id), ("unblock", ended.id)]

        clock.advance(minutes=1)
        assert await service.block(user.id, actor_id=7, actor_name="Ольга", ticket_id=ended.id)
        assert not await service.block(user.id, actor_id=7, actor_name="Ольга")
        assert (await service.standing(user.id)).blocked
    finally:
        await db.close()
