"""Keyboards: pure functions from data to markup."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import ConfigDict

from bot.callbacks import (
    CategoryCb,
    CloseAction,
    CloseCb,
    ComplaintCb,
    ConductEndAction,
    ConductEndCb,
    ConsentAction,
    ConsentCb,
    DraftAction,
    DraftCb,
    FaqAction,
    FaqCb,
    ForgetAction,
    ForgetCb,
    KbAction,
    KbCb,
    LangCb,
    RateCb,
    RoleCb,
    SeminarAdminAction,
    SeminarAdminCb,
    StaffAction,
    StaffArticleCb,
    StaffCb,
    TopicCb,
    UserTicketCb,
)
from helpdesk.domain import Category, Role, TicketStatus, Topic
from helpdesk.ports import Button
from helpdesk.rules.kb import Article
from helpdesk.seminars import signup_button
from helpdesk.texts import Tr


class _SharedMarkup(InlineKeyboardMarkup):
    """A markup built once and sent many times: frozen, so the session also prepares it once
    (``bot/session.py``)."""

    model_config = ConfigDict(**{**InlineKeyboardMarkup.model_config, "frozen": True})


Row = tuple[tuple[str, str], ...]
"""A row of callback buttons as (label, callback data) pairs."""


@lru_cache(maxsize=256)
def _markup(rows: tuple[Row, ...]) -> InlineKeyboardMarkup:
    """The markup for ``rows``, built once: the dialog's keyboards are the same for every user of a language,
    and a markup is only read once built (aiogram's builder deep-copies every button on the way)."""
    return _SharedMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


@cache
def _packed(factory: type[CallbackData], **fields: Any) -> str:
    """Callback data packed once per value (a CallbackData is a pydantic model: not free to build)."""
    return factory(**fields).pack()


@lru_cache(maxsize=64)
def roles(tr: Tr) -> InlineKeyboardMarkup:
    return _markup(tuple(((tr(f"role.{role.value}"), _packed(RoleCb, role=role)),) for role in Role))


@lru_cache(maxsize=64)
def topics(tr: Tr, first: Topic) -> InlineKeyboardMarkup:
    ordered = sorted(Topic, key=lambda t: t is not first)
    return _markup(tuple(((tr(f"topic.{t.value}"), _packed(TopicCb, topic=t)),) for t in ordered))


@lru_cache(maxsize=64)
def categories(tr: Tr, items: tuple[Category, ...]) -> InlineKeyboardMarkup:
    buttons = [(tr(f"category.{c.value}"), _packed(CategoryCb, category=c)) for c in items]
    return _markup(tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)))


def draft(tr: Tr, articles: Sequence[tuple[str, str]] = ()) -> InlineKeyboardMarkup:
    """The summary's buttons: the articles offered with it (``(id, title)``, one a row), then send, change the
    topic, cancel."""
    rows: list[Row] = [((f"📖 {title}", _packed(KbCb, action=KbAction.OPEN, article=id_)),) for id_, title in articles]
    rows.append(((tr("btn.send"), _packed(DraftCb, action=DraftAction.SEND)),))
    rows.append(
        (
            (tr("btn.change_topic"), _packed(DraftCb, action=DraftAction.CHANGE)),
            (tr("btn.cancel"), _packed(DraftCb, action=DraftAction.CANCEL)),
        )
    )
    return _markup(tuple(rows))


def user_ticket(tr: Tr, ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("btn.close_ticket"), callback_data=UserTicketCb(ticket=ticket_id))
    return kb.as_markup()


def staff_card(
    tr: Tr, ticket_id: int, status: TicketStatus, *, vendor: bool = False
) -> InlineKeyboardMarkup | None:
    if status is TicketStatus.CLOSED:
        return None
    kb = InlineKeyboardBuilder()
    if status is TicketStatus.OPEN:
        kb.button(text=tr("btn.claim"), callback_data=StaffCb(action=StaffAction.CLAIM, ticket=ticket_id))
    kb.button(text=tr("btn.close"), callback_data=StaffCb(action=StaffAction.CLOSE, ticket=ticket_id))
    kb.button(text=tr("btn.escalate"), callback_data=StaffCb(action=StaffAction.ESCALATE, ticket=ticket_id))
    if not vendor:
        kb.button(text=tr("btn.vendor"), callback_data=StaffCb(action=StaffAction.VENDOR, ticket=ticket_id))
    kb.button(text=tr("btn.article"), callback_data=StaffCb(action=StaffAction.ARTICLE, ticket=ticket_id))
    kb.button(
        text=tr("conduct.btn_end"),
        callback_data=ConductEndCb(action=ConductEndAction.ASK, ticket=ticket_id),
    )
    kb.adjust(2)
    return kb.as_markup()


