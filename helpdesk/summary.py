"""The deputy director's daily summary: new, open, overdue and at-the-vendor tickets by topic, once a day.
No aiogram."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from helpdesk.duty import Duty
from helpdesk.ports import Notices
from helpdesk.rules.escalation import ALERT_UNANSWERED, ALERT_UNCLAIMED
from helpdesk.store import Store
from storage.tickets import Ticket


class DailySummary:
    def __init__(self, *, store: Store, duty: Duty, notices: Notices, at: time | None) -> None:
        self.store = store
        self.duty = duty
        self.notices = notices
        self.at = at
        self.school = duty.school

    async def daily_summary(self, now: datetime) -> None:
        at = self.at
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
            await self.store.notice(self.duty.manager_dest, text, dedupe=f"summary:{today}")
        self.notices.kick()

    async def summary_text(self, now: datetime) -> str:
        tr = self.duty.tr
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
        waiting = "\n".join(self.duty.ticket_line(t) for t in overdue[:10])
        text = tr("duty.summary", date=local.strftime("%d.%m.%Y"), rows="\n".join(rows))
        if waiting:
            text += "\n\n" + tr("duty.summary_overdue", items=waiting)
        return text
