"""Callback data factories: short prefixes, typed fields, ids rather than text (64-byte limit)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from helpdesk.conduct_desk import ALERT_PREFIX, AlertAction
from helpdesk.domain import Category, Role, Topic
from helpdesk.seminars import SEMINAR_PREFIX, SeminarAction


class RoleCb(CallbackData, prefix="r"):
    role: Role


class TopicCb(CallbackData, prefix="t"):
    topic: Topic


class CategoryCb(CallbackData, prefix="c"):
    category: Category


class DraftAction(StrEnum):
    SEND = "send"
    CHANGE = "chg"
    CANCEL = "cxl"


class DraftCb(CallbackData, prefix="d"):
    action: DraftAction


class UserTicketCb(CallbackData, prefix="u"):
    """A user's own action on their ticket (close)."""

    ticket: int


class StaffAction(StrEnum):
    CLAIM = "cl"
    CLOSE = "x"
    ESCALATE = "es"  # to the deputy director, with a comment
    VENDOR = "v"  # handed over to the e-journal vendor's support
    ARTICLE = "a"  # answer with a reference article: articles matching the ticket's question


class StaffCb(CallbackData, prefix="s"):
    action: StaffAction
    ticket: int


class CloseAction(StrEnum):
    YES = "y"
    NO = "n"


class CloseCb(CallbackData, prefix="xc"):
    """A specialist's answer to "the user's last message has no answer: close anyway?". ``upto`` is the id
    of that message: a newer one from the user asks again."""

    action: CloseAction
    ticket: int
    upto: int


class LangCb(CallbackData, prefix="l"):
    locale: str


class KbAction(StrEnum):
    OPEN = "o"
    HELPED = "y"  # "помогло"
    ASK = "n"  # "нет, задать вопрос"


class KbCb(CallbackData, prefix="kb"):
    """A reference article offered in the question dialog (``article`` is its id, at most 40 chars), or sent
    by a specialist in ``ticket`` (0: not in a ticket)."""

    action: KbAction
    article: str
    ticket: int = 0


class StaffArticleCb(CallbackData, prefix="ka"):
    """A specialist picks the article to send to the ticket's user."""

    ticket: int
    article: str


class FaqAction(StrEnum):
    HOME = "h"
    TOPIC = "t"
    ARTICLE = "a"
    SEARCH = "s"


class FaqCb(CallbackData, prefix="fq"):
    """Browsing /faq. ``topic`` is the list to go back to (None: the search results or the start), ``page``
    its page (at most ``fq:a:ed:<40-character id>:99``, 51 bytes)."""

    action: FaqAction
    topic: Topic | None = None
    article: str = ""
    page: int = 0


class SeminarCb(CallbackData, prefix=SEMINAR_PREFIX):
    """A user's sign-up or cancellation. The core builds these buttons (``helpdesk.seminars.signup_button``):
    the prefix and the actions are its own."""

    action: SeminarAction
    seminar: int


class SeminarAdminAction(StrEnum):
    PUBLISH = "pub"
    DISCARD = "del"
    LIST = "ls"


class SeminarAdminCb(CallbackData, prefix="sa"):
    """The deputy director's buttons on an announcement in the staff group or the manager chat."""

    action: SeminarAdminAction
    seminar: int


class ConductEndAction(StrEnum):
    ASK = "ask"  # the card button: asks for confirmation
    YES = "yes"
    NO = "no"


class ConductEndCb(CallbackData, prefix="ce"):
    """A specialist ends a ticket for misconduct the filter missed."""

    action: ConductEndAction
    ticket: int


class ComplaintCb(CallbackData, prefix="cmp"):
    """A user's complaint about a specialist's answer in this ticket."""

    ticket: int


class ConsentAction(StrEnum):
    AGREE = "y"
    DECLINE = "n"


class ConsentCb(CallbackData, prefix="pd"):
    """The user's decision on the personal-data notice."""

    action: ConsentAction


class ForgetAction(StrEnum):
    YES = "y"
    NO = "n"


class ForgetCb(CallbackData, prefix="pf"):
    """Confirming an erasure: the user's own (``user`` 0) or, by management, a person's (their user id)."""

    action: ForgetAction
    user: int = 0


class ConductAlertCb(CallbackData, prefix=ALERT_PREFIX):
    """The management's decision under a violation alert. The core builds these buttons
    (``helpdesk.conduct_desk.alert_buttons``): the prefix and the actions are its own. ``user`` is the
    user's id in the store, ``ticket`` the question's number (0: none)."""

    action: AlertAction
    user: int
    ticket: int


class RateCb(CallbackData, prefix="rt"):
    """A user's satisfaction rating of a closed ticket (``score`` 1-5; 0: no comment after the score)."""

    ticket: int
    score: int
