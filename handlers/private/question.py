"""The question dialog: role → topic → category → question → confirmation → ticket."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.albums import Albums
from bot.callbacks import CategoryCb, DraftAction, DraftCb, RoleCb, TopicCb
from bot.inbound import file_id_of, message_kind
from bot.states import AskQuestion
from helpdesk.domain import Category, Role, Topic, categories_for, default_topic
from helpdesk.formatting import escape, shorten
from helpdesk.kb_feedback import KbFeedback
from helpdesk.ports import USER_KINDS
from helpdesk.rules.kb import Article, KnowledgeBase
from helpdesk.store import Attachment, Draft, Store
from helpdesk.texts import Tr
from helpdesk.tickets import Tickets
from storage.users import User

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 10
SUMMARY_QUESTION_LIMIT = 3000


def create_router() -> Router:
    router = Router(name=__name__)
    # Buttons. The role may be (re)chosen from any state; the others only where they belong.
    router.callback_query.register(role_chosen, RoleCb.filter())
    router.callback_query.register(topic_chosen, StateFilter(AskQuestion.topic), TopicCb.filter())
    router.callback_query.register(category_chosen, StateFilter(AskQuestion.category), CategoryCb.filter())
    router.callback_query.register(
        draft_sent, StateFilter(AskQuestion.confirm), DraftCb.filter(F.action == DraftAction.SEND)
    )
    router.callback_query.register(
        draft_change_topic, StateFilter(AskQuestion.confirm), DraftCb.filter(F.action == DraftAction.CHANGE)
    )
    router.callback_query.register(
        draft_cancelled, StateFilter(AskQuestion.confirm), DraftCb.filter(F.action == DraftAction.CANCEL)
    )
    # Messages while a button is expected: keep what was written, point at the buttons.
    # Messages here are answers within the dialog: a message in no dialog skips the router in one check.
    router.message.filter(StateFilter(AskQuestion))
    router.message.register(button_expected, StateFilter(AskQuestion.role))
    router.message.register(button_expected, StateFilter(AskQuestion.topic))
    router.message.register(button_expected, StateFilter(AskQuestion.category))
    # The question itself, and additions to it before it is sent.
    router.message.register(question_received, StateFilter(AskQuestion.question))
    router.message.register(question_received, StateFilter(AskQuestion.confirm))
    return router


def draft_from(data: dict[str, Any]) -> Draft:
    return Draft.from_json(data.get("draft"))


def add_to_draft(draft: Draft, message: Message) -> Draft | None:
    """The draft with ``message`` added, or None if this kind of message cannot be part of a question."""
    kind = message_kind(message)
    if kind not in USER_KINDS:
        return None
    if kind == "text":
        return draft.add(message.text or "", None)
    attachment = Attachment(
        kind=kind,
        chat_id=message.chat.id,
        message_id=message.message_id,
        file_id=file_id_of(message),
        caption=message.caption or "",
    )
    return draft.add("", attachment)


async def _drop_buttons(callback: CallbackQuery, note: str | None = None) -> None:
    message = callback.message
    if isinstance(message, Message):
        if note is not None and message.text is not None:
            await message.edit_text(f"{message.html_text}\n<b>→ {escape(note)}</b>", reply_markup=None)
        else:
            await message.edit_reply_markup(reply_markup=None)


async def ask_topic(message: Message, state: FSMContext, tr: Tr, role: Role) -> None:
    await state.set_state(AskQuestion.topic)
    await message.answer(tr("topic.ask"), reply_markup=keyboards.topics(tr, default_topic(role)))


async def role_chosen(
    callback: CallbackQuery,
    callback_data: RoleCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    store: Store,
) -> None:
    await store.set_role(user, callback_data.role)
    await callback.answer()
    await _drop_buttons(callback, tr(f"role.{callback_data.role.value}"))
    assert isinstance(callback.message, Message)
    await ask_topic(callback.message, state, tr, callback_data.role)


async def topic_chosen(
    callback: CallbackQuery, callback_data: TopicCb, state: FSMContext, tr: Tr, user: User
) -> None:
    if user.role is None:
        await callback.answer()
        await state.set_state(AskQuestion.role)
        assert isinstance(callback.message, Message)
        await callback.message.answer(tr("role.ask"), reply_markup=keyboards.roles(tr))
        return
    topic = callback_data.topic
    await state.update_data(topic=topic.value)
    await state.set_state(AskQuestion.category)
    await callback.answer()
    await _drop_buttons(callback, tr(f"topic.{topic.value}"))
    assert isinstance(callback.message, Message)
    await callback.message.answer(
        tr("category.ask", topic=tr(f"topic.{topic.value}")),
        reply_markup=keyboards.categories(tr, categories_for(user.role, topic)),
    )


async def category_chosen(
    callback: CallbackQuery,
    callback_data: CategoryCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb: KnowledgeBase,
    kb_feedback: KbFeedback,
) -> None:
    data = await state.update_data(category=callback_data.category.value)
    await callback.answer()
    await _drop_buttons(callback, tr(f"category.{callback_data.category.value}"))
    assert isinstance(callback.message, Message)
    draft = draft_from(data)
    if not draft.empty:
        offer = matching_articles(tr, user, kb, data)
        await show_summary(callback.message, state, tr, user, data, offer=offer, kb_feedback=kb_feedback)
        return
    await state.set_state(AskQuestion.question)
    # Self-help first: the articles for this role, topic and category, offered in the same message that asks
    # for the question (one message per step: Telegram paces a chat at about one message a second).
    articles = kb.for_context(user.role, Topic(data["topic"]), callback_data.category, tr.locale)
    fresh = fresh_offers(data, articles)
    prompt = tr(
        "question.ask",
        topic=tr(f"topic.short.{data['topic']}"),
        category=tr(f"category.{callback_data.category.value}"),
    )
    if not fresh:
        await callback.message.answer(prompt)
        return
    await callback.message.answer(
        f"{tr('kb.offer.before')}\n\n{prompt}", reply_markup=keyboards.kb_offer(article_buttons(fresh))
    )
    await kb_feedback.offered(user_id=user.id, article_ids=[a.id for a in fresh])
    await state.update_data(offered=[*offered_from(data), *(a.id for a in fresh)])


async def show_summary(
    message: Message,
    state: FSMContext,
    tr: Tr,
    user: User,
    data: dict[str, Any],
    *,
    offer: Sequence[Article] = (),
    kb_feedback: KbFeedback | None = None,
) -> None:
    """The draft to check before sending, with its buttons; ``offer``: articles that match the question,
    offered at the top of the same message (those offered before in this dialog are left out)."""
    draft = draft_from(data)
    fresh = fresh_offers(data, offer)
    previous = data.get("summary_id")
    if isinstance(previous, int):
        # Only the newest summary keeps its "Send", so an old one cannot be pressed twice; the articles it
        # offered stay.
        kept = _pairs(data.get("summary_offer"))
        try:
            await message.bot.edit_message_reply_markup(  # type: ignore[union-attr]
                chat_id=message.chat.id,
                message_id=previous,
                reply_markup=keyboards.kb_offer(kept) if kept else None,
            )
        except Exception:
            pass
    attachments = tr("confirm.attachments", count=len(draft.attachments)) if draft.attachments else ""
    question = (
        shorten(draft.text, SUMMARY_QUESTION_LIMIT, tr("confirm.truncated"))
        if draft.text
        else tr("confirm.no_text")
    )
    role = user.role.value if user.role else Role.PARENT.value
    summary = tr(
        "confirm.summary",
        role=tr(f"role.{role}"),
        topic=tr(f"topic.short.{data['topic']}"),
        category=tr(f"category.{data['category']}"),
        question=escape(question),
        attachments=attachments,
    )
    buttons = article_buttons(fresh)
    sent = await message.answer(
        f"{tr('kb.offer.after')}\n\n{summary}" if fresh else summary,
        reply_markup=keyboards.draft(tr, buttons),
    )
    changes: dict[str, Any] = {"summary_id": sent.message_id, "summary_offer": [list(b) for b in buttons]}
    if fresh and kb_feedback is not None:
        await kb_feedback.offered(user_id=user.id, article_ids=[a.id for a in fresh])
    if fresh:
        changes["offered"] = [*offered_from(data), *(a.id for a in fresh)]
    await state.update_data(changes)
    await state.set_state(AskQuestion.confirm)


def offered_from(data: dict[str, Any]) -> list[str]:
    """Ids of the articles already offered in this dialog (noted on the ticket's card)."""
    return [a for a in data.get("offered", []) if isinstance(a, str)]


def fresh_offers(data: dict[str, Any], articles: Sequence[Article]) -> list[Article]:
    """The articles not offered yet in this dialog, at most three."""
    offered = offered_from(data)
    return [a for a in articles if a.id not in offered][:3]


def article_buttons(articles: Sequence[Article]) -> list[tuple[str, str]]:
    return [(a.id, a.title) for a in articles]


def _pairs(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    return [(str(p[0]), str(p[1])) for p in value if isinstance(p, list) and len(p) == 2]


def matching_articles(tr: Tr, user: User, kb: KnowledgeBase, data: dict[str, Any]) -> list[Article]:
    """Articles matching the words of the typed question, offered with the summary."""
    draft = draft_from(data)
    if not draft.text or "topic" not in data or "category" not in data:
        return []
    matches = kb.search(
        draft.text,
        locale=tr.locale,
        role=user.role,
        topic=Topic(data["topic"]),
        category=Category(data["category"]),
        limit=3,
    )
    return [m.article for m in matches]


def in_draft(draft: Draft, message: Message) -> bool:
    """Is ``message`` kept in the draft already (a part of an album handled again after a restart)?"""
    return any(a.chat_id == message.chat.id and a.message_id == message.message_id for a in draft.attachments)


async def question_received(
    message: Message,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb: KnowledgeBase,
    kb_feedback: KbFeedback,
    albums: Albums,
) -> None:
    data = await state.get_data()
    draft = draft_from(data)
    album = message.media_group_id
    if album is not None and in_draft(draft, message):
        updated: Draft | None = draft
    else:
        updated = add_to_draft(draft, message)
    if updated is None:
        await message.answer(tr("input.unsupported"))
        return
    if len(updated.attachments) > MAX_ATTACHMENTS:
        if album is not None:
            # The summary that answers the album says what was kept; the rest is named once there.
            await state.update_data(album_refused=album)
        else:
            await message.answer(tr("input.too_many_attachments", count=MAX_ATTACHMENTS))
            return
    else:
        data = await state.update_data(draft=updated.to_json())
    if album is not None:
        # One summary for the whole album, once its last part has come.
        albums.part(
            message.chat.id, album, lambda: album_settled(message, state, tr, user, kb, kb_feedback, album)
        )
        return
    offer = matching_articles(tr, user, kb, data)
    await show_summary(message, state, tr, user, data, offer=offer, kb_feedback=kb_feedback)


async def album_settled(
    message: Message,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb: KnowledgeBase,
    kb_feedback: KbFeedback,
    album: str,
) -> None:
    """The album's parts are in the draft: one summary for all of them."""
    if await state.get_state() not in (AskQuestion.question.state, AskQuestion.confirm.state):
        return  # the dialog ended meanwhile (/cancel, sent)
    data = await state.get_data()
    if data.get("album_refused") == album:
        data = await state.update_data(album_refused=None)
        await message.answer(tr("input.too_many_attachments", count=MAX_ATTACHMENTS))
    offer = matching_articles(tr, user, kb, data)
    await show_summary(message, state, tr, user, data, offer=offer, kb_feedback=kb_feedback)


async def button_expected(message: Message, state: FSMContext, tr: Tr, user: User, albums: Albums) -> None:
    data = await state.get_data()
    draft = draft_from(data)
    album = message.media_group_id
    updated = draft if album is not None and in_draft(draft, message) else add_to_draft(draft, message)
    if updated is not None and updated is not draft and len(updated.attachments) <= MAX_ATTACHMENTS:
        await state.update_data(draft=updated.to_json())
    if album is not None:
        if data.get("album") == album:
            return  # the rest of the album that started this question: its first part asked already
        albums.part(message.chat.id, album, lambda: point_at_buttons(message, state, tr, user, updated is not None))
        return
    await point_at_buttons(message, state, tr, user, updated is not None)


async def point_at_buttons(message: Message, state: FSMContext, tr: Tr, user: User, kept: bool) -> None:
    """What was written is kept: the buttons of the current step, again."""
    data = await state.get_data()
    current = await state.get_state()
    if current not in (AskQuestion.role.state, AskQuestion.topic.state, AskQuestion.category.state):
        return  # a button was pressed meanwhile (an album's parts settle after a second)
    if current == AskQuestion.role.state or user.role is None:
        markup = keyboards.roles(tr)
    elif current == AskQuestion.category.state and data.get("topic"):
        markup = keyboards.categories(tr, categories_for(user.role, Topic(data["topic"])))
    else:
        markup = keyboards.topics(tr, default_topic(user.role))
    hint = tr("input.use_buttons") if kept else tr("input.unsupported") + "\n" + tr("input.use_buttons")
    await message.answer(hint, reply_markup=markup)


async def draft_sent(
    callback: CallbackQuery, state: FSMContext, tr: Tr, user: User, tickets: Tickets
) -> None:
    data = await state.get_data()
    draft = draft_from(data)
    assert isinstance(callback.message, Message)
    if draft.empty or user.role is None or "topic" not in data or "category" not in data:
        await callback.answer(tr("menu.outdated"), show_alert=True)
        return
    await callback.answer()
    await _drop_buttons(callback)
    offered = tuple(str(a) for a in data.get("offered", []) if isinstance(a, str))
    await tickets.open(
        user,
        role=user.role,
        topic=Topic(data["topic"]),
        category=Category(data["category"]),
        draft=draft,
        offered_articles=offered,
        origin=f"tg:{callback.message.chat.id}:{callback.message.message_id}",
    )
    # The ticket is stored (a press handled again finds it by its origin): the dialog is over.
    await state.clear()


async def draft_change_topic(callback: CallbackQuery, state: FSMContext, tr: Tr, user: User) -> None:
    await callback.answer()
    await _drop_buttons(callback)
    assert isinstance(callback.message, Message)
    await ask_topic(callback.message, state, tr, user.role or Role.PARENT)


async def draft_cancelled(callback: CallbackQuery, state: FSMContext, tr: Tr) -> None:
    await state.clear()
    await callback.answer()
    await _drop_buttons(callback)
    assert isinstance(callback.message, Message)
    await callback.message.answer(tr("cancel.dialog"))
