"""A specialist answers a ticket with a reference article, the user says whether it helped, the knowledge base
learns.

* :meth:`ArticleAnswers.suggest`: articles for a ticket, found with the ticket's question (the card's button)
  or with the specialist's words (``/article <words>`` in the ticket's thread);
* :meth:`ArticleAnswers.send`: the article goes to the user with «помогло / нет»; the ticket records it
  (``ticket_articles``, the audit trail, a line in the ticket's thread);
* :meth:`ArticleAnswers.answered`: the user's answer is recorded on the ticket and in the statistics; after
  «помогло» the ticket's question becomes an example question of the article, at once.

Why at once and not after management's yes/no: the user who asked confirmed that this article answers this
question, which is the best evidence the school will get; a weekly list to approve is work that waits, and
the questions meanwhile go to specialists again. An example only makes the matcher offer the article (never
answer for a person), management sees what was learned in ``/kbgaps`` and can take an example back with
``/kbforget <number>``. No aiogram.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from helpdesk.duty import Duty
from helpdesk.formatting import escape, shorten
from helpdesk.knowledge import KnowledgeLibrary
from helpdesk.ports import DeliveryError, Notices, StaffSide
from helpdesk.rules.kb import Article, KnowledgeBase, group_questions
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.kb_feedback import Example
from storage.tickets import Ticket
from storage.users import User

log = logging.getLogger(__name__)

SUGGESTIONS = 3
EXAMPLE_MAX_CHARS = 300


GAPS_DAYS = 7
MAX_GAPS = 10


@dataclass(frozen=True)
class Gap:
    """Questions about one subject that no article answers."""

    subject: tuple[str, ...]
    tickets: tuple[int, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class GapsReport:
    days: int
    gaps: tuple[Gap, ...]
    learned: tuple[Example, ...]


class ArticleSender(Protocol):
    """The users' messenger: an article with the «помогло / нет» buttons that name the ticket."""

    async def send_article(self, user: User, ticket_id: int, article_id: str, html_text: str) -> None:
        """Raises :class:`helpdesk.ports.DeliveryError` when the user cannot get it."""
        ...


class SendOutcome(StrEnum):
    SENT = "sent"
    NOT_FOUND = "not_found"  # no such ticket
    NO_ARTICLE = "no_article"  # the article is gone (reloaded without it)
    CLOSED = "closed"
    ALREADY_SENT = "already_sent"  # sent in this ticket and not answered yet (a second press)
    UNDELIVERED = "undelivered"


class AnswerOutcome(StrEnum):
    LEARNED = "learned"  # helped, and the question is a new example of the article
    HELPED = "helped"
    DECLINED = "declined"
    DUPLICATE = "duplicate"  # answered already (a second press)


@dataclass(frozen=True)
class Suggestions:
    ticket: Ticket
    articles: tuple[Article, ...]


