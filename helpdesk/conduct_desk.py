"""The conduct policy at work: what follows a violation, lifting a block, complaints.

The regulation: communication must be polite; insults and obscene language are not allowed. A user who
breaks it loses the current session (:meth:`ConductDesk.user_violation`, or a specialist's button:
:meth:`ConductDesk.manual_end`): the question stays visible to staff, marked, and the deputy director gets an
alert linked to its card, with buttons to lift the pause, block, or return the question to work
(:meth:`ConductDesk.decide`). During the pause the user's messages reach nobody but get a short reply
(:meth:`ConductDesk.remind`) and ``/help`` says so (:meth:`ConductDesk.pause_note`). A specialist's message
that breaks it is not delivered and the director is told (:meth:`ConductDesk.staff_violation`); a user may
complain to the director (:meth:`ConductDesk.complain`). The rules are pure (:mod:`helpdesk.conduct`); this
module applies them and says it through the ports. No aiogram: the Telegram checks are
:mod:`bot.middlewares.conduct`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from helpdesk.clock import Clock
from helpdesk.conduct import MANUAL, ConductService, Standing, UnblockTarget, same_local_day, transcript
from helpdesk.formatting import escape, shorten, user_link
from helpdesk.ports import Button, DeliveryError, Destination, Inbound, StaffSide, UserSide
from helpdesk.privacy import staff_label
from helpdesk.rules.profanity import Category, Verdict, classify
from helpdesk.rules.schedule import on_duty, specialist_label
from helpdesk.school import SchoolProfile
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from helpdesk.tickets import Tickets
from storage.conduct import Actor, Complaint
from storage.tickets import Ticket
from storage.users import TELEGRAM, User

log = logging.getLogger(__name__)

EVIDENCE_LIMIT = 1500

# The deputy director's buttons under a violation alert. The core builds them (as the seminars' sign-up
# buttons): the prefix and the actions are its own; ``bot.callbacks.ConductAlertCb`` reads them back.
ALERT_PREFIX = "ca"


class AlertAction(StrEnum):
    LIFT = "lift"  # «Снять ограничение»: the pause or the block ends now
    BLOCK = "block"  # «Заблокировать»: no questions until the management lifts it
    REOPEN = "reopen"  # «Вернуть вопрос в работу»: the question goes back to staff, the restriction ends


def alert_buttons(tr: Tr, user_id: int, ticket_id: int | None) -> list[Button]:
    """The alert's buttons; «Вернуть вопрос в работу» only when there is a question (ticket 0: none)."""
    ticket = ticket_id or 0
    actions = [AlertAction.LIFT, AlertAction.BLOCK] + ([AlertAction.REOPEN] if ticket_id else [])
    return [Button(tr(f"conduct.btn_{a.value}"), f"{ALERT_PREFIX}:{a.value}:{user_id}:{ticket}") for a in actions]


@dataclass(frozen=True)
class ConductChats:
    """Where the conduct policy's alerts go (chat ids; None: not configured)."""

    manager: int | None
    director: int | None
    timezone: tzinfo
    block_window_days: int


class EndOutcome(StrEnum):
    ENDED = "ended"
    CLOSED = "closed"  # the ticket was closed already: nothing to end
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Ended:
    outcome: EndOutcome
    ticket: Ticket | None = None
    user: User | None = None


class Decision(StrEnum):
    DONE = "done"
    NOTHING = "nothing"  # a stale button: nothing to lift, blocked already, back in work already
    NOT_FOUND = "not_found"  # a forged button, or the user or question is gone


@dataclass(frozen=True)
class Decided:
    """What the management's press on an alert led to."""

    decision: Decision
    action: AlertAction
    user: User | None = None
    ticket: Ticket | None = None


