"""Personal data (152-ФЗ): what the school's profile decides, and the pure rules built on it. No I/O.

* **Consent.** A user's question goes to staff only after they agreed to the current notice. The notice's
  version is a digest of its Russian text as shown (school name, policy link, retention filled in), so any
  change of wording, of the school's policy link or of the retention periods is a new version, shown again
  (:func:`notice_version`, :func:`needs_consent`).
* **Students.** The notice tells a student to use the bot with a parent's knowledge. When the school's
  profile says ``students_need_parent = true``, a student's question is sent only after a parent confirmed
  it with the one-time code the student passed on (:func:`gate`).
* **The minimum to staff.** Staff see a user's first name; the full name and the link to the Telegram
  profile only when the profile turns them on (:func:`staff_name`). Alerts carry at most
  ``alert_excerpt`` characters of an offending text.
* **Retention** (:func:`cutoffs`): what is older than its period is due.

  - texts, names and file ids of a closed ticket (the question, the messages both ways): ``ticket_texts_days``
    after it was closed; the ticket itself stays as an anonymous row (role, topic, category, times) for
    the counts reports need;
  - a user with no open ticket and no activity for ``inactive_user_days``: name, username and chat id
    erased, their forum topic deleted;
  - the texts of conduct records and complaints: ``conduct_days`` after they were made (the school's
    regulation decides; the anonymous fact and category stay);
  - service data (incoming updates already handled, sent notices, abandoned drafts): ``service_days``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from helpdesk.domain import Role

# Defaults, explained in the README and docs/privacy.md: a school year (about 275 days of September-May)
# plus a term after the ticket was closed ≈ 400 days; conduct records three years (a regulation's usual
# term for disciplinary matters); service data a month.
DEFAULT_TICKET_TEXTS_DAYS = 400
DEFAULT_INACTIVE_USER_DAYS = 400
DEFAULT_CONDUCT_DAYS = 1095
DEFAULT_SERVICE_DAYS = 30
DEFAULT_ALERT_EXCERPT = 200


@dataclass(frozen=True)
class PrivacySettings:
    """The ``[privacy]`` table of the school profile."""

    operator: str | None = None
    """Who processes the data, as the notice names it; the school's full name when not given."""
    policy_url: str | None = None
    show_full_name: bool = False
    show_profile_link: bool = False
    students_need_parent: bool = False
    alert_excerpt: int = DEFAULT_ALERT_EXCERPT
    ticket_texts_days: int = DEFAULT_TICKET_TEXTS_DAYS
    inactive_user_days: int = DEFAULT_INACTIVE_USER_DAYS
    conduct_days: int = DEFAULT_CONDUCT_DAYS
    service_days: int = DEFAULT_SERVICE_DAYS


def notice_version(russian_text: str) -> str:
    """The version of a notice: a short digest of its Russian text (whitespace-normalised)."""
    normal = " ".join(russian_text.split())
    return "n" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:12]


def needs_consent(agreed_version: str | None, current_version: str) -> bool:
    return agreed_version != current_version


class Gate(StrEnum):
    """May a user's question go to staff now?"""

    OPEN = "open"
    CONSENT = "consent"  # the current notice is not agreed to
    PARENT = "parent"  # a student whose parent has not confirmed yet (only when the profile asks for it)


def gate(
    *,
    agreed_version: str | None,
    current_version: str,
    role: Role | None,
    parent_confirmed: bool,
    settings: PrivacySettings,
) -> Gate:
    if needs_consent(agreed_version, current_version):
        return Gate.CONSENT
    if settings.students_need_parent and role is Role.STUDENT and not parent_confirmed:
        return Gate.PARENT
    return Gate.OPEN


def staff_name(first_name: str, last_name: str | None, settings: PrivacySettings) -> str:
    """How staff see a user's name: the first name, or the full name when the school turns it on."""
    if settings.show_full_name:
        return " ".join(p for p in (first_name, last_name) if p) or "—"
    return first_name or "—"


@dataclass(frozen=True)
class Cutoffs:
    """Everything older than these moments is due for deletion (see the module's docstring)."""

    ticket_texts: datetime
    inactive_users: datetime
    conduct: datetime
    service: datetime


def cutoffs(now: datetime, settings: PrivacySettings) -> Cutoffs:
    return Cutoffs(
        ticket_texts=now - timedelta(days=settings.ticket_texts_days),
        inactive_users=now - timedelta(days=settings.inactive_user_days),
        conduct=now - timedelta(days=settings.conduct_days),
        service=now - timedelta(days=settings.service_days),
    )


def due_daily(last_run: datetime | None, now: datetime) -> bool:
    """The retention job runs once a day: due when it never ran or ran 24 hours ago or more."""
    return last_run is None or now - last_run >= timedelta(days=1)


DEFAULT_PRIVACY = PrivacySettings()
