"""Keyboards: pure functions from data to markup."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    CategoryCb,
    DraftAction,
    DraftCb,
    LangCb,
    RoleCb,
    StaffAction,
    StaffCb,
    TopicCb,
    UserTicketCb,
)
from bot.domain import Category, Role, TicketStatus, Topic
from bot.texts import Tr


def roles(tr: Tr) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for role in Role:
        kb.button(text=tr(f"role.{role.value}"), callback_data=RoleCb(role=role))
    kb.adjust(1)
    return kb.as_markup()


def topics(tr: Tr, first: Topic) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for topic in sorted(Topic, key=lambda t: t is not first):
        kb.button(text=tr(f"topic.{topic.value}"), callback_data=TopicCb(topic=topic))
    kb.adjust(1)
    return kb.as_markup()


def categories(tr: Tr, items: tuple[Category, ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for category in items:
        kb.button(text=tr(f"category.{category.value}"), callback_data=CategoryCb(category=category))
    kb.adjust(2)
    return kb.as_markup()


def draft(tr: Tr) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("btn.send"), callback_data=DraftCb(action=DraftAction.SEND))
    kb.button(text=tr("btn.change_topic"), callback_data=DraftCb(action=DraftAction.CHANGE))
    kb.button(text=tr("btn.cancel"), callback_data=DraftCb(action=DraftAction.CANCEL))
    kb.adjust(1, 2)
    return kb.as_markup()


def user_ticket(tr: Tr, ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("btn.close_ticket"), callback_data=UserTicketCb(ticket=ticket_id))
    return kb.as_markup()


def staff_card(tr: Tr, ticket_id: int, status: TicketStatus) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if status is TicketStatus.OPEN:
        kb.button(text=tr("btn.claim"), callback_data=StaffCb(action=StaffAction.CLAIM, ticket=ticket_id))
    if status is not TicketStatus.CLOSED:
        kb.button(text=tr("btn.close"), callback_data=StaffCb(action=StaffAction.CLOSE, ticket=ticket_id))
    if status is TicketStatus.CLOSED:
        return None
    kb.adjust(2)
    return kb.as_markup()


def languages(tr: Tr) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tr("btn.lang.ru"), callback_data=LangCb(locale="ru"))
    kb.button(text=tr("btn.lang.en"), callback_data=LangCb(locale="en"))
    kb.adjust(2)
    return kb.as_markup()