def close_confirm(tr: Tr, ticket_id: int, upto: int) -> InlineKeyboardMarkup:
    """Close a ticket whose last message, the user's ``upto``, has no answer: yes or no."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=tr("routing.btn_close_yes"),
        callback_data=CloseCb(action=CloseAction.YES, ticket=ticket_id, upto=upto),
    )
    kb.button(
        text=tr("routing.btn_close_no"),
        callback_data=CloseCb(action=CloseAction.NO, ticket=ticket_id, upto=upto),
    )
    kb.adjust(2)
    return kb.as_markup()


@lru_cache(maxsize=64)
def languages(tr: Tr) -> InlineKeyboardMarkup:
    return _markup(
        (
            (
                (tr("btn.lang.ru"), _packed(LangCb, locale="ru")),
                (tr("btn.lang.en"), _packed(LangCb, locale="en")),
            ),
        )
    )


# ---- reference articles and seminars ---------------------------------------------------------------


def kb_offer(articles: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Titles of the articles offered in the question dialog (``(id, title)``); a press opens one."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"📖 {title}", callback_data=KbCb(action=KbAction.OPEN, article=id_).pack())]
            for id_, title in articles
        ]
    )


def kb_article(tr: Tr, article_id: str, ticket_id: int = 0) -> InlineKeyboardMarkup:
    """«Помогло» / «нет» under an article; in a ticket (a specialist sent it) «нет» only says so."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=tr("btn.kb.helped"),
        callback_data=KbCb(action=KbAction.HELPED, article=article_id, ticket=ticket_id),
    )
    kb.button(
        text=tr("btn.kb.not_helped" if ticket_id else "btn.kb.ask"),
        callback_data=KbCb(action=KbAction.ASK, article=article_id, ticket=ticket_id),
    )
    kb.adjust(2)
    return kb.as_markup()


def staff_articles(ticket_id: int, articles: Sequence[Article]) -> InlineKeyboardMarkup:
    """In a ticket's thread: the articles a specialist may send to the user; a press sends one."""
    kb = InlineKeyboardBuilder()
    for article in articles:
        kb.button(text=f"📖 {article.title}", callback_data=StaffArticleCb(ticket=ticket_id, article=article.id))
    kb.adjust(1)
    return kb.as_markup()


def faq_home(tr: Tr, first: Topic) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for topic in sorted(Topic, key=lambda t: t is not first):
        kb.button(text=tr(f"topic.{topic.value}"), callback_data=FaqCb(action=FaqAction.TOPIC, topic=topic))
    kb.button(text=tr("btn.faq.search"), callback_data=FaqCb(action=FaqAction.SEARCH))
    kb.adjust(1)
    return kb.as_markup()


FAQ_PAGE = 6
"""Articles on one page of a /faq list: a phone's screen shows them without scrolling."""


