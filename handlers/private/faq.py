"""Reference materials for users: articles offered in the question dialog, /faq, and /contacts' text.

In the dialog (see ``question.py``) the offered articles are buttons; a press opens the article with
"помогло" (the dialog ends without a ticket, the answer is counted) and "нет, задать вопрос" (the dialog
goes on; the offered articles are noted on the ticket's card). ``/faq`` browses the articles by topic
and searches them by words (``/faq забыл пароль``, or the "Поиск" button and then the words).
"""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import FaqAction, FaqCb, KbAction, KbCb
from bot.filters import HasText
from bot.states import AskQuestion, FaqSearch
from handlers.private.question import draft_from, show_summary
from helpdesk.domain import Topic, default_topic
from helpdesk.formatting import escape, shorten
from helpdesk.kb_answers import AnswerOutcome, ArticleAnswers
from helpdesk.kb_feedback import KbFeedback
from helpdesk.rules.kb import KnowledgeBase
from helpdesk.rules.routing import format_user_schedule
from helpdesk.school import SchoolProfile
from helpdesk.texts import Tr
from storage.users import User

SEARCH_LIMIT = 5
QUERY_SHOWN = 60


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(article_opened, KbCb.filter(F.action == KbAction.OPEN))
    router.callback_query.register(ticket_article_answered, KbCb.filter(F.ticket > 0))
    router.callback_query.register(article_helped, KbCb.filter(F.action == KbAction.HELPED))
    router.callback_query.register(article_not_helped, KbCb.filter(F.action == KbAction.ASK))
    router.message.register(faq, Command("faq"))
    router.message.register(search_received, StateFilter(FaqSearch.query), HasText())
    router.message.register(search_expected, StateFilter(FaqSearch.query))
    router.callback_query.register(faq_pressed, FaqCb.filter())
    return router


def _in_dialog(state_name: str | None) -> bool:
    return state_name is not None and state_name.startswith(f"{AskQuestion.__full_group_name__}:")


