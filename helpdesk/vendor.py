"""Hand-offs to the e-journal vendor's support desk, under the vendor's rules: the user is told how to reach it
and what to prepare; the vendor's ticket number is recorded; staff are reminded until the ticket closes.
No aiogram."""

from __future__ import annotations

from datetime import datetime, timedelta

from helpdesk.duty import Duty
from helpdesk.formatting import escape
from helpdesk.ports import Destination, Notices, StaffSide
from helpdesk.store import Store
from helpdesk.texts import Texts
from storage.tickets import Ticket


class Vendor:
    def __init__(self, *, store: Store, duty: Duty, staff: StaffSide, notices: Notices, texts: Texts) -> None:
        self.store = store
        self.duty = duty
        self.staff = staff
        self.notices = notices
        self.texts = texts
        self.school = duty.school

    async def hand_to_vendor(self, ticket: Ticket, *, actor_id: int | None = None, actor_name: str = "") -> Ticket:
        """The ticket goes to the vendor's support; the user is told how to reach it and what to prepare
        (the mark and the notice are one transaction)."""
        user = await self.store.users.get(ticket.user_id)
        assert user is not None
        utr = self.texts.of(user)
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
            await self.store.tickets.set_vendor(ticket.id, self.duty.now())
            await self.store.audit_action("vendor", actor_id, actor_name, ticket_id=ticket.id)
            await self.store.notice(Destination(user.chat_id), notice)
            fresh = await self.store.tickets.get(ticket.id)
        assert fresh is not None
        self.notices.kick()
        await self.staff.refresh_card(fresh)
        return fresh

    async def set_vendor_ref(self, ticket: Ticket, ref: str) -> Ticket:
        async with self.store.transaction():
            await self.store.tickets.set_vendor(ticket.id, self.duty.now())
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
                self.duty.tr(
                    "duty.vendor_reminder", number=ticket.id, days=days, ref=escape(ticket.vendor_ref or "—")
                ),
            )
