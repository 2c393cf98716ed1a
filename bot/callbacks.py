"""Callback data factories: short prefixes, typed fields, ids rather than text (64-byte limit)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain import Category, Role, Topic


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


class StaffCb(CallbackData, prefix="s"):
    action: StaffAction
    ticket: int


class LangCb(CallbackData, prefix="l"):
    locale: str
