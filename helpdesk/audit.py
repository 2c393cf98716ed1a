"""The audit trail, read: the latest staff and management actions (``/audit``, management) and one
ticket's history (``/ticket N``, staff). The actions are written by the use cases themselves, in the
transaction of the action (:meth:`helpdesk.store.Store.audit_action`). No aiogram."""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.formatting import escape
from helpdesk.school import SchoolProfile
from helpdesk.store import Store
from helpdesk.texts import Tr
from storage.audit import AuditEntry
from storage.tickets import Ticket

RECENT = 25


@dataclass(frozen=True)
class TicketHistory:
    ticket: Ticket
    entries: list[AuditEntry]


class AuditTrail:
    def __init__(self, *, store: Store, school: SchoolProfile) -> None:
        self.store = store
        self.school = school

    async def recent(self, limit: int = RECENT) -> list[AuditEntry]:
        """The newest actions, newest first."""
        return await self.store.audit.recent(limit)

    async def ticket_history(self, ticket_id: int) -> TicketHistory | None:
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None:
            return None
        return TicketHistory(ticket, await self.store.audit.of_ticket(ticket_id))

    def line(self, tr: Tr, entry: AuditEntry) -> str:
        """«05.12 14:03 · Ирина (id 42) · взял(а) в работу · №12 · …» (HTML)."""
        when = entry.at.astimezone(self.school.tz).strftime("%d.%m %H:%M")
        who = escape(entry.actor_name or "—")
        if entry.actor_id is not None:
            who = f"{who} (id {entry.actor_id})"
        parts = [when, who, tr(f"audit.action.{entry.action}")]
        if entry.ticket_id is not None:
            parts.append(f"№{entry.ticket_id}")
        if entry.detail:
            parts.append(escape(entry.detail))
        return " · ".join(parts)