class ConductDesk:
    def __init__(
        self,
        *,
        chats: ConductChats,
        store: Store,
        record: ConductService,
        tickets: Tickets,
        staff: StaffSide,
        users: UserSide,
        texts: Texts,
        school: SchoolProfile,
        clock: Clock,
    ) -> None:
        self.chats = chats
        self.store = store
        self.record = record
        self.tickets = tickets
        self.staff = staff
        self.users = users
        self.texts = texts
        self.school = school
        self.clock = clock

    # ---- where alerts go ----------------------------------------------------------------------------

    @property
    def staff_tr(self) -> Tr:
        return self.texts.staff

    def user_tr(self, user: User) -> Tr:
        return self.texts.of(user)

    @property
    def manager_chat(self) -> int:
        """The deputy director: the manager chat, else the staff group."""
        return self.chats.manager or self.staff.chat_id

    @property
    def director_chat(self) -> int:
        """The director: their chat, else the manager chat, else the staff group."""
        return self.chats.director or self.manager_chat

    @property
    def complaint_chat(self) -> int | None:
        # Never the staff group: staff must not see who complained.
        return self.chats.director or self.chats.manager

    async def standing(self, user: User) -> Standing:
        return await self.record.standing(user.id)

    async def _send(self, chat_id: int, html_text: str, buttons: Sequence[Button] = ()) -> int | None:
        try:
            return await self.staff.say(Destination(chat_id), html_text, buttons)
        except DeliveryError as exc:
            log.error("conduct alert to chat %s not delivered: %s", chat_id, exc)
            return None

    async def _to_user(self, user: User, html_text: str) -> None:
        try:
            await self.users.tell(user, html_text)
        except DeliveryError as exc:
            log.info("user %s: conduct notice not delivered: %s", user.id, exc)

    # ---- wording --------------------------------------------------------------------------------------

    def when(self, tr: Tr, moment: datetime) -> str:
        # Shown rounded up to the minute, so that "after 15:01" is never a minute too early.
        if moment.second or moment.microsecond:
            moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        local = moment.astimezone(self.chats.timezone)
        hm = local.strftime("%H:%M")
        if same_local_day(moment, self.clock(), self.chats.timezone):
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

    def ticket_ref(self, tr: Tr, ticket: Ticket) -> str:
        """«№12», linked to the question's card in the staff group when the group has message links."""
        url = self.staff.card_url(ticket)
        number = tr("conduct.alert_ticket", number=ticket.id)
        return tr("conduct.alert_ticket_link", number=number, url=escape(url, quote=True)) if url else number

    def evidence(self, text: str) -> str:
        """The offending text for management's alert: only as much as needed (the profile's
        ``alert_excerpt``), and the template puts it behind a spoiler."""
        limit = min(EVIDENCE_LIMIT, self.school.privacy.alert_excerpt)
        return (
            escape(shorten(text.strip(), limit))
            if text.strip() and limit > 0
            else self.staff_tr("conduct.no_text")
        )

    # ---- a user's violation ---------------------------------------------------------------------------

    async def user_violation(self, user: User, text: str, verdict: Verdict) -> None:
        """The filter found a violation in what the user wrote: nothing of it is stored or forwarded; the
        session ends (the open ticket is closed), the user and the deputy director are told."""
        assert verdict.category is not None
        ticket = await self.store.tickets.open_for_user(user.id)
        await self._end_session(
            user,
            ticket,
            actor=Actor.FILTER,
            category=verdict.category.value,
            matches=verdict.matches,
            text=text,
        )

    async def manual_end(
        self,
        ticket_id: int,
        *,
        staff_id: int,
        staff_name: str,
        ack: Callable[[Ended], Awaitable[None]] | None = None,
    ) -> Ended:
        """A specialist ends the ticket for misconduct the filter missed; the user's last words are the
        evidence. ``ack`` hears the outcome before its effects (the specialist's button is answered)."""
        ticket = await self.store.tickets.get(ticket_id)
        user = await self.store.users.get(ticket.user_id) if ticket is not None else None
        if ticket is None or user is None:
            ended = Ended(EndOutcome.NOT_FOUND)
        elif not ticket.is_open:
            ended = Ended(EndOutcome.CLOSED, ticket, user)
        else:
            ended = Ended(EndOutcome.ENDED, ticket, user)
        if ack is not None:
            await ack(ended)
        if ended.outcome is not EndOutcome.ENDED or ticket is None or user is None:
            return ended
        rows = await self.store.messages.for_ticket(ticket.id)
        said = [r.text for r in rows if r.direction == "in" and r.text]
        await self._end_session(
            user,
            ticket,
            actor=Actor.SPECIALIST,
            category=MANUAL,
            text=said[-1] if said else ticket.question,
            actor_id=staff_id,
            actor_name=staff_name,
        )
        return ended

    async def _end_session(
        self,
        user: User,
        ticket: Ticket | None,
        *,
        actor: Actor,
        category: str,
        text: str,
        matches: tuple[str, ...] = (),
        actor_id: int | None = None,
        actor_name: str | None = None,
    ) -> None:
        closed: Ticket | None = None
        if ticket is not None:
            changed, closed = await self.store.close(
                ticket.id,
                closed_by=self.staff_tr("conduct.closed_by"),
                actor_id=actor_id,
                actor_name=actor_name or self.staff_tr("conduct.closed_by"),
                action="conduct_end" if actor is Actor.SPECIALIST else "conduct_filter",
                conduct=True,
            )
            if not changed:
                closed = None
        outcome = await self.record.record_violation(
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
            await self.staff.refresh_card(closed)
            await self.users.ticket_closed(user, closed)  # the user's «Вопрос решён, закрыть» goes too
            key = "conduct.staff_ended_manual" if actor is Actor.SPECIALIST else "conduct.staff_ended_filter"
            try:
                await self.staff.say(
                    self.staff.thread_of(closed),
                    self.staff_tr(key, number=closed.id, name=escape(actor_name or "—")),
                )
            except DeliveryError as exc:
                log.error("ticket %s: staff not told of the session end: %s", closed.id, exc)
        # The user: which rule, what now, where else to get help.
        utr = self.user_tr(user)
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
                ticket=self.ticket_ref(tr, closed or ticket) if ticket else tr("conduct.alert_no_ticket"),
                user=staff_label(user, self.school.privacy),
                role=self.role(tr, user, ticket),
                what=self.what(tr, category, actor_name),
                text=self.evidence(text),
                duty=self.duty(tr, ticket),
                days=self.chats.block_window_days,
                count=current.recent,
                outcome=result,
            ),
            alert_buttons(tr, user.id, ticket.id if ticket else None),
        )

    async def remind(self, user: User, current: Standing) -> None:
        """A restricted user wrote: what they wrote reaches nobody, and they get one short reply saying so,
        until when, and how to reach the school now (:func:`helpdesk.conduct.reply_due`: always the first
        message after the session ended, then at most one reply per ``Policy.remind_every``)."""
        if not await self.record.take_reminder(user.id, current.since):
            return
        await self._to_user(user, self.pause_text(user, current, "conduct.reminder"))

    async def pause_note(self, user: User) -> str | None:
        """For ``/help``: the truth about a pause or a block (the user's messages do not reach the
        specialists until when, and the school's phone and e-mail); None when the user is not restricted."""
        current = await self.standing(user)
        if not current.restricted:
            return None
        return self.pause_text(user, current, "conduct.help")

    def pause_text(self, user: User, current: Standing, prefix: str) -> str:
        """``{prefix}_cooldown`` or ``{prefix}_blocked`` in the user's language, with the time and contacts."""
        utr = self.user_tr(user)
        contacts = {"phone": escape(self.school.phone), "email": escape(self.school.email)}
        if current.blocked:
            return utr(f"{prefix}_blocked", **contacts)
        assert current.cooldown_until is not None
        return utr(f"{prefix}_cooldown", when=self.when(utr, current.cooldown_until), **contacts)

    async def _target(self, target: UnblockTarget) -> User | None:
        if target.ticket_id is not None:
            ticket = await self.store.tickets.get(target.ticket_id)
            return await self.store.users.get(ticket.user_id) if ticket else None
        assert target.telegram_id is not None
        return await self.store.users.by_external(TELEGRAM, target.telegram_id)

    async def unblock(
        self, target: UnblockTarget, *, actor_id: int, actor_name: str
    ) -> tuple[bool, User | None]:
        """The deputy director lifts a block or a pause (a ticket number or a Telegram id names the user);
        the user is told. Returns whether anything was lifted, and the user (None: nobody found)."""
        user = await self._target(target)
        if user is None:
            return False, None
        lifted = await self.record.lift(user.id, actor_id=actor_id, actor_name=actor_name)
        if lifted:
            await self._to_user(user, self.user_tr(user)("conduct.unblocked_user"))
        return lifted, user

    # ---- the management's buttons under an alert -----------------------------------------------------

    async def decide(
        self,
        action: AlertAction,
        user_id: int,
        ticket_id: int | None,
        *,
        actor_id: int,
        actor_name: str,
        ack: Callable[[Decided], Awaitable[None]] | None = None,
    ) -> Decided:
        """The management pressed a button under a violation alert (who may press is the adapter's check,
        by :mod:`helpdesk.rules.roles`). Each action is recorded in the audit trail in its transaction;
        the user is told; a question returned to work is marked so on its card and in its thread.

        The button's ids are checked, not trusted: an unknown user, or a question that is not that user's,
        is NOT_FOUND; a press that finds nothing to do (lifted already, blocked already, back in work) is
        NOTHING. ``ack`` hears the outcome before the messages go out (the press is answered)."""
        user = await self.store.users.get(user_id)
        ticket = await self.store.tickets.get(ticket_id) if ticket_id else None
        if user is None or (ticket_id and (ticket is None or ticket.user_id != user_id)):
            decided = Decided(Decision.NOT_FOUND, action)
            if ack is not None:
                await ack(decided)
            return decided
        assert user is not None
        if action is AlertAction.LIFT:
            done = await self.record.lift(user.id, actor_id=actor_id, actor_name=actor_name, ticket_id=ticket_id)
        elif action is AlertAction.BLOCK:
            done = await self.record.block(user.id, actor_id=actor_id, actor_name=actor_name, ticket_id=ticket_id)
        elif ticket is None:
            done = False  # «Вернуть вопрос в работу» without a question: a forged button
        else:
            reopened = await self.record.reopen(ticket.id, user.id, actor_id=actor_id, actor_name=actor_name)
            done = reopened is not None
            ticket = reopened or ticket
        decided = Decided(Decision.DONE if done else Decision.NOTHING, action, user, ticket)
        if ack is not None:
            await ack(decided)
        if not done:
            return decided
        utr = self.user_tr(user)
        if action is AlertAction.LIFT:
            await self._to_user(user, utr("conduct.unblocked_user"))
        elif action is AlertAction.BLOCK:
            await self._to_user(
                user,
                utr("conduct.blocked_user", phone=escape(self.school.phone), email=escape(self.school.email)),
            )
        elif ticket is not None:
            await self.staff.refresh_card(ticket)
            try:
                await self.staff.say(
                    self.staff.thread_of(ticket),
                    self.staff_tr("conduct.staff_reopened", number=ticket.id, name=escape(actor_name or "—")),
                )
            except DeliveryError as exc:
                log.error("ticket %s: staff not told of the reopening: %s", ticket.id, exc)
            await self._to_user(user, utr("conduct.reopened_user", number=ticket.id))
        return decided

    def decided_line(self, decided: Decided, actor_name: str) -> str:
        """The line added to the alert (in the alert's language): who did what, and when (the school's
        time)."""
        at = self.clock().astimezone(self.chats.timezone).strftime("%d.%m %H:%M")
        return self.staff_tr(f"conduct.decided_{decided.action.value}", name=escape(actor_name or "—"), at=at)

    # ---- a specialist's violation -------------------------------------------------------------------

    async def staff_violation(self, inbound: Inbound) -> bool:
        """A specialist's message to a user: withheld (not delivered, not stored as an answer) when it breaks
        the rules; the specialist is told why and the director gets the evidence. True when withheld.
        Staff talk outside tickets and notes are not checked (nor commands: the adapter's call)."""
        text = inbound.text
        if inbound.is_note:
            return False
        verdict = classify(text)
        if not verdict.violation:
            return False
        found = await self.tickets.find(inbound)
        if found is None:
            return False  # staff talk among themselves is their own business
        user, ticket = found
        assert verdict.category is not None
        await self.record.record_staff_violation(
            user_id=user.id,
            ticket_id=ticket.id,
            staff_id=inbound.author_id,
            staff_name=inbound.author_name,
            category=verdict.category.value,
            matches=verdict.matches,
            text=text,
        )
        tr = self.staff_tr
        what = self.what(tr, verdict.category.value)
        reply_here = self.staff.reply_place(inbound, ticket)
        try:
            await self.staff.say(reply_here, tr("conduct.staff_withheld", what=what))
        except DeliveryError as exc:
            log.error("specialist not told that the message was withheld: %s", exc)
        await self._send(
            self.director_chat,
            tr(
                "conduct.alert_staff",
                number=ticket.id,
                specialist=user_link(inbound.author_id, inbound.author_name),
                user=staff_label(user, self.school.privacy),
                role=self.role(tr, user, ticket),
                what=what,
                text=self.evidence(text),
            ),
        )
        return True

    # ---- complaints -----------------------------------------------------------------------------------

    async def complain(self, user: User, ticket_id: int | None, text: str) -> tuple[Complaint, bool]:
        """Store the complaint (about the user's own ticket ``ticket_id``, or none) and send it with the
        ticket's transcript to the director. Returns the complaint and whether someone received it."""
        ticket = await self.store.tickets.get(ticket_id) if ticket_id is not None else None
        if ticket is not None and ticket.user_id != user.id:
            ticket = None
        rows = await self.store.messages.for_ticket(ticket.id) if ticket else []
        answers = [r for r in rows if r.direction == "out"]
        specialist_id = answers[-1].author_id if answers else (ticket.claimed_by_id if ticket else None)
        specialist_name = answers[-1].author_name if answers else (ticket.claimed_by_name if ticket else None)
        complaint = await self.record.add_complaint(
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
                user=staff_label(user, self.school.privacy),
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
                self.chats.timezone,
                {"in": tr("conduct.transcript_user"), "out": tr("conduct.transcript_staff")},
                tr("conduct.transcript_attachment"),
                question=(ticket.created_at, user.first_name, ticket.question),
            )
            try:
                await self.staff.say_long(
                    Destination(chat, None, sent),
                    tr("conduct.transcript_header", number=ticket.id),
                    lines or tr("conduct.transcript_empty"),
                )
            except DeliveryError as exc:
                log.error("complaint %s: transcript not sent: %s", complaint.id, exc)
        await self.record.complaint_sent(complaint, chat)
        return complaint, True
