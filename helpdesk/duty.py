"""The consultation schedule at work: who takes a new question and when (the honest promise), the private
notice to the specialist on duty, and the out-of-hours queue released when a consultation starts. The wording
shared by the duty's other parts (:mod:`helpdesk.escalations`, :mod:`helpdesk.vendor`,
:mod:`helpdesk.summary`) lives here too: labels, card links, ticket lines, the deputy director's chat.

The decisions are pure (:mod:`helpdesk.rules.routing`, :mod:`helpdesk.rules.schedule`); this module applies
them to tickets, stores the result and says it through the ports. Time always comes from the injected clock.
No aiogram.
"""

from __future__ import annotations

import logging
from datetime import datetime

from helpdesk.domain import Category, Role, RouteReason, TicketStatus, Topic
from helpdesk.formatting import escape
from helpdesk.ports import DeliveryError, Destination, Notices, StaffSide
from helpdesk.rules.routing import RouteDecision, route
from helpdesk.rules.schedule import describe_duty, promise
from helpdesk.school import Specialist
from helpdesk.specialists import InviteOutcome, InviteResult, Specialists, plain_label
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.tickets import Ticket

log = logging.getLogger(__name__)


class Duty:
    def __init__(
        self,
        *,
        store: Store,
        specialists: Specialists,
        staff: StaffSide,
        notices: Notices,
        texts: Texts,
        manager_chat_id: int | None,
    ) -> None:
        self.texts = texts
        self.store = store
        self.specialists = specialists
        self.school = specialists.school
        self.staff = staff
        self.notices = notices
        self.manager_chat_id = manager_chat_id

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

    def user_promise(self, decision: RouteDecision, tr: Tr, category: Category) -> str:
        """What the user is told of who takes their question and when: the decision's assignee and time,
        and, when a consultation is on that is not for this question, who is consulting and why it waits."""
        now = decision.decided_at or self.now()
        who = decision.assignee
        if not decision.queued and who is not None:
            return tr("duty.user_on_duty", name=escape(plain_label(who, tr)))
        consulting = ", ".join(plain_label(s, tr) for s in decision.consulting_now)
        verb = "many" if len(decision.consulting_now) > 1 else "one"
        if who is not None and decision.take_up_at is not None:
            when = promise(now, decision.take_up_at, tr)
            if decision.reason is RouteReason.NOT_THEIRS and consulting:
                return tr(
                    f"routing.user_not_theirs_{verb}",
                    consulting=escape(consulting),
                    about=tr(f"routing.about.{category.value}"),
                    kind=tr(f"duty.kind.{who.kind.value}"),
                    name=escape(who.short_name),
                    when=when,
                )
            return tr("routing.user_next_slot", when=when, name=escape(plain_label(who, tr)))
        phone, email = escape(self.school.phone), escape(self.school.email)
        if consulting:
            return tr(
                f"routing.user_not_theirs_no_slot_{verb}",
                consulting=escape(consulting),
                about=tr(f"routing.about.{category.value}"),
                phone=phone,
                email=email,
            )
        return tr("duty.user_no_slots", phone=phone, email=email)

    async def notify_assigned(self, ticket: Ticket, decision: RouteDecision) -> None:
        """A short private notice to the decision's assignee, when they have linked their account: a new
        question for them now, or one promised in their name for their next consultation (quiet: it may be
        evening)."""
        who = decision.assignee
        if who is None:
            return
        if not decision.queued:
            await self._private_notice(who, ticket, "duty.notice_new")
        elif decision.take_up_at is not None:
            when = promise(decision.decided_at or self.now(), decision.take_up_at, self.tr)
            await self._private_notice(who, ticket, "routing.notice_promised", quiet=True, when=when)

    async def _private_notice(
        self, spec: Specialist, ticket: Ticket, key: str, *, quiet: bool = False, **params: str
    ) -> None:
        link = self.specialists.links.get(spec.key)
        if link is None:
            return
        text = self.tr(
            key,
            number=ticket.id,
            topic=self.tr(f"topic.short.{ticket.topic.value}"),
            category=self.tr(f"category.{ticket.category.value}"),
            link=self.card_link(ticket),
            **params,
        )
        try:
            await self.staff.say(Destination(link.tg_user_id), text, quiet=quiet)
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
                # The slot was cancelled or has already ended: promise the next one instead, and say so on
                # the card (the new assignee and time).
                async with self.store.transaction():
                    await self.store.tickets.set_routing(
                        ticket.id,
                        routed_to=decision.routed_to,
                        take_up_at=decision.take_up_at,
                        queued=decision.take_up_at is not None,
                        reason=decision.reason,
                    )
                fresh = await self.store.tickets.get(ticket.id)
                if fresh is not None:
                    await self.staff.refresh_card(fresh)
                continue
            # The one promised to the user takes it, when on duty now (the usual case); else the best on duty.
            spec = next((s for s in decision.on_duty_now if s.key == ticket.assignee_key), decision.on_duty_now[0])
            others = tuple(s.key for s in decision.on_duty_now if s.key != spec.key)
            async with self.store.transaction():
                await self.store.tickets.set_routing(
                    ticket.id,
                    routed_to=(spec.key, *others),
                    take_up_at=now,
                    queued=False,
                )
            waiting.setdefault(spec.key, []).append(ticket)
        for key, tickets in waiting.items():
            found = self.school.find_specialist(key)
            assert found is not None
            spec = found
            tickets.sort(key=lambda t: t.created_at)
            items = "\n".join(self.ticket_line(t) for t in tickets)
            await self.staff.say(
                Destination(self.staff.chat_id),
                self.tr("duty.queue_released", name=self.label(spec), count=len(tickets), items=items),
            )
            for ticket in tickets:
                fresh = await self.store.tickets.get(ticket.id)
                if fresh is not None:
                    await self.staff.refresh_card(fresh)
                    await self._private_notice(spec, fresh, "duty.notice_queued")

    async def board(self, tr: Tr) -> str:
        """``/duty``: who is consulting now and next, and what waits — how many questions nobody has taken yet
        (and how many of them wait for their consultation), and the oldest of them."""
        now = self.now()
        text = describe_duty(self.school, now, tr)
        waiting = [t for t in await self.store.tickets.open_tickets() if t.status is TicketStatus.OPEN]
        if not waiting:
            return f"{text}\n\n{escape(tr('routing.queue_empty'))}"
        oldest = min(waiting, key=lambda t: (t.created_at, t.id))
        since = oldest.created_at.astimezone(self.school.tz).strftime("%d.%m %H:%M")
        queued = sum(1 for t in waiting if t.queued)
        queue = tr("routing.queue", count=len(waiting), queued=queued, since=since, oldest=self.ticket_line(oldest))
        return f"{text}\n\n{queue}"

    def ticket_line(self, ticket: Ticket) -> str:
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

    async def accept_invite(self, token: str, tg_user_id: int, tg_name: str) -> InviteResult:
        """Someone opened an invite link: linked, refused, or (replacing another account) asked of
        management in their chat."""
        result = await self.specialists.accept_invite(token, tg_user_id, tg_name, management=self.manager_dest)
        if result.outcome is InviteOutcome.PENDING:
            self.notices.kick()
        return result

    @property
    def manager_dest(self) -> Destination:
        return Destination(self.manager_chat_id or self.staff.chat_id)

    async def to_manager(self, text: str) -> None:
        async with self.store.transaction():
            await self.store.notice(self.manager_dest, text)
        self.notices.kick()
