"""Telling users about seminars: the announcement, and reminders the day before and an hour before.

Every notice is recorded per (seminar, user, kind) before the next one is sent, so a restart or a
failure in the middle of a broadcast neither repeats nor loses anyone: the scheduler's next tick
(:meth:`SeminarNotifier.check`) goes on where it stopped. The announcement also reaches those who
start using the bot (or take a matching role) after it was made, until the seminar begins.

Sending goes through the bot's session (the delivery middleware waits out 429s); a short pause between
messages keeps a broadcast under about 20 messages a second.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, tzinfo

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup

from bot import keyboards
from bot.delivery import Gateway
from helpdesk.domain import Role
from helpdesk.formatting import escape
from helpdesk.ports import Destination
from helpdesk.rules.seminars import NoticeKind, due_reminder, format_when
from helpdesk.texts import Texts, Tr
from storage.db import Database
from storage.seminars import Seminar, SeminarRepo
from storage.users import User

log = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 20.0


def roles_text(tr: Tr, roles: tuple[Role, ...]) -> str:
    if set(roles) == set(Role):
        return tr("seminar.roles_all")
    return ", ".join(tr(f"role.{r.value}") for r in roles)


def seminar_card(tr: Tr, seminar: Seminar, tz: tzinfo) -> str:
    """The seminar as Telegram HTML, in ``tr``'s language."""
    return tr(
        "seminar.card",
        title=escape(seminar.title),
        when=format_when(seminar.starts_at, tz, tr),
        place=escape(seminar.place),
        roles=roles_text(tr, seminar.roles),
    )


class SeminarNotifier:
    def __init__(
        self,
        *,
        db: Database,
        gateway: Gateway,
        texts: Texts,
        tz: tzinfo,
        messages_per_second: float = MESSAGES_PER_SECOND,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.texts = texts
        self.tz = tz
        self.repo = SeminarRepo(db.conn)
        self.pause = 1.0 / messages_per_second
        # The announcing handler and the scheduler's tick must not send the same notice twice.
        self._lock = asyncio.Lock()

    def user_tr(self, user: User) -> Tr:
        return self.texts(user.effective_locale(self.texts.default_locale))

    async def announce(self, seminar: Seminar, now: datetime) -> int:
        """Tell every user of the seminar's roles who has not been told yet. Returns how many got it."""
        async with self._lock:
            return await self._announce(seminar, now)

    async def check(self, now: datetime) -> None:
        """The scheduler's check: unfinished announcements, then the reminders that are due."""
        async with self._lock:
            for seminar in await self.repo.upcoming(now):
                await self._announce(seminar, now)
                await self._remind(seminar, now)

    async def _announce(self, seminar: Seminar, now: datetime) -> int:
        if not seminar.upcoming(now):
            return 0
        sent = 0
        while True:
            batch = await self.repo.announce_recipients(seminar, limit=200)
            if not batch:
                return sent
            for user in batch:
                tr = self.user_tr(user)
                text = tr("seminar.invite", card=seminar_card(tr, seminar, self.tz))
                outcome = await self._send(user, text, keyboards.seminar(tr, seminar.id, signed_up=False))
                if outcome is None:
                    return sent  # Telegram is unwell: the next tick goes on from here
                await self._record(seminar, user, NoticeKind.ANNOUNCE, now, outcome)
                sent += outcome

    async def _remind(self, seminar: Seminar, now: datetime) -> None:
        for kind in (NoticeKind.DAY, NoticeKind.HOUR):
            for signup in await self.repo.signups_without(seminar.id, kind.value):
                if due_reminder(seminar.starts_at, signup.signed_at, now) is not kind:
                    continue
                tr = self.user_tr(signup.user)
                key = "seminar.remind_day" if kind is NoticeKind.DAY else "seminar.remind_hour"
                text = tr(key, card=seminar_card(tr, seminar, self.tz))
                outcome = await self._send(
                    signup.user, text, keyboards.seminar(tr, seminar.id, signed_up=True)
                )
                if outcome is None:
                    return
                await self._record(seminar, signup.user, kind, now, outcome)

    async def _record(self, seminar: Seminar, user: User, kind: NoticeKind, now: datetime, ok: bool) -> None:
        async with self.db.transaction() as conn:
            await SeminarRepo(conn).record_notice(seminar.id, user.id, kind.value, now, ok)

    async def _send(self, user: User, text: str, markup: InlineKeyboardMarkup) -> bool | None:
        """True if delivered, False if Telegram refused for this user (blocked, chat gone), None if the
        failure is not about this user (try again later)."""
        try:
            await self.gateway.send(Destination(user.chat_id), text, markup=markup)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("seminar notice to user %s not delivered: %s", user.id, exc.message)
            return False
        except TelegramAPIError as exc:
            log.warning("seminar notices paused: %s", exc)
            return None
        await asyncio.sleep(self.pause)
        return True
