"""Personal data at work (152-ФЗ): the notice and consent, a parent's confirmation, ``/mydata``, ``/forget``
(and management's ``/mydata_of``, ``/forget_of``), and the daily retention pass. No aiogram.

The rules (versions, the gate, what is due) are pure, in :mod:`helpdesk.rules.privacy`; the storage of it in
:mod:`storage.privacy`. Each use case here is one transaction, then the ports: the staff side is told what
was closed, the user's forum topic is deleted (``deleteForumTopic`` has no 48-hour limit), and in a plain
group what the bot may still delete is deleted and the rest listed for staff. After an erasure the
write-ahead log is checkpointed and truncated, so the erased text is in neither the file nor its log.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from helpdesk.clock import Clock
from helpdesk.formatting import escape, user_link
from helpdesk.ports import DeliveryError, Destination, StaffEraser, StaffSide, UserSide
from helpdesk.rules.privacy import Gate, PrivacySettings, cutoffs, due_daily, gate, notice_version, staff_name
from helpdesk.school import SchoolProfile
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.privacy import Erased, Export
from storage.users import TELEGRAM, User

log = logging.getLogger(__name__)

PARENT_CODE_DAYS = 7
RETENTION_MARK = "retention"


class ParentOutcome(StrEnum):
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"  # no such code, used already, expired, or the student's own


@dataclass(frozen=True)
class ChildConfirmed:
    outcome: ParentOutcome
    student: User | None = None


class Consent:
    """The notice shown at first contact and the user's decision on it; a parent's confirmation."""

    def __init__(self, *, store: Store, school: SchoolProfile, texts: Texts, users: UserSide) -> None:
        self.store = store
        self.school = school
        self.texts = texts
        self.users = users
        self.notice_ru = self.notice(texts("ru"))
        self.version = notice_version(self.notice_ru)

    def notice(self, tr: Tr) -> str:
        """The notice (HTML) in ``tr``'s language, with the school's operator, policy and retention."""
        p = self.school.privacy
        policy = tr("privacy.notice_policy", url=escape(p.policy_url, quote=False)) if p.policy_url else ""
        parent = tr("privacy.notice_parent_needed") if p.students_need_parent else ""
        return tr(
            "privacy.notice",
            operator=escape(p.operator or self.school.name),
            days=p.ticket_texts_days,
            inactive=p.inactive_user_days,
            policy=policy,
            parent=parent,
        )

    async def gate(self, user: User) -> Gate:
        """May this user's new question go to staff? A user who agreed to an older notice and is in the
        middle of an open ticket goes on (the new notice comes with their next question)."""
        verdict = gate(
            agreed_version=user.consent_version,
            current_version=self.version,
            role=user.role,
            parent_confirmed=user.parent_confirmed,
            settings=self.school.privacy,
        )
        if verdict is Gate.CONSENT and user.consent_version is not None:
            if await self.store.privacy.open_tickets(user.id):
                return Gate.OPEN
        return verdict

    async def agree(self, user: User) -> None:
        now = self.store.now()
        self.store.uncache(user)
        async with self.store.transaction():
            await self.store.privacy.remember_notice(self.version, self.notice_ru, now)
            await self.store.privacy.decide(user.id, self.version, "agree", now)

    async def decline(self, user: User) -> None:
        self.store.uncache(user)
        async with self.store.transaction():
            await self.store.privacy.decide(user.id, self.version, "decline", self.store.now())

    async def parent_code(self, student: User) -> str:
        """A one-time code (a week) that the student passes to a parent."""
        code = secrets.token_hex(5)
        async with self.store.transaction():
            await self.store.privacy.add_parent_code(code, student.id, self.store.now())
        return code

    async def confirm_child(self, parent: User, code: str) -> ChildConfirmed:
        now = self.store.now()
        async with self.store.transaction():
            student_id = await self.store.privacy.use_parent_code(
                code.strip().lower(), parent.id, now, now - timedelta(days=PARENT_CODE_DAYS)
            )
            if student_id is None:
                return ChildConfirmed(ParentOutcome.UNKNOWN)
            await self.store.privacy.decide(student_id, self.version, "parent", now, by_user_id=parent.id)
            student = await self.store.users.get(student_id)
        if student is not None:
            self.store.uncache(student)
            try:
                await self.users.tell(student, self.texts.of(student)("privacy.parent_confirmed_student"))
            except DeliveryError as exc:
                log.info("student %s not told about the parent's confirmation: %s", student.id, exc)
        return ChildConfirmed(ParentOutcome.CONFIRMED, student)


@dataclass(frozen=True)
class Forgotten:
    """What ``/forget`` did, for the user and for staff."""

    closed: tuple[int, ...]
    tickets: int
    kept_for_staff: tuple[str, ...]  # links or ticket numbers of staff-group messages the bot could not delete


class PersonalData:
    """``/mydata`` and ``/forget`` for the user; ``/mydata_of`` and ``/forget_of`` for management (audited)."""

    def __init__(
        self,
        *,
        store: Store,
        school: SchoolProfile,
        texts: Texts,
        staff: StaffSide,
        eraser: StaffEraser,
    ) -> None:
        self.store = store
        self.school = school
        self.texts = texts
        self.staff = staff
        self.eraser = eraser

    # ---- finding a person -------------------------------------------------------------------------

    async def person(self, user_id: int) -> User | None:
        return await self.store.users.get(user_id)

    async def find(self, target: str) -> User | None:
        """A person named by management: «№12» (their ticket), a Telegram id, or «@username»."""
        target = target.strip()
        if target[:1] in ("№", "#") and target[1:].isdigit():
            ticket = await self.store.tickets.get(int(target[1:]))
            return await self.store.users.get(ticket.user_id) if ticket else None
        if target.isdigit():
            return await self.store.users.by_external(TELEGRAM, target)
        if target.startswith("@") and len(target) > 1:
            return await self.store.privacy.by_username(target[1:])
        return None

    # ---- /mydata ----------------------------------------------------------------------------------

    async def export(self, user: User, *, actor_id: int | None = None, actor_name: str = "") -> str | None:
        """Everything stored about ``user``, as a text a person can read (in the user's language). With an
        actor (management), the look is recorded in the audit trail."""
        data = await self.store.privacy.export(user.id)
        if data is None:
            return None
        if actor_id is not None:
            async with self.store.transaction():
                await self.store.audit_action("mydata_of", actor_id, actor_name, detail=f"user {user.id}")
        return render_export(self.texts.of(user), data, self.school, self.store.now())

    # ---- /forget ----------------------------------------------------------------------------------

    async def forget(self, user: User, *, actor_id: int | None = None, actor_name: str = "") -> Forgotten:
        """Erase ``user``'s personal data: their open tickets closed (staff are told), their forum topic
        deleted (or in a plain group, what can still be deleted; the rest listed for staff), texts, names and
        file ids removed; the tickets stay as anonymous counts. One transaction, then the staff side."""
        now = self.store.now()
        tr = self.texts.staff
        self.store.uncache(user)
        async with self.store.transaction():
            traces = await self.store.privacy.traces(user.id)
            closed = tuple(await self.store.privacy.open_tickets(user.id))
            for ticket_id in closed:
                await self.store.tickets.close(ticket_id, closed_by=tr("privacy.closed_by"), now=now)
                await self.store.audit_action("close", actor_id, actor_name or tr("privacy.closed_by"),
                                              ticket_id=ticket_id)
            # The withdrawal itself is kept (its time and the version withdrawn), without the person.
            await self.store.privacy.decide(user.id, user.consent_version or "-", "withdraw", now)
            done = await self.store.privacy.erase_user(user.id, now)
            await self.store.audit_action(
                "forget_of" if actor_id is not None else "forget", actor_id, actor_name, detail=f"user {user.id}"
            )
        left = await self._clean_staff_side(traces.thread_id, traces.messages, traces.tickets)
        if closed or left:
            await self._tell_staff(tr, closed, left)
        await self.store.db.checkpoint()
        log.info(
            "personal data of user %s erased: %d ticket(s), %d message(s), %d closed", user.id, done.tickets,
            done.messages, len(closed),
        )
        return Forgotten(closed=closed, tickets=done.tickets, kept_for_staff=tuple(left))

    async def _clean_staff_side(
        self, thread_id: int | None, messages: tuple[tuple[int, int], ...], tickets: dict[tuple[int, int], int]
    ) -> list[str]:
        """Delete the user's traces in the staff group; what could not be deleted: «№12: link» (or the
        message's number, in a group without links)."""
        if thread_id is not None and self.eraser.forum:
            if await self.eraser.delete_thread(thread_id):
                messages = tuple(m for m in messages if m[0] != self.staff.chat_id)
        if not messages:
            return []
        left = await self.eraser.delete_messages(messages)
        return [
            f"№{tickets.get((chat, mid), '?')}: {self.eraser.message_url(chat, mid) or mid}" for chat, mid in left
        ]

    async def _tell_staff(self, tr: Tr, closed: tuple[int, ...], left: list[str]) -> None:
        lines = []
        if closed:
            lines.append(tr("privacy.staff_closed", numbers=", ".join(f"№{n}" for n in closed)))
        else:
            lines.append(tr("privacy.staff_erased"))
        if left:
            lines.append(tr("privacy.staff_left", items="\n".join(escape(x) for x in left[:50])))
        try:
            await self.staff.say(Destination(self.staff.chat_id), "\n".join(lines))
        except DeliveryError as exc:
            log.error("staff not told about an erasure: %s", exc)


@dataclass(frozen=True)
class RetentionReport:
    tickets: int
    messages: int
    users: int
    conduct: int
    complaints: int
    service: int


class Retention:
    """The daily pass: what the profile's retention periods say is due is deleted (counts in the log)."""

    def __init__(self, *, store: Store, school: SchoolProfile, data: PersonalData, clock: Clock) -> None:
        self.store = store
        self.school = school
        self.data = data
        self.clock = clock

    async def daily(self, now: datetime) -> None:
        """The scheduler's check (every tick): runs :meth:`run` once a day."""
        await self.run_if_due(now)

    async def run_if_due(self, now: datetime) -> RetentionReport | None:
        mark = await self.store.duty.mark(RETENTION_MARK)
        last = datetime.fromisoformat(mark) if mark else None
        if not due_daily(last, now):
            return None
        report = await self.run(now)
        async with self.store.transaction():
            await self.store.duty.set_mark(RETENTION_MARK, now.isoformat())
        return report

    async def run(self, now: datetime) -> RetentionReport:
        due = cutoffs(now, self.school.privacy)
        total = Erased()
        async with self.store.transaction():
            total.add(await self.store.privacy.expire_ticket_texts(due.ticket_texts, now))
            total.add(await self.store.privacy.expire_conduct(due.conduct))
            total.add(await self.store.privacy.expire_service(due.service))
            inactive = await self.store.privacy.inactive_users(due.inactive_users)
        for user_id in inactive:
            user = await self.store.users.get(user_id)
            if user is None:
                continue
            await self.data.forget(user, actor_id=None, actor_name="retention")
            total.users += 1
        report = RetentionReport(
            tickets=total.tickets,
            messages=total.messages,
            users=total.users,
            conduct=total.conduct,
            complaints=total.complaints,
            service=total.service,
        )
        if any((report.tickets, report.messages, report.users, report.conduct, report.complaints, report.service)):
            await self.store.db.checkpoint()  # (an erased user's was done by forget)
        log.info(
            "retention: texts of %d closed ticket(s) (%d message(s)) deleted, %d inactive user(s) erased, "
            "%d conduct record(s) and %d complaint(s) cleared, %d service row(s) deleted",
            report.tickets, report.messages, report.users, report.conduct, report.complaints, report.service,
        )
        return report


# ---- the /mydata file -------------------------------------------------------------------------------


def _when(value: object, school: SchoolProfile) -> str:
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(school.tz).strftime("%d.%m.%Y %H:%M")


def render_export(tr: Tr, data: Export, school: SchoolProfile, now: datetime) -> str:
    """A plain-text file a person can read: who, consents, questions with their messages, the rest."""
    u = data.user
    role = tr(f"role.{u['role']}") if u.get("role") else "—"
    out: list[str] = [
        tr("mydata.title", school=school.short_name, when=_when(now.isoformat(), school)),
        "",
        tr("mydata.section.profile"),
        tr("mydata.field.name", value=" ".join(str(x) for x in (u.get("first_name"), u.get("last_name")) if x) or "—"),
        tr("mydata.field.username", value=f"@{u['username']}" if u.get("username") else "—"),
        tr("mydata.field.telegram_id", value=u.get("external_id") or "—"),
        tr("mydata.field.role", value=role),
        tr("mydata.field.language", value=u.get("locale") or u.get("client_language") or "—"),
        tr("mydata.field.since", value=_when(u.get("created_at"), school)),
        "",
        tr("mydata.section.consents"),
    ]
    for c in data.consents:
        out.append(
            tr("mydata.consent", when=_when(c["at"], school), decision=tr(f"mydata.decision.{c['decision']}"),
               version=c["version"])
        )
    if not data.consents:
        out.append(tr("mydata.none"))
    out += ["", tr("mydata.section.tickets")]
    by_ticket: dict[object, list[dict[str, object]]] = {}
    for m in data.messages:
        by_ticket.setdefault(m["ticket_id"], []).append(m)
    for t in data.tickets:
        out.append(
            tr(
                "mydata.ticket",
                number=t["id"],
                opened=_when(t["created_at"], school),
                topic=tr(f"topic.short.{t['topic']}"),
                category=tr(f"category.{t['category']}"),
                status=tr(f"audit.status.{t['status']}"),
            )
        )
        out.append(tr("mydata.question", text=t["question"] or tr("mydata.erased")))
        for m in by_ticket.get(t["id"], []):
            who = tr("mydata.from_you") if m["direction"] == "in" else (m["author_name"] or tr("mydata.from_staff"))
            body = m["text"] or ""
            if m["kind"] != "text":
                body = f"[{m['kind']}] {body}".strip()
            out.append(f"  {_when(m['created_at'], school)} {who}: {body}")
        out.append("")
    if not data.tickets:
        out += [tr("mydata.none"), ""]
    out.append(tr("mydata.section.conduct"))
    for e in data.conduct:
        out.append(f"  {_when(e['at'], school)} {e['kind']} {e['category'] or ''} {e['text'] or ''}".rstrip())
    for c in data.complaints:
        out.append(tr("mydata.complaint", number=c["id"], when=_when(c["at"], school), text=c["text"] or "—"))
    if not data.conduct and not data.complaints:
        out.append(tr("mydata.none"))
    out += ["", tr("mydata.section.other")]
    for s in data.seminars:
        out.append(tr("mydata.seminar", title=s["title"], when=_when(s["starts_at"], school)))
    for f in data.kb_feedback:
        out.append(tr("mydata.kb", article=f["article_id"], helped=tr("mydata.yes" if f["helped"] else "mydata.no")))
    for r in data.ratings:
        out.append(tr("mydata.rating", number=r["ticket_id"], score=r["score"], comment=r["comment"] or "—"))
    for e in data.examples:
        out.append(tr("mydata.example", number=e["ticket_id"], article=e["article_id"], question=e["question"]))
    if not data.seminars and not data.kb_feedback and not data.ratings and not data.examples:
        out.append(tr("mydata.none"))
    p = school.privacy
    out += ["", tr("mydata.footer", days=p.ticket_texts_days, phone=school.phone, email=school.email)]
    return "\n".join(out) + "\n"


def staff_label(user: User, settings: PrivacySettings) -> str:
    """A user as staff see them (HTML): the first name; the full name and a link to the Telegram profile only
    where the school's profile turns them on."""
    name = staff_name(user.first_name, user.last_name, settings)
    return user_link(user.external_id, name) if settings.show_profile_link else escape(name)
