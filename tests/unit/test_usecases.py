"""The core's use cases against a real SQLite file and in-memory fakes of the ports: no aiogram, no server.

Each test runs in milliseconds; the same paths end to end (through Telegram) are in ``tests/e2e``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk.clock import ManualClock
from helpdesk.domain import Category, Role, TicketStatus, Topic
from helpdesk.duty import Duty
from helpdesk.escalations import Escalations
from helpdesk.ports import Button, DeliveryError, Destination, Inbound
from helpdesk.rules.escalation import EscalationSettings
from helpdesk.school import SchoolProfile, load_profile
from helpdesk.specialists import Specialists
from helpdesk.store import Attachment, ClaimOutcome, Draft, Store
from helpdesk.texts import Texts
from helpdesk.tickets import AnswerOutcome, CloseOutcome, FollowUp, Tickets, VendorOutcome
from helpdesk.vendor import Vendor
from storage.db import Database
from storage.tickets import Ticket, TicketMessage, TicketRepo
from storage.users import TELEGRAM, User

MSK = ZoneInfo("Europe/Moscow")
TUESDAY_3PM = datetime(2026, 10, 6, 15, 0, tzinfo=MSK)  # a consultation is held (the example profile)
SATURDAY_8PM = datetime(2026, 10, 10, 20, 0, tzinfo=MSK)  # no consultation: the question is queued
STAFF = -1001000000001
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeStaff:
    """The staff side in memory: what the core asked of it, in order."""

    chat_id: int = STAFF
    calls: list[tuple[str, Any]] = field(default_factory=list)
    held: set[tuple[str, int]] = field(default_factory=set)
    refuse_posts: bool = False
    store: Store | None = None
    next_id: int = 100

    @contextlib.contextmanager
    def hold(self, *, ticket_id: int | None = None, row_id: int | None = None) -> Iterator[None]:
        keys = {(k, v) for k, v in (("ticket", ticket_id), ("row", row_id)) if v is not None}
        self.held |= keys
        try:
            yield
        finally:
            self.held -= keys

    async def post_ticket(self, user: User, ticket: Ticket) -> Ticket:
        assert ("ticket", ticket.id) in self.held, "a new ticket is posted while held from recovery"
        self.calls.append(("post", ticket.id))
        if self.refuse_posts:
            raise DeliveryError("Bad Gateway")
        assert self.store is not None
        self.next_id += 1
        return await self.store.set_card(ticket, staff_chat_id=STAFF, thread_id=None, card_id=self.next_id)

    async def relay_in(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        assert ("row", row.id) in self.held
        self.calls.append(("relay_in", row.text))

    async def refresh_card(self, ticket: Ticket) -> None:
        self.calls.append(("refresh", ticket.status))

    async def say(
        self, where: Destination, html_text: str, buttons: Sequence[Button] = (), *, quiet: bool = False
    ) -> int:
        self.calls.append(("say", html_text))
        self.next_id += 1
        return self.next_id

    async def say_long(self, where: Destination, header_html: str, body_plain: str) -> list[int]:
        return [await self.say(where, header_html + body_plain)]

    def thread_of(self, ticket: Ticket) -> Destination:
        return Destination(STAFF, None, ticket.card_message_id)

    def reply_place(self, inbound: Inbound, ticket: Ticket) -> Destination:
        return Destination(inbound.chat_id, inbound.thread_id, inbound.message_id)

    def card_url(self, ticket: Ticket) -> str | None:
        return None

    def kick(self) -> None:
        self.calls.append(("kick", None))

    def said(self) -> list[str]:
        return [text for name, text in self.calls if name == "say"]


@dataclass
class FakeUsers:
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def relay_out(
        self, row: TicketMessage, ticket: Ticket, user: User, *, body_html: str | None = None
    ) -> None:
        self.calls.append(("relay_out", body_html or row.text))

    async def ticket_opened(self, user: User, ticket: Ticket, html_text: str) -> int | None:
        self.calls.append(("opened", html_text))
        return 9000 + ticket.id

    async def ticket_closed(self, user: User, ticket: Ticket) -> None:
        self.calls.append(("closed", ticket.confirm_message_id))

    async def ticket_reopened(self, user: User, ticket: Ticket) -> None:
        self.calls.append(("reopened", ticket.confirm_message_id))

    async def tell(self, user: User, html_text: str) -> None:
        self.calls.append(("tell", html_text))


@dataclass
class Desk:
    store: Store
    tickets: Tickets
    staff: FakeStaff
    users: FakeUsers
    clock: ManualClock
    school: SchoolProfile

    async def parent(self, external_id: str = "501") -> User:
        user = await self.store.touch_user(
            channel=TELEGRAM,
            external_id=external_id,
            chat_id=int(external_id),
            first_name="Анна",
            last_name=None,
            username=None,
            client_language="ru",
        )
        await self.store.set_role(user, Role.PARENT)
        fresh = await self.store.users.get(user.id)
        assert fresh is not None
        return fresh

    async def ask(self, user: User, text: str = "Не вижу оценки", *, origin: str | None = "tg:1:1") -> Ticket:
        opened = await self.tickets.open(
            user,
            role=Role.PARENT,
            topic=Topic.DIARY,
            category=Category.GRADES,
            draft=Draft("", ()).add(text, None),
            origin=origin,
        )
        return opened.ticket

    async def notices(self) -> list[str]:
        return [item.text for item in await self.store.outbox.pending()]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    db = await Database.open(tmp_path / "core.sqlite3")
    clock = ManualClock(TUESDAY_3PM)
    store = Store(db, clock)
    texts = Texts()
    school = load_profile(ROOT / "school.example.toml")
    staff = FakeStaff(store=store)
    users = FakeUsers()
    specialists = Specialists(school=school, store=store, clock=clock, tr=texts("ru"))
    duty = Duty(
        store=store,
        specialists=specialists,
        staff=staff,
        notices=staff,
        texts=texts,
        manager_chat_id=-42,
    )
    tickets = Tickets(
        store=store,
        duty=duty,
        escalations=Escalations(store=store, duty=duty, notices=staff, settings=EscalationSettings()),
        vendor=Vendor(store=store, duty=duty, staff=staff, notices=staff, texts=texts),
        staff=staff,
        users=users,
        notices=staff,
        texts=texts,
    )
    try:
        yield Desk(store, tickets, staff, users, clock, school)
    finally:
        await db.close()


def inbound(
    text: str, *, message_id: int, chat_id: int = STAFF, reply_to: int | None = None, kind: str = "text"
) -> Inbound:
    return Inbound(
        kind=kind,
        text=text,
        chat_id=chat_id,
        message_id=message_id,
        author_id=77,
        author_name="Ирина",
        html=text,
        reply_to=reply_to,
    )


# ---- open ------------------------------------------------------------------------------------------------


async def test_open_stores_the_routing_with_the_ticket_confirms_and_posts(desk: Desk) -> None:
    user = await desk.parent()
    ticket = await desk.ask(user)
    stored = await desk.store.tickets.get(ticket.id)
    assert stored is not None and stored.routed_to and not stored.queued and stored.take_up_at is not None
    assert stored.card_message_id is not None
    [(kind, confirmation)] = desk.users.calls
    assert kind == "opened" and f"№{ticket.id}" in confirmation
    assert ("post", ticket.id) in desk.staff.calls


async def test_out_of_hours_the_promise_names_when(desk: Desk) -> None:
    desk.clock.current = SATURDAY_8PM
    ticket = await desk.ask(await desk.parent())
    stored = await desk.store.tickets.get(ticket.id)
    assert stored is not None and stored.queued and stored.take_up_at is not None
    [(_, confirmation)] = desk.users.calls
    assert "после" in confirmation  # «…возьмут в работу в понедельник после 14:00»


async def test_no_ticket_is_ever_stored_without_its_routing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storing and routing are one transaction: when routing cannot be stored, neither is the ticket."""

    async def broken(self: TicketRepo, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(TicketRepo, "set_routing", broken)
    user = await desk.parent()
    with pytest.raises(RuntimeError):
        await desk.ask(user)
    assert await desk.store.tickets.open_for_user(user.id) is None
    assert desk.users.calls == [] and desk.staff.calls == []


async def test_a_refused_card_keeps_the_ticket_and_its_promise(desk: Desk) -> None:
    desk.staff.refuse_posts = True
    ticket = await desk.ask(await desk.parent())
    assert (await desk.store.tickets.without_card()) == [await desk.store.tickets.get(ticket.id)]
    assert [kind for kind, _ in desk.users.calls] == ["opened"]


async def test_the_same_confirmation_twice_opens_one_ticket(desk: Desk) -> None:
    user = await desk.parent()
    first = await desk.ask(user, origin="tg:5:9")
    second = await desk.ask(user, origin="tg:5:9")
    assert first.id == second.id
    assert len(await desk.store.tickets.open_tickets()) == 1


async def test_the_question_attachments_are_stored_with_the_ticket(desk: Desk) -> None:
    user = await desk.parent()
    draft = Draft("", ()).add("Скриншот", None).add("", Attachment("photo", 501, 7, "F1", "оценки"))
    opened = await desk.tickets.open(
        user, role=Role.PARENT, topic=Topic.DIARY, category=Category.GRADES, draft=draft
    )
    rows = await desk.store.messages.for_ticket(opened.ticket.id)
    assert [(r.direction, r.kind, r.user_message_id) for r in rows] == [("in", "photo", 7)]


# ---- the user's follow-ups -------------------------------------------------------------------------------


async def test_follow_up_relays_to_the_open_ticket_once(desk: Desk) -> None:
    user = await desk.parent()
    assert (
        await desk.tickets.follow_up(user, inbound("Здравствуйте", message_id=1, chat_id=501))
        is FollowUp.NO_TICKET
    )
    await desk.ask(user)
    message = inbound("И ещё вопрос", message_id=2, chat_id=501)
    assert await desk.tickets.follow_up(user, message) is FollowUp.RELAYED
    assert await desk.tickets.follow_up(user, message) is FollowUp.DUPLICATE
    assert desk.staff.calls.count(("relay_in", "И ещё вопрос")) == 1


async def test_follow_up_before_the_card_waits_for_it(desk: Desk) -> None:
    desk.staff.refuse_posts = True
    user = await desk.parent()
    await desk.ask(user)
    assert await desk.tickets.follow_up(user, inbound("Ещё", message_id=3, chat_id=501)) is FollowUp.STORED
    assert [r.text for r in await desk.store.messages.pending()] == ["Ещё"]


# ---- the specialist's side -------------------------------------------------------------------------------


async def test_answer_note_unsupported_and_reopen(desk: Desk) -> None:
    ticket = await desk.ask(await desk.parent())
    card = ticket_card(await desk.store.tickets.get(ticket.id))
    assert (
        await desk.tickets.answer(inbound("// себе на заметку", message_id=10, reply_to=card))
        is AnswerOutcome.NOTE
    )
    assert (
        await desk.tickets.answer(inbound("", message_id=11, reply_to=card, kind="sticker"))
        is AnswerOutcome.UNSUPPORTED
    )
    assert await desk.tickets.answer(inbound("Болтаем", message_id=12)) is AnswerOutcome.OUTSIDE
    answer = inbound("Проверьте, пожалуйста, настройки", message_id=13, reply_to=card)
    assert await desk.tickets.answer(answer) is AnswerOutcome.ANSWERED
    assert await desk.tickets.answer(answer) is AnswerOutcome.DUPLICATE
    assert desk.users.calls[-1] == ("relay_out", "Проверьте, пожалуйста, настройки")

    outcome, closed = await desk.tickets.close_by_staff(ticket.id, staff_name="Ирина")
    assert outcome is CloseOutcome.CLOSED and closed is not None and closed.status is TicketStatus.CLOSED
    assert (
        await desk.tickets.answer(inbound("Дополню ответ", message_id=14, reply_to=card))
        is AnswerOutcome.ANSWERED
    )
    reopened = await desk.store.tickets.get(ticket.id)
    assert reopened is not None and reopened.status is not TicketStatus.CLOSED
    assert any("№" in text for text in desk.staff.said())


def ticket_card(ticket: Ticket | None) -> int:
    assert ticket is not None and ticket.card_message_id is not None
    return ticket.card_message_id


async def test_claim_acknowledges_before_its_effects(desk: Desk) -> None:
    ticket = await desk.ask(await desk.parent())
    order: list[str] = []

    async def ack(outcome: ClaimOutcome, _: Ticket | None) -> None:
        order.append(f"ack:{outcome}")
        assert not any(name == "refresh" for name, _ in desk.staff.calls)

    outcome, claimed = await desk.tickets.claim(ticket.id, staff_id=77, staff_name="Ирина", ack=ack)
    assert outcome is ClaimOutcome.CLAIMED and order == ["ack:claimed"]
    assert claimed is not None and claimed.claimed_by_name == "Ирина"
    assert any("Ирина" in text for text in await desk.notices())  # the user is told, through the outbox
    outcome, _ = await desk.tickets.claim(ticket.id, staff_id=78, staff_name="Пётр")
    assert outcome is ClaimOutcome.ALREADY_CLAIMED


async def test_the_user_closes_once_and_a_stranger_cannot(desk: Desk) -> None:
    user = await desk.parent()
    ticket = await desk.ask(user)
    stranger = await desk.parent("777")
    assert (await desk.tickets.close_by_user(stranger, ticket.id))[0] is CloseOutcome.NOT_FOUND
    assert (await desk.tickets.close_by_user(user, ticket.id))[0] is CloseOutcome.CLOSED
    said = len(desk.staff.said())
    assert (await desk.tickets.close_by_user(user, ticket.id))[0] is CloseOutcome.CLOSED  # pressed again
    assert len(desk.staff.said()) == said  # nothing said twice


async def test_vendor_hand_off_tells_the_user_in_the_same_transaction(desk: Desk) -> None:
    ticket = await desk.ask(await desk.parent())
    outcome, handed = await desk.tickets.hand_to_vendor(ticket.id)
    assert outcome is VendorOutcome.HANDED and handed is not None and handed.vendor_at is not None
    assert any(desk.school.vendor.name in text for text in await desk.notices())
    await desk.tickets.close_by_staff(ticket.id, staff_name="Ирина")
    assert (await desk.tickets.hand_to_vendor(ticket.id))[0] is VendorOutcome.CLOSED
    assert (await desk.tickets.hand_to_vendor(9999))[0] is VendorOutcome.NOT_FOUND


# ---- routing that tells the truth; buttons that follow the ticket ------------------------------------------


async def test_the_promise_and_the_card_name_the_same_person_and_time(desk: Desk) -> None:
    desk.clock.current = SATURDAY_8PM
    ticket = await desk.ask(await desk.parent())
    [(_, confirmation)] = desk.users.calls
    assert "возьмёт в работу Смирнова О. П." in confirmation and "во вторник после 14:00" in confirmation
    stored = await desk.store.tickets.get(ticket.id)
    assert stored is not None and stored.assignee_key == "teacher2"
    [line] = desk.tickets.duty.specialists.card_lines(stored)
    assert line == "Вне графика: возьмут в работу во вторник после 14:00 — Смирнова О. П. (учитель, консультант по ЭЖ)"
    # Taken, then closed: the line follows the state.
    await desk.tickets.claim(ticket.id, staff_id=77, staff_name="Ирина")
    taken = await desk.store.tickets.get(ticket.id)
    assert taken is not None and desk.tickets.duty.specialists.card_lines(taken) == ["Взят в работу 10.10 20:00"]
    await desk.tickets.close_by_staff(ticket.id, staff_name="Ирина")
    closed = await desk.store.tickets.get(ticket.id)
    assert closed is not None and desk.tickets.duty.specialists.card_lines(closed) == ["Закрыт 10.10 20:00"]


async def test_closing_over_an_unanswered_follow_up_is_confirmed_first(desk: Desk) -> None:
    user = await desk.parent()
    ticket = await desk.ask(user)
    stored = await desk.store.tickets.get(ticket.id)
    assert stored is not None and stored.confirm_message_id == 9000 + ticket.id
    asked: list[int] = []

    async def confirm(_: Ticket, upto: int) -> None:
        asked.append(upto)

    # The question alone, with no follow-up: closed at once.
    assert await desk.store.unanswered_follow_up(stored) is None
    await desk.tickets.answer(inbound("Ответ", message_id=20, reply_to=ticket_card(stored)))
    await desk.tickets.follow_up(user, inbound("А ещё?", message_id=9500, chat_id=user.chat_id))
    outcome, _ = await desk.tickets.close_by_staff(ticket.id, staff_name="Ирина", confirm=confirm)
    assert outcome is CloseOutcome.UNANSWERED and len(asked) == 1
    assert (await desk.store.tickets.get(ticket.id)).is_open  # type: ignore[union-attr]
    # A newer message after the question was asked: asked again.
    await desk.tickets.follow_up(user, inbound("И ещё", message_id=9501, chat_id=user.chat_id))
    outcome, _ = await desk.tickets.close_by_staff(
        ticket.id, staff_name="Ирина", confirm=confirm, confirmed_upto=asked[0]
    )
    assert outcome is CloseOutcome.UNANSWERED and asked[1] > asked[0]
    outcome, closed = await desk.tickets.close_by_staff(
        ticket.id, staff_name="Ирина", confirm=confirm, confirmed_upto=asked[1]
    )
    assert outcome is CloseOutcome.CLOSED and closed is not None
    # The user's close button goes.
    assert desk.users.calls[-1] == ("closed", 9000 + ticket.id)
