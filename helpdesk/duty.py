"""The consultation schedule at work: routing of new tickets, the out-of-hours queue, reminders and
escalations, vendor hand-offs, the daily summary, and linking specialists to their accounts.

The decisions are pure (:mod:`helpdesk.rules.routing`, :mod:`helpdesk.rules.schedule`,
:mod:`helpdesk.rules.escalation`); this module applies them to tickets, stores the result and says it through
the ports. Time always comes from the injected clock. No aiogram.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from helpdesk.clock import Clock
from helpdesk.domain import Category, Role, Topic
from helpdesk.formatting import escape, user_link
from helpdesk.ports import DeliveryError, Destination, Notices, StaffSide
from helpdesk.rules.escalation import (
    ALERT_UNANSWERED,
    ALERT_UNCLAIMED,
    REMIND,
    EscalationPlan,
    EscalationSettings,
)
from helpdesk.rules.routing import RouteDecision, route, suitable
from helpdesk.rules.schedule import on_duty, promise
from helpdesk.school import SchoolProfile, Specialist
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.duty import SpecialistLink
from storage.tickets import Ticket

log = logging.getLogger(__name__)

VENDOR_REMINDER = "vendor_reminder"


def message_link(chat_id: int, message_id: int | None, thread_id: int | None = None) -> str | None:
    """A t.me link to a message in a supergroup (``-100...`` ids), for the deputy director's alerts."""
    text = str(chat_id)
    if message_id is None or not text.startswith("-100"):
        return None
    internal = text[4:]
    if thread_id:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    return f"https://t.me/c/{internal}/{message_id}"


@dataclass(frozen=True)
class DutySettings:
    escalation: EscalationSettings
    manager_chat_id: int | None
    summary_at: time | None


class Specialists:
    """The school's specialists and the accounts they linked: who they are, how they are named and how
    their answers are signed.

    One object shared by the duty (which links and unlinks accounts) and the staff side (which names the
    specialists on cards and signs their answers), so that a new link shows everywhere at once.
    """

    def __init__(self, *, school: SchoolProfile, store: Store, clock: Clock, tr: Tr) -> None:
        self.school = school
        self.store = store
        self.clock = clock
        self.tr = tr
        self.links: dict[str, SpecialistLink] = {}

    async def load(self) -> None:
        self.links = {link.specialist_key: link for link in await self.store.duty.links()}

    def now(self) -> datetime:
        return self.clock().astimezone(self.school.tz)

    def label(self, spec: Specialist, *, mention: bool = True) -> str:
        """``Иванов И. И. (технический специалист)``; a mention when the specialist is linked."""
        text = self.tr("duty.label", name=spec.short_name, kind=self.tr(f"duty.kind.{spec.kind.value}"))
        link = self.links.get(spec.key)
        if mention and link is not None:
            return user_link(link.tg_user_id, text)
        return escape(text)

    def specialist_of(self, tg_user_id: int) -> Specialist | None:
        for key, link in self.links.items():
            if link.tg_user_id == tg_user_id:
                return self.school.find_specialist(key)
        return None

    def signature(self, tg_user_id: int, first_name: str, tr: Tr) -> str:
        """How an answer is signed: the specialist's name and kind of helper when linked."""
        spec = self.specialist_of(tg_user_id)
        if spec is None:
            return tr("answer.header", name=escape(first_name))
        return tr("duty.answer_header", name=escape(spec.short_name), kind=tr(f"duty.kind.{spec.kind.value}"))

    def card_lines(self, ticket: Ticket) -> list[str]:
        """What the card says of the schedule: who should take the ticket and when; the vendor."""
        tr = self.tr
        lines: list[str] = []
        specs = [s for s in (self.school.find_specialist(k) for k in ticket.routed_to) if s is not None]
        if ticket.queued and ticket.take_up_at is not None:
            when = promise(self.now(), ticket.take_up_at.astimezone(self.school.tz), tr)
            who = self.label(specs[0]) if specs else "—"
            lines.append(tr("duty.card_queued", when=when, name=who))
        elif specs:
            lines.append(tr("duty.card_assigned", names=", ".join(self.label(s) for s in specs[:3])))
        if ticket.vendor_at is not None:
            ref = escape(ticket.vendor_ref) if ticket.vendor_ref else "—"
            lines.append(
                tr(
                    "duty.card_vendor",
                    date=ticket.vendor_at.astimezone(self.school.tz).strftime("%d.%m"),
                    ref=ref,
                )
            )
        return lines


