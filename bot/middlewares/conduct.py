"""The conduct policy on Telegram: checks before any handler runs, and what follows a violation.

Two outer middlewares on messages, registered after the user context (they need ``user``):

* :class:`UserConductMiddleware` — private chats. A restricted user (cooldown or block) gets a reminder
  instead of the handler; otherwise the text or caption is classified and a violation never reaches a
  handler: nothing is stored or forwarded, the session ends (:meth:`ConductDesk.user_violation`).
* :class:`StaffConductMiddleware` — the staff group. A specialist's message in a ticket thread that breaks
  the rules is not delivered; the specialist is told why and the director is alerted.

The dialog handlers know nothing of this. :class:`ConductDesk` is also used by ``handlers/conduct.py`` for
the specialist's button, ``/unblock`` and complaints.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from bot.config import Settings
from bot.delivery import Destination
from bot.desk import NOTE_MARKER, Desk
from bot.states import ComplaintDialog
from helpdesk.clock import Clock
from helpdesk.conduct import (
    MANUAL,
    ConductService,
    Policy,
    Standing,
    UnblockTarget,
    same_local_day,
    transcript,
)
from helpdesk.formatting import escape, shorten, user_link
from helpdesk.rules.profanity import Category, Verdict, classify
from helpdesk.rules.schedule import on_duty, specialist_label
from helpdesk.school import SchoolProfile
from helpdesk.texts import Texts, Tr
from helpdesk.tickets import TicketService
from storage.conduct import Actor, Complaint
from storage.db import Database
from storage.tickets import Ticket
from storage.users import TELEGRAM, User

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Commands a restricted user may still use: they ask nothing of the staff.
FREE_COMMANDS = frozenset({"help", "contacts", "language", "complaint", "cancel"})
COMPLAINT_STATES = frozenset(s.state for s in ComplaintDialog.__all_states__)
EVIDENCE_LIMIT = 1500


def command_of(text: str | None) -> str | None:
    """``"/help@school_bot x"`` → ``"help"``; None for anything that is not a command."""
    if not text or not text.startswith("/") or text.startswith("//"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class ConductDesk:
    def __init__(
        self,
        *,
        settings: Settings,
        service: TicketService,
        conduct: ConductService,
        desk: Desk,
        texts: Texts,
        school: SchoolProfile,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.service = service
        self.conduct = conduct
        self.desk = desk
        self.texts = texts
        self.school = school
        self.clock = clock

    @classmethod
    def create(
        cls,
        *,
        settings: Settings,
        db: Database,
        service: TicketService,
        desk: Desk,
        texts: Texts,
        school: SchoolProfile,
        clock: Clock,
    ) -> ConductDesk:
        policy = Policy(
            cooldown=timedelta(minutes=settings.conduct_cooldown_minutes),
            block_after=settings.conduct_block_after,
            block_window=timedelta(days=settings.conduct_block_window_days),
        )
        return cls(
            settings=settings,
            service=service,
            conduct=ConductService(db, clock, policy),
            desk=desk,
            texts=texts,
            school=school,
            clock=clock,
        )

    # ---- where alerts go ----------------------------------------------------------------------------

    @property
    def staff_tr(self) -> Tr:
        return self.desk.staff_tr

    @property
    def manager_chat(self) -> int:
        """The deputy director: the manager chat, else the staff group."""
        return self.settings.manager_chat_id or self.desk.staff_chat_id

    @property
    def director_chat(self) -> int:
        """The director: their chat, else the manager chat, else the staff group."""
        return self.settings.director_chat_id or self.manager_chat

    @property
    def complaint_chat(self) -> int | None:
        # Never the staff group: staff must not see who complained.
        return self.settings.director_chat_id or self.settings.manager_chat_id

    async def _send(self, chat_id: int, html_text: str) -> int | None:
        try:
            return await self.desk.gateway.send(Destination(chat_id), html_text)
        except TelegramAPIError as exc:
            log.error("conduct alert to chat %s not delivered: %s", chat_id, exc)
            return None

    async def _to_user(self, user: User, html_text: str) -> None:
        try:
            await self.desk.gateway.send(Destination(user.chat_id), html_text)
        except TelegramForbiddenError:
            log.info("user %s has blocked the bot; conduct notice not delivered", user.id)

    # ---- wording --------------------------------------------------------------------------------------

    def when(self, tr: Tr, moment: datetime) -> str:
        # Shown rounded up to the minute, so that "after 15:01" is never a minute too early.
        if moment.second or moment.microsecond:
            moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        local = moment.astimezone(self.settings.timezone)
        hm = local.strftime("%H:%M")
        if same_local_day(moment, self.clock(), self.settings.timezone):
            return tr("conduct.when_today", time=hm)
        return tr("conduct.when_date", time=hm, date=local.strftime("%d.%m.%Y"))

    def what(self, tr: Tr, category: str, name: str | None = None) -> str:
        if category == MANUAL:
            return tr("conduct.what_manual", name=escape(name or "—"))
        if category == Category.OBSCENE:
            return tr("conduct.what_obscene")
        if category == Category.INSULT:
            return tr("conduct.what_insult")
        return tr("conduct.what_english")

    def role(self, tr: Tr, user: User, ticket: Ticket | None) -> str:
        role = ticket.role if ticket is not None else user.role
        return tr(f"role.{role.value}") if role is not None else tr("conduct.role_unknown")

    def duty(self, tr: Tr, ticket: Ticket | None) -> str:
        """Who answers for the ticket now: whoever took it, else the specialists on duty by the schedule."""
        if ticket is not None and ticket.claimed_by_name:
            return escape(ticket.claimed_by_name)
        people = [specialist_label(s, tr) for s in on_duty(self.school, self.clock())]
        return escape(", ".join(people)) if people else tr("conduct.duty_none")

    def evidence(self, text: str) -> str:
        return (
            escape(shorten(text.strip(), EVIDENCE_LIMIT))
            if text.strip()
            else self.staff_tr("conduct.no_text")
        )

    # ---- a user's violation ---------------------------------------------------------------------------

    async def user_violation(self, user: User, state: FSMContext | None, text: str, verdict: Verdict) -> None:
        assert verdict.category is not None
        ticket = await self.service.tickets.open_for_user(user.id)
        await self._end_session(
            user,
            ticket,
            state,
            actor=Actor.FILTER,
            category=verdict.category.value,
            matches=verdict.matches,
            text=text,
        )

    async def manual_end(
        self, user: User, ticket: Ticket, state: FSMContext | None, *, staff_id: int, staff_name: str
    ) -> None:
        """A specialist ends the ticket for misconduct the filter missed; the user's last words are the
        evidence."""
        rows = await self.service.messages.for_ticket(ticket.id)
        said = [r.text for r in rows if r.direction == "in" and r.text]
        await self._end_session(
            user,
            ticket,
            state,
            actor=Actor.SPECIALIST,
            category=MANUAL,
            text=said[-1] if said else ticket.question,
            actor_id=staff_id,
            actor_name=staff_name,
        )

    async def _end_session(
        self,
        user: User,
        ticket: Ticket | None,
        state: FSMContext | None,
        *,
        actor: Actor,
        category: str,
        text: str,
        matches: tuple[str, ...] = (),
        actor_id: int | None = None,
        actor_name: str | None = None,
    ) -> None:
        if state is not None and await state.get_state() not in COMPLAINT_STATES:
            await state.clear()
        closed: Ticket | None = None
        if ticket is not None:
            changed, closed = await self.service.close(
                ticket.id, closed_by=self.staff_tr("conduct.closed_by")
            )
            if not changed:
                closed = None
        outcome = await self.conduct.record_violation(
            user_id=user.id,
            ticket_id=ticket.id if ticket else None,
            actor=actor,
            actor_id=actor_id,
            actor_name=actor_name,
            category=category,
            matches=matches,
            text=text,
        )
        current = outcome.standing
        # The ticket's thread: closed, and why — never the offending words.
        if closed is not None:
            await self.desk.refresh_card(closed)
            key = "conduct.staff_ended_manual" if actor is Actor.SPECIALIST else "conduct.staff_ended_filter"
            try:
                await self.desk.gateway.send(
                    self.desk.staff_dest(closed),
                    self.staff_tr(key, number=closed.id, name=escape(actor_name or "—")),
                )
            except TelegramAPIError as exc:
                log.error("ticket %s: staff not told of the session end: %s", closed.id, exc)
        # The user: which rule, what now, where else to get help.
        utr = self.desk.user_tr(user)
        if current.blocked:
            next_step = utr("conduct.next_blocked")
        elif current.cooldown_until is not None:
            next_step = utr("conduct.next_cooldown", when=self.when(utr, current.cooldown_until))
        else:
            next_step = utr("conduct.next_now")
        session = utr("conduct.session_ticket", number=ticket.id) if ticket else utr("conduct.session_dialog")
        hint = utr("conduct.quote_hint") if category == Category.OBSCENE else ""
        await self._to_user(
            user,
            utr(
                "conduct.user_notice",
                session=session,
                next=next_step,
                hint=hint,
                phone=escape(self.school.phone),
                email=escape(self.school.email),
            ),
        )
        # The deputy director.
        tr = self.staff_tr
        if current.blocked:
            target = str(ticket.id) if ticket else f"id{user.external_id}"
            result = tr("conduct.outcome_blocked", target=target)
        elif current.cooldown_until is not None:
            result = tr("conduct.outcome_cooldown", when=self.when(tr, current.cooldown_until))
        else:
            result = tr("conduct.outcome_now")
        await self._send(
            self.manager_chat,
            tr(
                "conduct.alert_user",
                ticket=tr("conduct.alert_ticket", number=ticket.id)
                if ticket
                else tr("conduct.alert_no_ticket"),
                user=user_link(user.external_id, user.display_name),
                role=self.role(tr, user, ticket),
                what=self.what(tr, category, actor_name),
                text=self.evidence(text),
                duty=self.duty(tr, ticket),
                days=self.settings.conduct_block_window_days,
                count=current.recent,
                outcome=result,
            ),
        )

    async def remind(self, user: User, current: Standing) -> None:
        """A restricted user wrote: the explanation again, but not more often than the policy says."""
        if not await self.conduct.take_reminder(user.id):
            return
        utr = self.desk.user_tr(user)
        contacts = {"phone": escape(self.school.phone), "email": escape(self.school.email)}
        if current.blocked:
            text = utr("conduct.reminder_blocked", **contacts)
        else:
            assert current.cooldown_until is not None
            text = utr("conduct.reminder_cooldown", when=self.when(utr, current.cooldown_until), **contacts)
        await self._to_user(user, text)

    async def find_target(self, target: UnblockTarget) -> User | None:
        if target.ticket_id is not None:
            ticket = await self.service.tickets.get(target.ticket_id)
            return await self.service.users.get(ticket.user_id) if ticket else None
        assert target.telegram_id is not None
        return await self.service.users.by_external(TELEGRAM, target.telegram_id)

    async def lift(self, user: User, *, actor_id: int, actor_name: str) -> bool:
        lifted = await self.conduct.lift(user.id, actor_id=actor_id, actor_name=actor_name)
        if lifted:
            await self._to_user(user, self.desk.user_tr(user)("conduct.unblocked_user"))
        return lifted

    # ---- a specialist's violation -------------------------------------------------------------------

    async def staff_violation(
        self, message: Message, user: User, ticket: Ticket, verdict: Verdict, text: str
    ) -> None:
        assert verdict.category is not None
        author = message.from_user
        assert author is not None
        await self.conduct.record_staff_violation(
            user_id=user.id,
            ticket_id=ticket.id,
            staff_id=author.id,
            staff_name=author.first_name,
            category=verdict.category.value,
            matches=verdict.matches,
            text=text,
        )
        tr = self.staff_tr
        what = self.what(tr, verdict.category.value)
        reply_here = Destination(
            message.chat.id, message.message_thread_id if self.desk.mode.forum else None, message.message_id
        )
        try:
            await self.desk.gateway.send(reply_here, tr("conduct.staff_withheld", what=what))
        except TelegramAPIError as exc:
            log.error("specialist not told that the message was withheld: %s", exc)
        await self._send(
            self.director_chat,
            tr(
                "conduct.alert_staff",
                number=ticket.id,
                specialist=user_link(author.id, author.first_name or "—"),
                user=user_link(user.external_id, user.display_name),
                role=self.role(tr, user, ticket),
                what=what,
                text=self.evidence(text),
            ),
        )

    # ---- complaints -----------------------------------------------------------------------------------

    async def complain(self, user: User, ticket: Ticket | None, text: str) -> tuple[Complaint, bool]:
        """Store the complaint and send it with the ticket's transcript to the director.

        Returns the complaint and whether someone received it.
        """
        rows = await self.service.messages.for_ticket(ticket.id) if ticket else []
        answers = [r for r in rows if r.direction == "out"]
        specialist_id = answers[-1].author_id if answers else (ticket.claimed_by_id if ticket else None)
        specialist_name = answers[-1].author_name if answers else (ticket.claimed_by_name if ticket else None)
        complaint = await self.conduct.add_complaint(
            user_id=user.id,
            ticket_id=ticket.id if ticket else None,
            specialist_id=specialist_id,
            specialist_name=specialist_name,
            text=text,
        )
        chat = self.complaint_chat
        if chat is None:
            log.warning(
                "complaint %s stored, but neither DIRECTOR_CHAT_ID nor MANAGER_CHAT_ID is set", complaint.id
            )
            return complaint, False
        tr = self.staff_tr
        body = escape(shorten(text, 2500))
        if classify(text).violation:
            body = f"<tg-spoiler>{body}</tg-spoiler>"
        sent = await self._send(
            chat,
            tr(
                "conduct.complaint_alert",
                number=complaint.id,
                user=user_link(user.external_id, user.display_name),
                role=self.role(tr, user, ticket),
                ticket=tr("conduct.alert_ticket", number=ticket.id)
                if ticket
                else tr("conduct.complaint_no_ticket"),
                specialist=(
                    user_link(specialist_id, specialist_name or "—")
                    if specialist_id
                    else escape(specialist_name or "—")
                ),
                text=body,
            ),
        )
        if sent is None:
            return complaint, False
        if ticket is not None:
            lines = transcript(
                rows,
                self.settings.timezone,
                {"in": tr("conduct.transcript_user"), "out": tr("conduct.transcript_staff")},
                tr("conduct.transcript_attachment"),
                question=(ticket.created_at, user.first_name, ticket.question),
            )
            try:
                await self.desk.gateway.send_long(
                    Destination(chat, None, sent),
                    tr("conduct.transcript_header", number=ticket.id),
                    lines or tr("conduct.transcript_empty"),
                )
            except TelegramAPIError as exc:
                log.error("complaint %s: transcript not sent: %s", complaint.id, exc)
        await self.conduct.complaint_sent(complaint, chat)
        return complaint, True


class UserConductMiddleware(BaseMiddleware):
    """Private chats: restricted users are reminded, violations end the session. Runs before handlers."""

    def __init__(self, conduct: ConductDesk) -> None:
        self.conduct = conduct

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.chat.type != "private":
            return await handler(event, data)
        user = data.get("user")
        if not isinstance(user, User) or data.get("raw_state") in COMPLAINT_STATES:
            # A complaint goes to the director only, in the user's own words.
            return await handler(event, data)
        if command_of(event.text) in FREE_COMMANDS:
            return await handler(event, data)
        current = await self.conduct.conduct.standing(user.id)
        if current.restricted:
            # Not counted as another violation whatever it says: it reaches nobody.
            await self.conduct.remind(user, current)
            return None
        text = event.text or event.caption or ""
        verdict = classify(text)
        if not verdict.violation:
            return await handler(event, data)
        state = data.get("state")
        await self.conduct.user_violation(
            user, state if isinstance(state, FSMContext) else None, text, verdict
        )
        return None


class StaffConductMiddleware(BaseMiddleware):
    """The staff group: a specialist's message to a user that breaks the rules is not delivered."""

    def __init__(self, conduct: ConductDesk) -> None:
        self.conduct = conduct

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or not self.conduct.desk.staff_chat.knows(event.chat.id):
            return await handler(event, data)
        author = event.from_user
        if author is None or author.is_bot or data.get("raw_state") is not None:
            # A specialist inside a dialog (an escalation comment) is not writing to the user.
            return await handler(event, data)
        text = event.text or event.caption or ""
        if (event.text or "").startswith("/") or text.lstrip().startswith(NOTE_MARKER):
            return await handler(event, data)
        verdict = classify(text)
        if not verdict.violation:
            return await handler(event, data)
        found = await self.conduct.desk.find_ticket(event)
        if found is None:
            return await handler(event, data)  # staff talk among themselves is their own business
        user, ticket = found
        await self.conduct.staff_violation(event, user, ticket, verdict, text)
        return None
