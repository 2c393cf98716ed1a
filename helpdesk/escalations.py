"""Reminders and escalations: an untaken ticket reminds those on duty, then alerts the deputy director; a
taken ticket without an answer alerts too; a specialist may escalate by hand. Times count consultation
minutes (:mod:`helpdesk.rules.escalation`). Each mark and its alert are one transaction. No aiogram."""

from __future__ import annotations

from datetime import datetime

from helpdesk.duty import Duty
from helpdesk.formatting import escape
from helpdesk.ports import Destination, Notices
from helpdesk.rules.escalation import (
    ALERT_UNANSWERED,
    ALERT_UNCLAIMED,
    REMIND,
    EscalationPlan,
    EscalationSettings,
)
from helpdesk.rules.routing import suitable
from helpdesk.rules.schedule import on_duty
from helpdesk.store import Store
from storage.tickets import Ticket


class Escalations:
    def __init__(self, *, store: Store, duty: Duty, notices: Notices, settings: EscalationSettings) -> None:
        self.store = store
        self.duty = duty
        self.notices = notices
        self.settings = settings
        self.school = duty.school

    async def escalate_due(self, now: datetime) -> None:
        for ticket in await self.store.tickets.open_tickets():
            if ticket.vendor_at is not None:
                continue  # waiting for the vendor: its own reminder applies
            plan = EscalationPlan(
                self.school,
                self.settings,
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
        tr = self.duty.tr
        minutes = {
            REMIND: self.settings.remind_after,
            ALERT_UNCLAIMED: self.settings.alert_unclaimed_after,
            ALERT_UNANSWERED: self.settings.alert_unanswered_after,
        }[action]
        if action == REMIND:
            fits = suitable(self.school, ticket.role, ticket.topic, ticket.category)
            names = ", ".join(self.duty.label(s) for s in on_duty(self.school, now) if fits(s)) or tr(
                "duty.nobody"
            )
            return self.duty.staff.thread_of(ticket), tr(
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
            link=self.duty.card_link(ticket),
        )
        return self.duty.manager_dest, text

    async def escalate_by_specialist(self, ticket: Ticket, who: str, comment: str) -> None:
        await self.duty.to_manager(
            self.duty.tr(
                "duty.escalated",
                number=ticket.id,
                name=escape(who),
                comment=escape(comment) if comment else self.duty.tr("duty.no_comment"),
                topic=self.duty.tr(f"topic.short.{ticket.topic.value}"),
                category=self.duty.tr(f"category.{ticket.category.value}"),
                link=self.duty.card_link(ticket),
            )
        )