class Duty:
    def __init__(
        self,
        *,
        store: Store,
        specialists: Specialists,
        staff: StaffSide,
        notices: Notices,
        texts: Texts,
        settings: DutySettings,
    ) -> None:
        self.texts = texts
        self.store = store
        self.specialists = specialists
        self.school = specialists.school
        self.staff = staff
        self.notices = notices
        self.settings = settings

    @property
    def tr(self) -> Tr:
        return self.specialists.tr

    def now(self) -> datetime:
        return self.specialists.now()

    def label(self, spec: Specialist, *, mention: bool = True) -> str:
        return self.specialists.label(spec, mention=mention)

    def card_link(self, ticket: Ticket) -> str:
        """An HTML link to the ticket's card, or nothing when there is no card (yet) or no link form."""
        url = self.staff.card_url(ticket)
        return f' <a href="{url}">{self.tr("duty.open_card")}</a>' if url else ""

    # ---- new tickets ----------------------------------------------------------------------------

    def decide(self, ticket: Ticket, now: datetime) -> RouteDecision:
        return route(self.school, ticket.role, ticket.topic, ticket.category, now)

    def decide_new(self, role: Role, topic: Topic, category: Category) -> RouteDecision:
        """Who takes a new question, and when: decided before it is stored, stored with it."""
        return route(self.school, role, topic, category, self.now())

    def user_promise(self, decision: RouteDecision, tr: Tr) -> str:
        now = self.now()
        if not decision.queued and decision.on_duty_now:
            spec = decision.on_duty_now[0]
            name = tr("duty.label", name=spec.short_name, kind=tr(f"duty.kind.{spec.kind.value}"))
            return tr("duty.user_on_duty", name=escape(name))
        if decision.take_up_at is not None:
            return tr("duty.user_queued", when=promise(now, decision.take_up_at, tr))
        return tr("duty.user_no_slots", phone=escape(self.school.phone), email=escape(self.school.email))

    async def notify_assigned(self, ticket: Ticket, decision: RouteDecision) -> None:
        """A short private notice to the specialists on duty who have linked their account."""
        if decision.queued:
            return
        for spec in decision.on_duty_now:
            await self._private_notice(spec, ticket, "duty.notice_new")

    async def _private_notice(self, spec: Specialist, ticket: Ticket, key: str) -> None:
        link = self.specialists.links.get(spec.key)
        if link is None:
            return
        text = self.tr(
            key,
            number=ticket.id,
            topic=self.tr(f"topic.short.{ticket.topic.value}"),
            category=self.tr(f"category.{ticket.category.value}"),
            link=self.card_link(ticket),
        )
        try:
            await self.staff.say(Destination(link.tg_user_id), text)
        except DeliveryError as exc:
            # They have not started the bot, or blocked it: the mention on the card is enough.
            log.info("private notice to %s not sent: %s", spec.key, exc)

    # ---- the out-of-hours queue -----------------------------------------------------------------

    async def release_queue(self, now: datetime) -> None:
        """At a slot's start, tell the specialist on duty what waits for them, oldest first."""
        now = now.astimezone(self.school.tz)
        due = [
            t
            for t in await self.store.tickets.open_tickets()
            if t.queued and t.take_up_at and t.take_up_at <= now
        ]
        if not due:
            return
        waiting: dict[str, list[Ticket]] = {}
        for ticket in due:
            decision = self.decide(ticket, now)
            if decision.queued:
                # The slot was cancelled or has already ended: promise the next one instead.
                async with self.store.transaction():
                    await self.store.tickets.set_routing(
                        ticket.id,
                        routed_to=ticket.routed_to,
                        take_up_at=decision.take_up_at,
                        queued=decision.take_up_at is not None,
                    )
                continue
            spec = decision.on_duty_now[0]
            async with self.store.transaction():
                await self.store.tickets.set_routing(
                    ticket.id,
                    routed_to=tuple(s.key for s in decision.on_duty_now),
                    take_up_at=now,
                    queued=False,
                )
            waiting.setdefault(spec.key, []).append(ticket)
        for key, tickets in waiting.items():
            found = self.school.find_specialist(key)
            assert found is not None
            spec = found
            tickets.sort(key=lambda t: t.created_at)
            items = "\n".join(self._ticket_line(t) for t in tickets)
            await self.staff.say(
                Destination(self.staff.chat_id),
                self.tr("duty.queue_released", name=self.label(spec), count=len(tickets), items=items),
            )
            for ticket in tickets:
                fresh = await self.store.tickets.get(ticket.id)
                if fresh is not None:
                    await self.staff.refresh_card(fresh)
                    await self._private_notice(spec, fresh, "duty.notice_queued")

    def _ticket_line(self, ticket: Ticket) -> str:
        url = self.staff.card_url(ticket)
        title = self.tr(
            "duty.ticket_line",
            number=ticket.id,
            topic=self.tr(f"topic.short.{ticket.topic.value}"),
            category=self.tr(f"category.{ticket.category.value}"),
        )
        first_line = escape((ticket.question.splitlines() or [""])[0][:80])
        head = f'<a href="{url}">{title}</a>' if url else title
        return f"• {head} — {first_line}" if first_line else f"• {head}"

    # ---- reminders and escalation ---------------------------------------------------------------

    async def escalate_due(self, now: datetime) -> None:
        for ticket in await self.store.tickets.open_tickets():
            if ticket.vendor_at is not None:
                continue  # waiting for the vendor: its own reminder applies
            plan = EscalationPlan(
                self.school,
                self.settings.escalation,
                suitable(self.school, ticket.role, ticket.topic, ticket.category),
            )
            done = await self.store.duty.actions_done(ticket.id)
            for action in plan.due_actions(
                ticket.created_at, ticket.claimed_at, ticket.answered_at, now, done
            ):
                dest, text = self._action_message(ticket, action, now)
                # The mark and the message are one transaction: fired exactly once, delivered at least once.
                async with self.store.transaction():
                    if await self.store.duty.mark_action(ticket.id, action, now):
                        await self.store.notice(dest, text, dedupe=f"act:{ticket.id}:{action}")
        self.notices.kick()

    def _action_message(self, ticket: Ticket, action: str, now: datetime) -> tuple[Destination, str]:
        tr = self.tr
        minutes = {
            REMIND: self.settings.escalation.remind_after,
            ALERT_UNCLAIMED: self.settings.escalation.alert_unclaimed_after,
            ALERT_UNANSWERED: self.settings.escalation.alert_unanswered_after,
        }[action]
        if action == REMIND:
            fits = suitable(self.school, ticket.role, ticket.topic, ticket.category)
            names = ", ".join(self.label(s) for s in on_duty(self.school, now) if fits(s)) or tr(
                "duty.nobody"
            )
            return self.staff.thread_of(ticket), tr(
                "duty.remind", number=ticket.id, minutes=int(minutes or 0), names=names
            )
        key = "duty.alert_unclaimed" if action == ALERT_UNCLAIMED else "duty.alert_unanswered"
        text = tr(
            key,
            number=ticket.id,
            minutes=int(minutes or 0),
            topic=tr(f"topic.short.{ticket.topic.value}"),
            category=tr(f"category.{ticket.category.value}"),
            name=escape(ticket.claimed_by_name or "—"),
            link=self.card_link(ticket),
        )
        return self.manager_dest, text

    @property
    def manager_dest(self) -> Destination:
        return Destination(self.settings.manager_chat_id or self.staff.chat_id)

    async def to_manager(self, text: str) -> None:
        async with self.store.transaction():
            await self.store.notice(self.manager_dest, text)
        self.notices.kick()

    async def escalate_by_specialist(self, ticket: Ticket, who: str, comment: str) -> None:
        await self.to_manager(
            self.tr(
                "duty.escalated",
                number=ticket.id,
                name=escape(who),
                comment=escape(comment) if comment else self.tr("duty.no_comment"),
                topic=self.tr(f"topic.short.{ticket.topic.value}"),
                category=self.tr(f"category.{ticket.category.value}"),
                link=self.card_link(ticket),
            )
        )

    # ---- the vendor -----------------------------------------------------------------------------

    async def hand_to_vendor(self, ticket: Ticket) -> Ticket:
        """The ticket goes to the vendor's support; the user is told how to reach it and what to prepare
        (the mark and the notice are one transaction)."""
        user = await self.store.users.get(ticket.user_id)
        assert user is not None
        utr = self.texts(user.effective_locale(self.texts.default_locale))
        vendor = self.school.vendor
        contacts = "\n".join(escape(c) for c in (vendor.phone, vendor.email, vendor.url) if c) or escape(
            self.school.phone
        )
        prepare = "\n".join(f"• {escape(p)}" for p in vendor.prepare)
        notice = utr(
            "duty.vendor_user",
            number=ticket.id,
            vendor=escape(vendor.name),
            hours=escape(vendor.hours),
            rules=escape(vendor.rules),
            contacts=contacts,
            prepare=prepare or "—",
        )
        async with self.store.transaction():
            await self.store.tickets.set_vendor(ticket.id, self.now())
            await self.store.notice(Destination(user.chat_id), notice)
            fresh = await self.store.tickets.get(ticket.id)
        assert fresh is not None
        self.notices.kick()
        await self.staff.refresh_card(fresh)
        return fresh

    async def set_vendor_ref(self, ticket: Ticket, ref: str) -> Ticket:
        async with self.store.transaction():
            await self.store.tickets.set_vendor(ticket.id, self.now())
            await self.store.tickets.set_vendor_ref(ticket.id, ref[:64])
            fresh = await self.store.tickets.get(ticket.id)
        assert fresh is not None
        await self.staff.refresh_card(fresh)
        return fresh

    async def vendor_reminders(self, now: datetime) -> None:
        every = timedelta(days=self.school.vendor.reminder_days)
        for ticket in await self.store.tickets.open_tickets():
            if ticket.vendor_at is None:
                continue
            last = ticket.vendor_reminded_at or ticket.vendor_at
            if now - last < every:
                continue
            async with self.store.transaction():
                await self.store.tickets.set_vendor_reminded(ticket.id, now)
            days = (now - ticket.vendor_at).days
            await self.staff.say(
                self.staff.thread_of(ticket),
                self.tr(
                    "duty.vendor_reminder", number=ticket.id, days=days, ref=escape(ticket.vendor_ref or "—")
                ),
            )

    # ---- the daily summary ----------------------------------------------------------------------

    async def daily_summary(self, now: datetime) -> None:
        at = self.settings.summary_at
        if at is None:
            return
        local = now.astimezone(self.school.tz)
        if local.time() < at:
            return
        today = local.date().isoformat()
        if await self.store.duty.mark("daily_summary") == today:
            return
        text = await self.summary_text(now)
        async with self.store.transaction():
            if await self.store.duty.mark("daily_summary") == today:
                return
            await self.store.duty.set_mark("daily_summary", today)
            await self.store.notice(self.manager_dest, text, dedupe=f"summary:{today}")
        self.notices.kick()

    async def summary_text(self, now: datetime) -> str:
        tr = self.tr
        new = await self.store.tickets.created_since(now - timedelta(days=1))
        open_ = await self.store.tickets.open_tickets()
        overdue: list[Ticket] = []
        for ticket in open_:
            done = await self.store.duty.actions_done(ticket.id)
            if done & {ALERT_UNCLAIMED, ALERT_UNANSWERED}:
                overdue.append(ticket)
        vendor = [t for t in open_ if t.vendor_at is not None]
        rows = []
        for topic in ("ej", "ed"):
            rows.append(
                tr(
                    "duty.summary_row",
                    topic=tr(f"topic.short.{topic}"),
                    new=sum(t.topic.value == topic for t in new),
                    open=sum(t.topic.value == topic for t in open_),
                    overdue=sum(t.topic.value == topic for t in overdue),
                    vendor=sum(t.topic.value == topic for t in vendor),
                )
            )
        local = now.astimezone(self.school.tz)
        waiting = "\n".join(self._ticket_line(t) for t in overdue[:10])
        text = tr("duty.summary", date=local.strftime("%d.%m.%Y"), rows="\n".join(rows))
        if waiting:
            text += "\n\n" + tr("duty.summary_overdue", items=waiting)
        return text

    # ---- linking specialists --------------------------------------------------------------------

    async def invite(self, key: str, created_by: int | None, bot_username: str | None) -> str:
        token = secrets.token_urlsafe(12)
        async with self.store.transaction():
            await self.store.duty.create_invite(token, key, created_by, self.now())
        return f"https://t.me/{bot_username}?start=inv_{token}"

    async def accept_invite(self, token: str, tg_user_id: int, tg_name: str) -> Specialist | None:
        now = self.now()
        async with self.store.transaction():
            key = await self.store.duty.use_invite(token, tg_user_id, now)
            spec = self.school.find_specialist(key) if key else None
            if spec is None:
                return None
            await self.store.duty.link(spec.key, tg_user_id, tg_name, now)
        await self.specialists.load()
        return spec

    async def unlink(self, key: str) -> bool:
        async with self.store.transaction():
            removed = await self.store.duty.unlink(key)
        await self.specialists.load()
        return removed