class ArticleAnswers:
    def __init__(
        self,
        *,
        store: Store,
        library: KnowledgeLibrary,
        staff: StaffSide,
        sender: ArticleSender,
        texts: Texts,
    ) -> None:
        self.store = store
        self.library = library
        self.staff = staff
        self.sender = sender
        self.texts = texts

    async def suggest(self, ticket_id: int, words: str | None = None) -> Suggestions | None:
        """Articles for the ticket: matched on ``words`` when given, else on the ticket's question."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None:
            return None
        user = await self.store.users.get(ticket.user_id)
        locale = self.texts.of(user).locale if user is not None else None
        query = words if words and words.strip() else ticket.question
        kb = self.library.kb
        if words and words.strip():
            # The specialist's own words: the ticket's role and topic only rank, nothing is ruled out.
            matches = kb.search(query, locale, role=ticket.role, limit=SUGGESTIONS)
        else:
            matches = kb.search(
                query, locale, role=ticket.role, topic=ticket.topic, category=ticket.category, limit=SUGGESTIONS
            )
        return Suggestions(ticket, tuple(m.article for m in matches))

    async def send(
        self, ticket_id: int, article_id: str, *, staff_id: int | None, staff_name: str
    ) -> tuple[SendOutcome, Ticket | None, Article | None]:
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None:
            return SendOutcome.NOT_FOUND, None, None
        user = await self.store.users.get(ticket.user_id)
        assert user is not None
        tr = self.texts.of(user)
        article = self.library.kb.article(article_id, tr.locale)
        if article is None:
            return SendOutcome.NO_ARTICLE, ticket, None
        if not ticket.is_open:
            return SendOutcome.CLOSED, ticket, article
        if (article.id, None) in await self.store.kb.articles_of_ticket(ticket.id):
            return SendOutcome.ALREADY_SENT, ticket, article
        try:
            await self.sender.send_article(
                user, ticket.id, article.id, f"{article.render()}\n\n{tr('kb.did_it_help')}"
            )
        except DeliveryError as exc:
            log.warning("ticket %s: article not delivered (%s)", ticket.id, exc)
            return SendOutcome.UNDELIVERED, ticket, article
        now = self.store.now()
        async with self.store.transaction():
            await self.store.kb.sent_in_ticket(
                ticket_id=ticket.id, article_id=article.id, staff_id=staff_id, staff_name=staff_name, now=now
            )
            for event in ("offered", "opened"):
                await self.store.kb.event(
                    article_id=article.id, event=event, user_id=user.id, ticket_id=ticket.id, now=now
                )
            await self.store.audit_action("article", staff_id, staff_name, ticket_id=ticket.id, detail=article.id)
        staff_article = self.library.kb.article(article.id, self.texts.staff.locale) or article
        await self.staff.say(
            self.staff.thread_of(ticket),
            self.texts.staff(
                "kb.staff_sent", number=ticket.id, title=escape(staff_article.title), name=escape(staff_name)
            ),
        )
        return SendOutcome.SENT, ticket, article

    async def answered(self, user: User, ticket_id: int, article_id: str, *, helped: bool) -> AnswerOutcome:
        """The user pressed «помогло» or «нет» under an article a specialist sent in their ticket."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user.id:
            # Not this user's ticket (a forged press): counted as an answer to the article, nothing more.
            async with self.store.transaction():
                await self.store.kb.record(user_id=user.id, article_id=article_id, helped=helped, now=self.store.now())
            return AnswerOutcome.HELPED if helped else AnswerOutcome.DECLINED
        now = self.store.now()
        learned = False
        async with self.store.transaction():
            first = await self.store.kb.answered_in_ticket(
                ticket_id=ticket.id, article_id=article_id, helped=helped, now=now
            )
            if not first:
                return AnswerOutcome.DUPLICATE
            await self.store.kb.record(user_id=user.id, article_id=article_id, helped=helped, now=now)
            question = " ".join(ticket.question.split())[:EXAMPLE_MAX_CHARS]
            if helped and question:
                learned = await self.store.kb.add_example(
                    article_id=article_id, question=question, ticket_id=ticket.id, now=now
                )
        if learned:
            await self.library.refresh_examples()
        article = self.library.kb.article(article_id, self.texts.staff.locale)
        key = "kb.staff_helped" if helped else "kb.staff_declined"
        await self.staff.say(
            self.staff.thread_of(ticket),
            self.texts.staff(key, number=ticket.id, title=escape(article.title if article else article_id)),
        )
        if learned:
            return AnswerOutcome.LEARNED
        return AnswerOutcome.HELPED if helped else AnswerOutcome.DECLINED

    # ---- for management: what was learned, what is missing ----------------------------------------

    async def report(self, days: int = GAPS_DAYS) -> GapsReport:
        """The gaps report: questions of the last ``days`` days that no article answers (none matches, and no
        specialist sent one), grouped by subject, largest group first; and the examples learned meanwhile."""
        since = self.store.now() - timedelta(days=days)
        kb = self.library.kb
        asked = await self.store.kb.questions_without_article(since)
        unanswered = [
            q
            for q in asked
            if not kb.search(q.question, None, role=q.role, topic=q.topic, category=q.category, limit=1)
        ]
        groups = group_questions(kb, [q.question for q in unanswered])
        gaps = tuple(
            Gap(
                subject=g.subject,
                tickets=tuple(unanswered[i].ticket_id for i in g.members),
                questions=tuple(unanswered[i].question for i in g.members),
            )
            for g in groups
        )
        learned = tuple(await self.store.kb.examples(since=since))
        return GapsReport(days=days, gaps=gaps[:MAX_GAPS], learned=learned)

    async def forget(self, example_id: int, *, actor_id: int | None, actor_name: str) -> Example | None:
        """Management takes a learned example back: the matcher stops using it (and never learns it again)."""
        async with self.store.transaction():
            example = await self.store.kb.reject_example(example_id)
            if example is not None:
                await self.store.audit_action(
                    "kb_forget", actor_id, actor_name, ticket_id=example.ticket_id, detail=example.article_id
                )
        if example is not None:
            await self.library.refresh_examples()
        return example



