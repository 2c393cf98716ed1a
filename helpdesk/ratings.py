"""Satisfaction: when a ticket is closed (by staff or by the user), its user is asked once to rate the help,
1-5, then may add a comment. Not after a session ended for misconduct (that close does not come here); a
ticket handed to the vendor stays open, so it is asked about when it finally closes. A rating of 1-2 alerts
the deputy director with a link to the card; the card shows the rating. No aiogram.
"""

from __future__ import annotations

from enum import StrEnum

from helpdesk.duty import Duty
from helpdesk.formatting import escape, shorten
from helpdesk.ports import Notices, StaffSide, UserSide
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.tickets import Ticket

LOW = 2  # a rating of this or less alerts the deputy director
MAX_COMMENT = 1000


class RateOutcome(StrEnum):
    RATED = "rated"
    ALREADY = "already"  # rated before (the same press again, or a second one)
    NOT_FOUND = "not_found"  # not this user's ticket, or never asked about


class Ratings:
    def __init__(
        self,
        *,
        store: Store,
        duty: Duty,
        staff: StaffSide,
        users: UserSide,
        notices: Notices,
        texts: Texts,
    ) -> None:
        self.store = store
        self.duty = duty
        self.staff = staff
        self.users = users
        self.notices = notices
        self.texts = texts

    async def ask(self, ticket: Ticket) -> bool:
        """After a close: ask the ticket's user to rate it, unless asked before (a reopened ticket closed
        again is not asked twice). Returns whether the question was put."""
        async with self.store.transaction():
            asked = await self.store.ratings.ask(ticket, self.store.now())
        if not asked:
            return False
        user = await self.store.users.get(ticket.user_id)
        if user is None:
            return False
        await self.users.ask_rating(user, ticket, self.texts.of(user)("rating.ask", number=ticket.id))
        return True

    async def rate(self, user_id: int, ticket_id: int, score: int) -> tuple[RateOutcome, Ticket | None]:
        """The user's score. 1-2 alerts the deputy director (in the same transaction); the card shows it."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user_id or not 1 <= score <= 5:
            return RateOutcome.NOT_FOUND, None
        async with self.store.transaction():
            rating = await self.store.ratings.get(ticket_id)
            if rating is None:
                return RateOutcome.NOT_FOUND, ticket
            if not await self.store.ratings.rate(ticket_id, score, self.store.now()):
                return RateOutcome.ALREADY, ticket
            if score <= LOW:
                url = self.staff.card_url(ticket)
                link = self.tr("rating.card_link", url=escape(url)) if url else ""
                text = self.tr("rating.low_alert", number=ticket.id, score=score, link=link).rstrip()
                await self.store.notice(self.duty.manager_dest, text, dedupe=f"low-rating:{ticket_id}")
            fresh = await self.store.tickets.get(ticket_id)
        assert fresh is not None
        if score <= LOW:
            self.notices.kick()
        await self.staff.refresh_card(fresh)
        return RateOutcome.RATED, fresh

    async def comment(self, user_id: int, ticket_id: int, text: str) -> bool:
        """The comment after the score (once); a low score's comment goes to the deputy director too."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user_id:
            return False
        text = text.strip()[:MAX_COMMENT]
        if not text:
            return False
        async with self.store.transaction():
            if not await self.store.ratings.comment(ticket_id, text):
                return False
            rating = await self.store.ratings.get(ticket_id)
            low = rating is not None and rating.score is not None and rating.score <= LOW
            if low and rating is not None:
                note = self.tr(
                    "rating.low_comment",
                    number=ticket_id,
                    score=rating.score,
                    text=escape(shorten(text, 600)),
                )
                await self.store.notice(self.duty.manager_dest, note, dedupe=f"low-rating-comment:{ticket_id}")
        if low:
            self.notices.kick()
        return True

    @property
    def tr(self) -> Tr:
        return self.texts.staff
