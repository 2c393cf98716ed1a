"""Who may do what on the staff side: a pure rule, no I/O.

* **Management** (the director, the deputy directors) may do everything: invite and unlink specialists,
  confirm a link that replaces another, announce seminars and any message to many users, list sign-ups,
  block and unblock users, return a question ended for misconduct to work, change who is on duty,
  read the knowledge base's statistics and the audit trail, read the reports (``/report``, with the load
  per specialist) and export the tickets (``/export``), show or erase what is stored about a person
  who asks by phone or e-mail (``/mydata_of``, ``/forget_of``).
  A person is management when the school profile names them (``[management] members``, by Telegram id
  or username), or when their private chat with the bot is the configured manager chat
  (``MANAGER_CHAT_ID`` set to a person's id): the school chose that person to receive management's
  notices. Being in the manager chat or being an administrator of the staff group is **not** enough:
  the rule looks at the person, never at the chat.
* **Staff** (any member of the staff group) may answer, claim, close, add internal notes, escalate,
  hand a ticket to the vendor, end a session for misconduct, and read a ticket's history and the duty.
* Anyone else may do none of these.

An administrator posting anonymously (Telegram's GroupAnonymousBot) is nobody in particular: may answer
in a ticket's thread (the staff group's chat is the author), never act as management.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from helpdesk.school import Management

# Telegram's placeholder author of an anonymous administrator's message in a group.
ANONYMOUS_ADMIN_ID = 1087968824


class Action(StrEnum):
    # staff
    ANSWER = "answer"
    CLAIM = "claim"
    CLOSE = "close"
    NOTE = "note"
    ESCALATE = "escalate"
    VENDOR = "vendor"
    CONDUCT_END = "conduct_end"
    TICKET_HISTORY = "ticket_history"
    VIEW_DUTY = "view_duty"
    # management
    INVITE = "invite"
    UNLINK = "unlink"
    CONFIRM_LINK = "confirm_link"
    ANNOUNCE = "announce"
    SIGNUPS = "signups"
    UNBLOCK = "unblock"  # also «Снять ограничение» under a violation alert
    BLOCK = "block"  # «Заблокировать» under a violation alert
    REOPEN_ENDED = "reopen_ended"  # «Вернуть вопрос в работу»: a question the conduct policy ended
    CHANGE_DUTY = "change_duty"
    KB_STATS = "kb_stats"
    AUDIT = "audit"
    REPORT = "report"
    EXPORT = "export"
    PERSONAL_DATA = "personal_data"  # what is stored about a person, and erasing it, on their request


MANAGEMENT_ACTIONS = frozenset(
    {
        Action.INVITE,
        Action.UNLINK,
        Action.CONFIRM_LINK,
        Action.ANNOUNCE,
        Action.SIGNUPS,
        Action.UNBLOCK,
        Action.BLOCK,
        Action.REOPEN_ENDED,
        Action.CHANGE_DUTY,
        Action.KB_STATS,
        Action.AUDIT,
        Action.REPORT,
        Action.EXPORT,
        Action.PERSONAL_DATA,
    }
)


class Verdict(StrEnum):
    ALLOWED = "allowed"
    NOT_MANAGEMENT = "not_management"  # a management action by someone who is not management
    NOT_STAFF = "not_staff"  # a staff action by someone outside the staff group


@dataclass(frozen=True)
class Person:
    """Who acts, as the channel knows them: an id, a username, and whether they are a member of the
    staff group (only asked for staff actions: it costs a call to the channel)."""

    user_id: int | None
    username: str | None = None
    staff_member: bool = False


def is_management(person: Person, management: Management, manager_chat_id: int | None) -> bool:
    if person.user_id is None or person.user_id == ANONYMOUS_ADMIN_ID:
        return False
    # A positive chat id is a person's private chat: that person is the manager chat.
    if manager_chat_id is not None and manager_chat_id > 0 and person.user_id == manager_chat_id:
        return True
    return management.names(person.user_id, person.username)


def decide(person: Person, action: Action, management: Management, manager_chat_id: int | None) -> Verdict:
    """May ``person`` do ``action``?"""
    if is_management(person, management, manager_chat_id):
        return Verdict.ALLOWED
    if action in MANAGEMENT_ACTIONS:
        return Verdict.NOT_MANAGEMENT
    return Verdict.ALLOWED if person.staff_member else Verdict.NOT_STAFF