async def _set_buttons(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        # Pressed twice before the first press changed the buttons: they are already right.
        if "message is not modified" not in exc.message:
            raise


# ---- offers in the question dialog ---------------------------------------------------------------


async def article_opened(
    callback: CallbackQuery, callback_data: KbCb, tr: Tr, user: User, kb: KnowledgeBase, kb_feedback: KbFeedback
) -> None:
    article = kb.article(callback_data.article, tr.locale)
    if article is None or not isinstance(callback.message, Message):
        await callback.answer(tr("kb.not_found"), show_alert=True)
        return
    await callback.answer()
    await callback.message.answer(
        f"{article.render()}\n\n{tr('kb.did_it_help')}", reply_markup=keyboards.kb_article(tr, article.id)
    )
    await kb_feedback.opened(user_id=user.id, article_id=article.id)


async def ticket_article_answered(
    callback: CallbackQuery, callback_data: KbCb, tr: Tr, user: User, article_answers: ArticleAnswers
) -> None:
    """«Помогло» / «нет» under an article a specialist sent in the user's ticket: the ticket records it, the
    specialist is told, and «помогло» teaches the knowledge base the question."""
    helped = callback_data.action is KbAction.HELPED
    outcome = await article_answers.answered(user, callback_data.ticket, callback_data.article, helped=helped)
    await callback.answer()
    if isinstance(callback.message, Message):
        await _set_buttons(callback.message, None)
        if outcome is not AnswerOutcome.DUPLICATE:
            await callback.message.answer(tr("kb.helped_thanks" if helped else "kb.ticket_declined"))


async def article_helped(
    callback: CallbackQuery,
    callback_data: KbCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb_feedback: KbFeedback,
) -> None:
    await kb_feedback.record(user_id=user.id, article_id=callback_data.article, helped=True)
    await callback.answer()
    if _in_dialog(await state.get_state()):
        # Solved without a ticket: the dialog ends, and an old "Отправить" must not send it later.
        summary_id = (await state.get_data()).get("summary_id")
        await state.clear()
        if isinstance(summary_id, int) and isinstance(callback.message, Message):
            bot = callback.message.bot
            assert bot is not None
            try:
                await bot.edit_message_reply_markup(
                    chat_id=callback.message.chat.id, message_id=summary_id, reply_markup=None
                )
            except Exception:
                pass  # already without buttons
    if isinstance(callback.message, Message):
        await _set_buttons(callback.message, None)
        await callback.message.answer(tr("kb.helped_thanks"))


async def article_not_helped(
    callback: CallbackQuery,
    callback_data: KbCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb_feedback: KbFeedback,
) -> None:
    await kb_feedback.record(user_id=user.id, article_id=callback_data.article, helped=False)
    await callback.answer()
    message = callback.message
    if not isinstance(message, Message):
        return
    await _set_buttons(message, None)
    current = await state.get_state()
    if current not in (AskQuestion.question.state, AskQuestion.confirm.state):
        if current is None:
            await message.answer(tr("kb.ask_start"))
        # Elsewhere in the dialog its own buttons are still there to go on with.
        return
    data = await state.get_data()
    if not draft_from(data).empty:
        await show_summary(message, state, tr, user, data)
        return
    await state.set_state(AskQuestion.question)
    await message.answer(
        tr(
            "question.ask",
            topic=tr(f"topic.short.{data['topic']}"),
            category=tr(f"category.{data['category']}"),
        )
    )


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        # A double tap shows the same page twice: nothing to change.
        if "message is not modified" not in exc.message:
            raise


# ---- /faq ----------------------------------------------------------------------------------------


def _first_topic(user: User) -> Topic:
    return default_topic(user.role) if user.role else Topic.DIARY


async def faq(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb: KnowledgeBase,
    kb_feedback: KbFeedback,
) -> None:
    if command.args and command.args.strip():
        await _show_results(message, tr, user, kb, kb_feedback, command.args.strip())
        return
    await message.answer(tr("faq.home"), reply_markup=keyboards.faq_home(tr, _first_topic(user)))


async def _show_results(
    message: Message, tr: Tr, user: User, kb: KnowledgeBase, kb_feedback: KbFeedback, query: str
) -> None:
    shown = escape(shorten(" ".join(query.split()), QUERY_SHOWN))
    matches = kb.search(query, locale=tr.locale, role=user.role, limit=SEARCH_LIMIT)
    if not matches:
        await message.answer(tr("faq.nothing", query=shown))
        return
    articles = [m.article for m in matches]
    await message.answer(
        tr("faq.results", query=shown), reply_markup=keyboards.faq_articles(tr, articles, None)
    )
    await kb_feedback.offered(user_id=user.id, article_ids=[a.id for a in articles])


async def search_received(
    message: Message, state: FSMContext, tr: Tr, user: User, kb: KnowledgeBase, kb_feedback: KbFeedback
) -> None:
    await state.set_state(None)
    await _show_results(message, tr, user, kb, kb_feedback, message.text or "")


async def search_expected(message: Message, tr: Tr) -> None:
    await message.answer(tr("faq.search_text_only"))


async def faq_pressed(
    callback: CallbackQuery,
    callback_data: FaqCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    kb: KnowledgeBase,
    kb_feedback: KbFeedback,
) -> None:
    message = callback.message
    if not isinstance(message, Message):
        await callback.answer(tr("menu.outdated"), show_alert=True)
        return
    action = callback_data.action
    if action is FaqAction.SEARCH:
        await callback.answer()
        if await state.get_state() is None:
            await state.set_state(FaqSearch.query)
            await message.answer(tr("faq.search_ask"))
        else:
            # Searching must not throw away a question being written: words go with the command.
            await message.answer(tr("faq.search_with_command"))
        return
    if action is FaqAction.ARTICLE:
        article = kb.article(callback_data.article, tr.locale)
        if article is None:
            await callback.answer(tr("kb.not_found"), show_alert=True)
            return
        await callback.answer()
        await _edit(
            message, article.render(), keyboards.faq_article(tr, callback_data.topic, callback_data.page)
        )
        await kb_feedback.opened(user_id=user.id, article_id=article.id)
        return
    await callback.answer()
    if action is FaqAction.TOPIC and callback_data.topic is not None:
        topic = callback_data.topic
        articles = kb.by_topic(topic, tr.locale)
        pages = keyboards.faq_pages(len(articles))
        page = min(max(callback_data.page, 0), pages - 1)  # a stale page of a list that became shorter
        text = tr("faq.topic", topic=tr(f"topic.{topic.value}"), count=len(articles))
        if pages > 1:
            text += "\n" + tr("routing.faq_page", page=page + 1, pages=pages)
        await _edit(message, text, keyboards.faq_articles(tr, articles, topic, page))
        return
    await _edit(message, tr("faq.home"), keyboards.faq_home(tr, _first_topic(user)))


# ---- /contacts -----------------------------------------------------------------------------------


def contacts_text(tr: Tr, school: SchoolProfile, today: date) -> str:
    """The school's phone and e-mail, the consultation schedule, the vendor's support desk."""
    lines = [tr("contacts.title", name=escape(school.short_name))]
    lines.append(tr("contacts.phone", phone=escape(school.phone)))
    lines.append(tr("contacts.email", email=escape(school.email)))
    if school.address:
        lines.append(tr("contacts.address", address=escape(school.address)))
    lines.append("")
    lines.append(format_user_schedule(school, today, tr))
    vendor = school.vendor
    lines.append("")
    lines.append(tr("contacts.vendor_title", name=escape(vendor.name)))
    lines.append(tr("contacts.vendor_hours", hours=escape(vendor.hours)))
    if vendor.phone:
        lines.append(tr("contacts.vendor_phone", phone=escape(vendor.phone)))
    if vendor.email:
        lines.append(tr("contacts.vendor_email", email=escape(vendor.email)))
    if vendor.url:
        lines.append(tr("contacts.vendor_url", url=escape(vendor.url)))
    if vendor.rules:
        lines.append(f"<i>{escape(vendor.rules)}</i>")
    lines.append("")
    lines.append(tr("contacts.more"))
    return "\n".join(lines)