QUESTIONS_SHOWN = 3  # per gap
QUESTION_CHARS = 90
EXAMPLES_SHOWN = 15


def gaps_text(report: GapsReport, tr: Tr, kb: KnowledgeBase) -> str:
    """The gaps report for management (``/kbgaps`` and the Monday message), within Telegram's limit: at most
    ten groups of three questions and fifteen examples, each shortened."""
    lines = [tr("kb.gaps_title", days=report.days)]
    if not report.gaps:
        lines.append(tr("kb.gaps_none"))
    for gap in report.gaps:
        lines.append("")
        lines.append(tr("kb.gaps_group", subject=escape(", ".join(gap.subject)) or "—", count=len(gap.tickets)))
        for number, question in list(zip(gap.tickets, gap.questions, strict=True))[:QUESTIONS_SHOWN]:
            lines.append(tr("kb.gaps_question", number=number, question=escape(shorten(question, QUESTION_CHARS))))
    lines.append("")
    if not report.learned:
        lines.append(tr("kb.learned_none"))
        return "\n".join(lines)
    lines.append(tr("kb.learned_title", count=len(report.learned)))
    for example in report.learned[-EXAMPLES_SHOWN:]:
        article = kb.article(example.article_id, tr.locale)
        lines.append(
            tr(
                "kb.learned_line",
                id=example.id,
                question=escape(shorten(example.question, QUESTION_CHARS)),
                title=escape(shorten(article.title if article else example.article_id, 50)),
            )
        )
    lines.append(tr("kb.learned_forget"))
    return "\n".join(lines)


class WeeklyGaps:
    """On Mondays, at the daily summary's time, the week's gaps report goes to management (once a week)."""

    def __init__(
        self, *, answers: ArticleAnswers, duty: Duty, store: Store, notices: Notices, at: time | None
    ) -> None:
        self.answers = answers
        self.duty = duty
        self.store = store
        self.notices = notices
        self.at = at

    async def tick(self, now: datetime) -> None:
        local = now.astimezone(self.duty.school.tz)
        if self.at is None or local.weekday() != 0 or local.time() < self.at:
            return
        year, week, _ = local.isocalendar()
        mark = f"{year}-W{week:02d}"
        if await self.store.duty.mark("kb_gaps") == mark:
            return
        text = gaps_text(await self.answers.report(), self.duty.tr, self.answers.library.kb)
        async with self.store.transaction():
            if await self.store.duty.mark("kb_gaps") == mark:
                return
            await self.store.duty.set_mark("kb_gaps", mark)
            await self.store.notice(self.duty.manager_dest, text, dedupe=f"kb_gaps:{mark}")
        self.notices.kick()