def faq_pages(count: int) -> int:
    return max(1, -(-count // FAQ_PAGE))


def faq_articles(
    tr: Tr, articles: Sequence[Article], topic: Topic | None, page: int = 0
) -> InlineKeyboardMarkup:
    """A list of articles (a topic's, or search results when ``topic`` is None) and the way back. A long
    list shows ``FAQ_PAGE`` articles of page ``page`` (from 0), with «Назад» and «Ещё» between pages."""
    kb = InlineKeyboardBuilder()
    pages = faq_pages(len(articles))
    page = min(max(page, 0), pages - 1)
    shown = articles[page * FAQ_PAGE : (page + 1) * FAQ_PAGE] if topic is not None else articles
    for article in shown:
        kb.button(
            text=article.title,
            callback_data=FaqCb(action=FaqAction.ARTICLE, topic=topic, article=article.id, page=page),
        )
    turns = 0
    if topic is not None and page > 0:
        kb.button(text=tr("routing.faq_prev"), callback_data=FaqCb(action=FaqAction.TOPIC, topic=topic, page=page - 1))
        turns += 1
    if topic is not None and page < pages - 1:
        kb.button(text=tr("routing.faq_more"), callback_data=FaqCb(action=FaqAction.TOPIC, topic=topic, page=page + 1))
        turns += 1
    kb.button(text=tr("btn.faq.home"), callback_data=FaqCb(action=FaqAction.HOME))
    kb.adjust(*([1] * len(shown)), *([turns] if turns else []), 1)
    return kb.as_markup()


def faq_article(tr: Tr, topic: Topic | None, page: int = 0) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if topic is not None:
        kb.button(text=tr("btn.faq.back"), callback_data=FaqCb(action=FaqAction.TOPIC, topic=topic, page=page))
    kb.button(text=tr("btn.faq.home"), callback_data=FaqCb(action=FaqAction.HOME))
    kb.adjust(2)
    return kb.as_markup()


def buttons(row: Sequence[Button]) -> InlineKeyboardMarkup:
    """The core's channel-neutral buttons, one per row."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=b.label, callback_data=b.payload)] for b in row]
    )


def seminar(tr: Tr, seminar_id: int, signed_up: bool) -> InlineKeyboardMarkup:
    return buttons([signup_button(tr, seminar_id, signed_up)])


def seminar_draft(tr: Tr, seminar_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=tr("btn.seminar.publish"),
        callback_data=SeminarAdminCb(action=SeminarAdminAction.PUBLISH, seminar=seminar_id),
    )
    kb.button(
        text=tr("btn.seminar.discard"),
        callback_data=SeminarAdminCb(action=SeminarAdminAction.DISCARD, seminar=seminar_id),
    )
    kb.adjust(2)
    return kb.as_markup()


def seminar_published(tr: Tr, seminar_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=tr("btn.seminar.list"),
        callback_data=SeminarAdminCb(action=SeminarAdminAction.LIST, seminar=seminar_id),
    )
    return kb.as_markup()


# ---- conduct policy ------------------------------------------------------------------------------------


def conduct_end_confirm(tr: Tr, ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=tr("conduct.btn_end_yes"),
        callback_data=ConductEndCb(action=ConductEndAction.YES, ticket=ticket_id),
    )
    kb.button(
        text=tr("conduct.btn_end_no"),
        callback_data=ConductEndCb(action=ConductEndAction.NO, ticket=ticket_id),
    )
    kb.adjust(2)
    return kb.as_markup()


@lru_cache(maxsize=4096)
def _complaint(label: str, ticket_id: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=label, callback_data=ComplaintCb(ticket=ticket_id).pack())
    return _SharedMarkup(inline_keyboard=[[button]])


def complaint(tr: Tr, ticket_id: int) -> InlineKeyboardMarkup:
    """Under a specialist's answer: the user may complain to the director.

    It goes under every answer, so it is built once per ticket and language (the markup is only read).
    """
    return _complaint(tr("conduct.btn_complaint"), ticket_id)


def rating(ticket_id: int) -> InlineKeyboardMarkup:
    """The buttons 1 … 5 in one row (digits: the same in every language)."""
    kb = InlineKeyboardBuilder()
    for score in range(1, 6):
        kb.button(text=str(score), callback_data=RateCb(ticket=ticket_id, score=score))
    kb.adjust(5)
    return kb.as_markup()


def rating_comment(tr: Tr, ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("rating.no_comment"), callback_data=RateCb(ticket=ticket_id, score=0))
    return kb.as_markup()


def consent(tr: Tr) -> InlineKeyboardMarkup:
    """Under the personal-data notice."""
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("privacy.button.agree"), callback_data=ConsentCb(action=ConsentAction.AGREE))
    kb.button(text=tr("privacy.button.decline"), callback_data=ConsentCb(action=ConsentAction.DECLINE))
    kb.adjust(1)
    return kb.as_markup()


def forget_confirm(tr: Tr, user_id: int = 0) -> InlineKeyboardMarkup:
    """Confirming an erasure (``user_id`` 0: the user's own)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("forget.button.yes"), callback_data=ForgetCb(action=ForgetAction.YES, user=user_id))
    kb.button(text=tr("forget.button.no"), callback_data=ForgetCb(action=ForgetAction.NO, user=user_id))
    kb.adjust(2)
    return kb.as_markup()
