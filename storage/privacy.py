"""Personal data: consents, parent codes, what is stored about a user (for ``/mydata``), erasure and retention.

Erasure keeps the rows that counts are made of (users, tickets, conduct events, complaints) and removes what
identifies or quotes a person: names, usernames, chat ids, texts, file ids; the rows of messages are deleted.
The database runs with ``PRAGMA secure_delete=ON`` (see :mod:`storage.db`), so what is overwritten or deleted
is zeroed in the file, not left in free space.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.db import fetch_all, fetch_one
from storage.users import User, _user

Row = dict[str, object]


@dataclass(frozen=True)
class Traces:
    """Where a user's tickets left messages in the staff group: the forum topic, and the message ids."""

    thread_id: int | None
    messages: tuple[tuple[int, int], ...]  # (chat id, message id)
    tickets: dict[tuple[int, int], int]  # (chat id, message id) -> the ticket it belongs to


@dataclass(frozen=True)
class Export:
    """Everything stored about one user, as rows (plain dicts), for ``/mydata``."""

    user: Row
    consents: list[Row]
    tickets: list[Row]
    messages: list[Row]
    conduct: list[Row]
    complaints: list[Row]
    kb_feedback: list[Row]
    seminars: list[Row]
    ratings: list[Row] = field(default_factory=list)
    examples: list[Row] = field(default_factory=list)


@dataclass
class Erased:
    """What an erasure or a retention pass did, as counts (never texts)."""

    users: int = 0
    tickets: int = 0
    messages: int = 0
    conduct: int = 0
    complaints: int = 0
    service: int = 0
    user_ids: list[int] = field(default_factory=list)

    def add(self, other: Erased) -> None:
        self.users += other.users
        self.tickets += other.tickets
        self.messages += other.messages
        self.conduct += other.conduct
        self.complaints += other.complaints
        self.service += other.service
        self.user_ids += other.user_ids


def _rows(rows: Iterable[aiosqlite.Row]) -> list[Row]:
    return [dict(r) for r in rows]


class PrivacyRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # ---- consent ------------------------------------------------------------------------------------

    async def remember_notice(self, version: str, text: str, now: datetime) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO notice_versions (version, text, created_at) VALUES (?, ?, ?)",
            (version, text, now.isoformat()),
        )

    async def decide(
        self, user_id: int, version: str, decision: str, now: datetime, *, by_user_id: int | None = None
    ) -> None:
        """Record a decision on the notice; ``agree`` makes it the user's current consent, ``decline`` and
        ``withdraw`` clear it."""
        await self.conn.execute(
            "INSERT INTO consents (user_id, version, decision, by_user_id, at) VALUES (?, ?, ?, ?, ?)",
            (user_id, version, decision, by_user_id, now.isoformat()),
        )
        if decision == "agree":
            await self.conn.execute(
                "UPDATE users SET consent_version = ?, consent_at = ? WHERE id = ?",
                (version, now.isoformat(), user_id),
            )
        elif decision in ("decline", "withdraw"):
            await self.conn.execute(
                "UPDATE users SET consent_version = NULL, consent_at = NULL WHERE id = ?", (user_id,)
            )

    async def add_parent_code(self, code: str, student_id: int, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO parent_codes (code, student_id, created_at) VALUES (?, ?, ?)",
            (code, student_id, now.isoformat()),
        )

    async def use_parent_code(self, code: str, parent_id: int, now: datetime, not_before: datetime) -> int | None:
        """Confirm a student with a code given after ``not_before`` and not used yet: the student's user id."""
        row = await fetch_one(
            self.conn,
            "UPDATE parent_codes SET used_by = ?, used_at = ? WHERE code = ? AND used_at IS NULL "
            "AND created_at >= ? AND student_id != ? RETURNING student_id",
            (parent_id, now.isoformat(), code, not_before.isoformat(), parent_id),
        )
        if row is None:
            return None
        student_id = int(row[0])
        await self.conn.execute(
            "UPDATE users SET parent_confirmed_at = ? WHERE id = ?", (now.isoformat(), student_id)
        )
        return student_id

    # ---- what is stored ---------------------------------------------------------------------------------

    async def export(self, user_id: int) -> Export | None:
        user = await fetch_one(self.conn, "SELECT * FROM users WHERE id = ?", (user_id,))
        if user is None:
            return None
        q = self.conn
        return Export(
            user=dict(user),
            consents=_rows(
                await fetch_all(
                    q, "SELECT version, decision, by_user_id, at FROM consents WHERE user_id = ? ORDER BY id",
                    (user_id,),
                )
            ),
            tickets=_rows(
                await fetch_all(
                    q,
                    "SELECT id, role, topic, category, status, question, claimed_by_name, created_at, closed_at, "
                    "erased_at FROM tickets WHERE user_id = ? ORDER BY id",
                    (user_id,),
                )
            ),
            messages=_rows(
                await fetch_all(
                    q,
                    "SELECT m.ticket_id, m.direction, m.kind, m.author_name, m.text, m.file_id, m.created_at "
                    "FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                    "WHERE t.user_id = ? AND m.direction IN ('in', 'out') ORDER BY m.id",
                    (user_id,),
                )
            ),
            conduct=_rows(
                await fetch_all(
                    q,
                    "SELECT at, kind, ticket_id, actor, category, text FROM conduct_events "
                    "WHERE user_id = ? AND kind != 'staff_violation' ORDER BY id",
                    (user_id,),
                )
            ),
            complaints=_rows(
                await fetch_all(
                    q, "SELECT id, at, ticket_id, text FROM complaints WHERE user_id = ? ORDER BY id", (user_id,)
                )
            ),
            kb_feedback=_rows(
                await fetch_all(
                    q, "SELECT article_id, helped, created_at FROM kb_feedback WHERE user_id = ? ORDER BY id",
                    (user_id,),
                )
            ),
            seminars=_rows(
                await fetch_all(
                    q,
                    "SELECT s.title, s.starts_at, g.signed_at FROM seminar_signups g "
                    "JOIN seminars s ON s.id = g.seminar_id WHERE g.user_id = ? ORDER BY s.starts_at",
                    (user_id,),
                )
            ),
            ratings=_rows(
                await fetch_all(
                    q,
                    "SELECT r.ticket_id, r.score, r.comment, r.rated_at FROM ratings r "
                    "JOIN tickets t ON t.id = r.ticket_id WHERE t.user_id = ? AND r.score IS NOT NULL ORDER BY r.id",
                    (user_id,),
                )
            ),
            examples=_rows(
                await fetch_all(
                    q,
                    "SELECT e.ticket_id, e.article_id, e.question FROM kb_examples e "
                    "JOIN tickets t ON t.id = e.ticket_id WHERE t.user_id = ? ORDER BY e.id",
                    (user_id,),
                )
            ),
        )

    async def by_username(self, username: str) -> User | None:
        row = await fetch_one(
            self.conn, "SELECT * FROM users WHERE lower(username) = lower(?) AND erased_at IS NULL", (username,)
        )
        return _user(row) if row else None

    async def open_tickets(self, user_id: int) -> list[int]:
        rows = await fetch_all(
            self.conn, "SELECT id FROM tickets WHERE user_id = ? AND status != 'closed' ORDER BY id", (user_id,)
        )
        return [int(r[0]) for r in rows]

    async def traces(self, user_id: int) -> Traces:
        user = await fetch_one(self.conn, "SELECT staff_thread_id FROM users WHERE id = ?", (user_id,))
        rows = await fetch_all(
            self.conn,
            "SELECT staff_chat_id, card_message_id, id FROM tickets WHERE user_id = ? AND card_message_id IS NOT NULL "
            "UNION SELECT m.staff_chat_id, m.staff_message_id, m.ticket_id FROM messages m "
            "JOIN tickets t ON t.id = m.ticket_id WHERE t.user_id = ? AND m.staff_message_id IS NOT NULL",
            (user_id, user_id),
        )
        tickets = {(int(r[0]), int(r[1])): int(r[2]) for r in rows if r[0] is not None and r[1] is not None}
        return Traces(user["staff_thread_id"] if user else None, tuple(sorted(tickets)), tickets)

    # ---- erasure ------------------------------------------------------------------------------------

    async def _texts_of(self, user_id: int) -> list[str]:
        rows = await fetch_all(
            self.conn,
            "SELECT question FROM tickets WHERE user_id = ? UNION "
            "SELECT m.text FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.user_id = ? UNION "
            "SELECT text FROM conduct_events WHERE user_id = ? UNION SELECT text FROM complaints WHERE user_id = ? "
            "UNION SELECT r.comment FROM ratings r JOIN tickets t ON t.id = r.ticket_id WHERE t.user_id = ?",
            (user_id, user_id, user_id, user_id, user_id),
        )
        return [str(r[0]) for r in rows if r[0] and len(str(r[0]).strip()) >= 6]

    async def erase_user(self, user_id: int, now: datetime) -> Erased:
        """Erase a user's personal data inside the caller's transaction (open tickets must be closed first).

        Kept, anonymous: the user row (no name, username, chat or Telegram id), the tickets (role, topic,
        category, times: the counts), the consent decisions (version, time), conduct events and complaints
        (time, kind, category). Deleted: the messages of their tickets, drafts, sign-ups, the notices queued
        for them, the updates received from them."""
        user = await fetch_one(self.conn, "SELECT * FROM users WHERE id = ?", (user_id,))
        if user is None:
            return Erased()
        external_id, chat_id = str(user["external_id"]), int(user["chat_id"])
        texts = await self._texts_of(user_id)
        staff_ids = await fetch_all(
            self.conn,
            "SELECT m.staff_chat_id, m.staff_message_id FROM messages m JOIN tickets t ON t.id = m.ticket_id "
            "WHERE t.user_id = ? AND m.staff_message_id IS NOT NULL "
            "UNION SELECT staff_chat_id, card_message_id FROM tickets WHERE user_id = ? AND card_message_id IS NOT NULL",
            (user_id, user_id),
        )
        done = Erased(users=1, user_ids=[user_id])
        theirs = "SELECT id FROM tickets WHERE user_id = ?"
        # A rating stays as an anonymous count (role, topic, category, score); its comment is their words.
        await self.conn.execute(f"UPDATE ratings SET ticket_id = NULL, comment = NULL WHERE ticket_id IN ({theirs})", (user_id,))
        # An example question learned from their ticket is their words too.
        await self.conn.execute(f"DELETE FROM kb_examples WHERE ticket_id IN ({theirs})", (user_id,))
        await self.conn.execute("UPDATE kb_events SET user_id = NULL WHERE user_id = ?", (user_id,))
        cur = await self.conn.execute(
            "DELETE FROM messages WHERE ticket_id IN (SELECT id FROM tickets WHERE user_id = ?)", (user_id,)
        )
        done.messages = cur.rowcount
        cur = await self.conn.execute(
            "UPDATE tickets SET question = '', vendor_ref = NULL, origin = NULL, erased_at = ? WHERE user_id = ?",
            (now.isoformat(), user_id),
        )
        done.tickets = cur.rowcount
        # A specialist's comment on an escalation may quote the user.
        await self.conn.execute(
            "UPDATE audit SET detail = '' WHERE action = 'escalate' "
            "AND ticket_id IN (SELECT id FROM tickets WHERE user_id = ?)",
            (user_id,),
        )
        cur = await self.conn.execute(
            "UPDATE conduct_events SET text = '', matches = '' WHERE user_id = ?", (user_id,)
        )
        done.conduct = cur.rowcount
        cur = await self.conn.execute("UPDATE complaints SET text = '' WHERE user_id = ?", (user_id,))
        done.complaints = cur.rowcount
        await self.conn.execute("DELETE FROM seminar_notices WHERE user_id = ?", (user_id,))
        await self.conn.execute("DELETE FROM seminar_signups WHERE user_id = ?", (user_id,))
        await self.conn.execute("DELETE FROM conduct_notices WHERE user_id = ?", (user_id,))
        await self.conn.execute(
            "DELETE FROM parent_codes WHERE student_id = ? OR used_by = ?", (user_id, user_id)
        )
        await self.conn.execute(
            "DELETE FROM fsm WHERE key LIKE ? OR key LIKE ?",
            (f"%:{chat_id}:{external_id}", f"%:{chat_id}:{external_id}:%"),
        )
        # What the bot received from them (kept a couple of days to survive a crash) and what it queued for
        # them or about them. Updates not marked handled yet go too: the mark is written a moment after the
        # handler (in a batch), and the one being handled now (this very request) holds no text.
        ext = int(external_id) if external_id.lstrip("-").isdigit() else None
        if ext is not None:
            await self.conn.execute(
                "DELETE FROM inbox WHERE ("
                "json_extract(payload, '$.message.from.id') = ?1 "
                "OR json_extract(payload, '$.edited_message.from.id') = ?1 "
                "OR json_extract(payload, '$.callback_query.from.id') = ?1)",
                (ext,),
            )
        for staff_chat, staff_message in staff_ids:
            # A message in the staff group that carries their words: posted, edited, or a button pressed on it
            # (the update of a press holds the whole card).
            for part in ("message", "edited_message", "callback_query.message"):
                await self.conn.execute(
                    f"DELETE FROM inbox WHERE json_extract(payload, '$.{part}.chat.id') = ? "
                    f"AND json_extract(payload, '$.{part}.message_id') = ?",
                    (staff_chat, staff_message),
                )
        await self.conn.execute("DELETE FROM outbox WHERE chat_id = ? AND status != 'pending'", (chat_id,))
        await self.conn.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND instr(text, ?) > 0", (f"tg://user?id={external_id}",)
        )
        for text in texts:
            for needle in {text, _html(text)}:
                await self.conn.execute(
                    "DELETE FROM outbox WHERE status != 'pending' AND instr(text, ?) > 0", (needle,)
                )
        await self.conn.execute(
            "UPDATE users SET external_id = 'erased:' || id, chat_id = 0, first_name = '', last_name = NULL, "
            "username = NULL, client_language = NULL, locale = NULL, staff_thread_id = NULL, "
            "consent_version = NULL, consent_at = NULL, parent_confirmed_at = NULL, erased_at = ?, "
            "updated_at = ? WHERE id = ?",
            (now.isoformat(), now.isoformat(), user_id),
        )
        return done

    # ---- retention ----------------------------------------------------------------------------------

    async def expire_ticket_texts(self, cutoff: datetime, now: datetime) -> Erased:
        """Texts, names and file ids of the tickets closed before ``cutoff``: deleted; the tickets stay."""
        done = Erased()
        due = "SELECT id FROM tickets WHERE status = 'closed' AND closed_at < ? AND erased_at IS NULL"
        cur = await self.conn.execute(f"DELETE FROM messages WHERE ticket_id IN ({due})", (cutoff.isoformat(),))
        done.messages = cur.rowcount
        # Ratings stay as anonymous counts for the reports; their comments go with the ticket's texts, and so
        # do the example questions learned from the ticket: they are a user's words (a good one is kept for
        # good by writing it into the article's ``examples:``, knowledge/README.md).
        await self.conn.execute(
            f"UPDATE ratings SET ticket_id = NULL, comment = NULL WHERE ticket_id IN ({due})", (cutoff.isoformat(),)
        )
        await self.conn.execute(f"DELETE FROM kb_examples WHERE ticket_id IN ({due})", (cutoff.isoformat(),))
        await self.conn.execute(
            f"UPDATE audit SET detail = '' WHERE action = 'escalate' AND ticket_id IN ({due})", (cutoff.isoformat(),)
        )
        cur = await self.conn.execute(
            "UPDATE tickets SET question = '', vendor_ref = NULL, erased_at = ? "
            "WHERE status = 'closed' AND closed_at < ? AND erased_at IS NULL",
            (now.isoformat(), cutoff.isoformat()),
        )
        done.tickets = cur.rowcount
        return done

    async def inactive_users(self, cutoff: datetime) -> list[int]:
        """Users not erased, with no open ticket, whose last sign of life is older than ``cutoff``."""
        rows = await fetch_all(
            self.conn,
            """
            SELECT u.id FROM users u
            WHERE u.erased_at IS NULL AND u.created_at < ?1 AND u.updated_at < ?1
              AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.user_id = u.id
                              AND (t.status != 'closed' OR t.created_at >= ?1 OR t.closed_at >= ?1))
              AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.user_id = u.id AND c.at >= ?1)
            ORDER BY u.id
            """,
            (cutoff.isoformat(),),
        )
        return [int(r[0]) for r in rows]

    async def expire_conduct(self, cutoff: datetime) -> Erased:
        done = Erased()
        cur = await self.conn.execute(
            "UPDATE conduct_events SET text = '', matches = '' WHERE at < ? AND (text != '' OR matches != '')",
            (cutoff.isoformat(),),
        )
        done.conduct = cur.rowcount
        cur = await self.conn.execute(
            "UPDATE complaints SET text = '' WHERE at < ? AND text != ''", (cutoff.isoformat(),)
        )
        done.complaints = cur.rowcount
        return done

    async def expire_service(self, cutoff: datetime) -> Erased:
        done = Erased()
        cur = await self.conn.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (cutoff.isoformat(),)
        )
        done.service = cur.rowcount
        cur = await self.conn.execute("DELETE FROM fsm WHERE updated_at < ?", (cutoff.isoformat(),))
        done.service += cur.rowcount
        return done

    async def ticket_count(self) -> int:
        row = await fetch_one(self.conn, "SELECT count(*) FROM tickets")
        return int(row[0]) if row else 0


def _html(text: str) -> str:
    # The outbox holds HTML: the user's text as it was escaped into it (same rules as helpdesk.formatting).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
