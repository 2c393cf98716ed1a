"""Personal data in the user's private chat: the notice and consent before a first question, a parent's
confirmation of a student, ``/mydata`` and ``/forget``.

The gate (:func:`create_gate_router`) is placed before every other router: a question from a user who has
not agreed to the current notice is kept as the draft of their question and the notice is shown; once
they agree, the dialog goes on where it would have (the draft is never lost). ``/start`` and the choice of
role and topic pass: they send nothing to staff, and the greeting answers at once, in one message, also in
a wave of hundreds of parents following a link from a class chat (issue 14). Other commands (``/help``,
``/contacts``, ``/mydata``, ``/forget``...) are not questions and pass.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, TelegramObject

from bot import keyboards
from bot.callbacks import ConsentAction, ConsentCb, DraftAction, DraftCb, ForgetAction, ForgetCb
from bot.delivery import Gateway
from bot.filters import PrivateChat
from bot.inbound import message_kind
from bot.states import AskQuestion, ConsentDialog
from handlers.private import commands
from handlers.private.question import MAX_ATTACHMENTS, add_to_draft, draft_from, show_summary
from helpdesk.clock import Clock
from helpdesk.domain import default_topic
from helpdesk.formatting import escape
from helpdesk.ports import USER_KINDS
from helpdesk.privacy import Consent, ParentOutcome, PersonalData
from helpdesk.rules.privacy import Gate
from helpdesk.school import SchoolProfile
from helpdesk.texts import Tr
from storage.users import User

PARENT_LINK_PREFIX = "pc-"


class Gated(Filter):
    """The user's question may not go to staff yet (``wanted``: which reasons this handler takes)."""

    def __init__(self, *wanted: Gate) -> None:
        self.wanted = frozenset(wanted)

    async def __call__(self, event: TelegramObject, consent: Consent, user: User | None = None) -> bool:
        if user is None:
            return False
        if isinstance(event, Message) and (
            not _asks(event.text or event.caption or "") or message_kind(event) not in USER_KINDS
        ):
            return False  # a command, or a sticker or voice message the question dialog turns down itself
        return await consent.gate(user) in self.wanted


def _asks(text: str) -> bool:
    """Is this message a question (or a parent's confirmation link)? Commands are not: ``/start`` and
    ``/role`` only lead to the question, and an invite for a specialist (``/start inv-...``) is no question."""
    if not text.startswith("/"):
        return True
    command, _, args = text[1:].partition(" ")
    return command.split("@")[0] == "start" and args.strip().startswith(PARENT_LINK_PREFIX)


def create_gate_router() -> Router:
    router = Router(name=f"{__name__}.gate")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.callback_query.register(consent_given, ConsentCb.filter(F.action == ConsentAction.AGREE))
    router.callback_query.register(consent_declined, ConsentCb.filter(F.action == ConsentAction.DECLINE))
    router.callback_query.register(
        send_before_consent, DraftCb.filter(F.action == DraftAction.SEND), Gated(Gate.CONSENT)
    )
    router.callback_query.register(
        send_before_parent, DraftCb.filter(F.action == DraftAction.SEND), Gated(Gate.PARENT)
    )
    router.message.register(before_consent, Gated(Gate.CONSENT))
    router.message.register(parent_link, CommandStart(deep_link=True, magic=F.args.startswith(PARENT_LINK_PREFIX)))
    return router


def create_router() -> Router:
    """``/mydata``, ``/forget`` and ``/privacy`` (the notice again), in the private chat."""
    router = Router(name=__name__)
    router.message.register(my_data, Command("mydata"))
    router.message.register(forget_asked, Command("forget"))
    router.message.register(show_notice, Command("privacy"))
    router.callback_query.register(forget_confirmed, ForgetCb.filter((F.action == ForgetAction.YES) & (F.user == 0)))
    router.callback_query.register(forget_cancelled, ForgetCb.filter((F.action == ForgetAction.NO) & (F.user == 0)))
    return router


# ---- the notice --------------------------------------------------------------------------------------


async def before_consent(message: Message, state: FSMContext, tr: Tr, consent: Consent) -> None:
    """A question (or /start) before the notice is agreed to: keep what was written, show the notice."""
    data: dict[str, Any] = await state.get_data()
    text = message.text or message.caption or ""
    if text.startswith("/start "):
        payload = text.split(maxsplit=1)[1].strip()
        if payload.startswith(PARENT_LINK_PREFIX):
            data["start_payload"] = payload
    elif not text.startswith("/"):
        updated = add_to_draft(draft_from(data), message)
        if updated is not None and len(updated.attachments) <= MAX_ATTACHMENTS:
            data["draft"] = updated.to_json()
    shown = await state.get_state() == ConsentDialog.notice.state
    await state.set_data(data)
    await state.set_state(ConsentDialog.notice)
    if shown:
        await message.answer(tr("privacy.use_buttons"), reply_markup=keyboards.consent(tr))
        return
    kept = "" if draft_from(data).empty else tr("privacy.draft_kept") + "\n\n"
    await message.answer(kept + consent.notice(tr), reply_markup=keyboards.consent(tr))


async def send_before_consent(callback: CallbackQuery, state: FSMContext, tr: Tr, consent: Consent) -> None:
    """«Отправить» pressed on a question composed before a new version of the notice."""
    await callback.answer()
    await state.set_state(ConsentDialog.notice)  # the draft, topic and category stay: the summary comes back
    assert isinstance(callback.message, Message)
    await callback.message.answer(consent.notice(tr), reply_markup=keyboards.consent(tr))


async def show_notice(message: Message, tr: Tr, consent: Consent, user: User) -> None:
    agreed = user.consent_version == consent.version
    await message.answer(
        consent.notice(tr) + ("\n\n" + tr("privacy.already_agreed") if agreed else ""),
        reply_markup=None if agreed else keyboards.consent(tr),
    )


async def _drop_buttons(callback: CallbackQuery, note: str) -> None:
    message = callback.message
    if isinstance(message, Message) and message.text is not None:
        await message.edit_text(f"{message.html_text}\n\n<b>→ {escape(note)}</b>", reply_markup=None)


async def consent_given(
    callback: CallbackQuery, state: FSMContext, tr: Tr, user: User, consent: Consent, bot: Bot, gateway: Gateway
) -> None:
    await consent.agree(user)
    await callback.answer()
    await _drop_buttons(callback, tr("privacy.agreed"))
    assert isinstance(callback.message, Message)
    message = callback.message
    data: dict[str, Any] = await state.get_data()
    payload = data.pop("start_payload", None)
    draft = draft_from(data)
    if isinstance(payload, str):
        await state.clear()
        await _confirm_child(message, tr, user, consent, payload)
        return
    if draft.empty:
        await state.clear()
        await commands.start(message, state, tr, user, gateway)
        return
    # The question written before agreeing goes on where it stopped.
    await state.set_data(data)
    if user.role is None:
        await state.set_state(AskQuestion.role)
        await message.answer(tr("new_question.start") + "\n\n" + tr("role.ask"), reply_markup=keyboards.roles(tr))
    elif "topic" in data and "category" in data:
        await show_summary(message, state, tr, user, data)
    else:
        await state.set_state(AskQuestion.topic)
        await message.answer(
            tr("new_question.start") + "\n\n" + tr("topic.ask"),
            reply_markup=keyboards.topics(tr, default_topic(user.role)),
        )


async def consent_declined(
    callback: CallbackQuery, state: FSMContext, tr: Tr, user: User, consent: Consent, school: SchoolProfile
) -> None:
    # Without consent nothing of the question is kept: the draft goes with the dialog.
    await consent.decline(user)
    await state.clear()
    await callback.answer()
    await _drop_buttons(callback, tr("privacy.declined_note"))
    assert isinstance(callback.message, Message)
    await callback.message.answer(
        tr("privacy.declined", phone=escape(school.phone), email=escape(school.email))
    )


# ---- a parent's confirmation -------------------------------------------------------------------------


async def send_before_parent(
    callback: CallbackQuery, state: FSMContext, tr: Tr, user: User, consent: Consent, bot: Bot
) -> None:
    """A student's question, when the school asks for a parent's confirmation first: the draft stays, the
    student gets a link to pass to a parent."""
    await callback.answer()
    data = await state.get_data()
    code = data.get("parent_code")
    if not isinstance(code, str):
        code = await consent.parent_code(user)
        await state.update_data(parent_code=code)
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={PARENT_LINK_PREFIX}{code}"
    assert isinstance(callback.message, Message)
    await callback.message.answer(tr("privacy.parent_needed", link=escape(link, quote=True)))


async def parent_link(message: Message, command: CommandObject, tr: Tr, user: User, consent: Consent) -> None:
    await _confirm_child(message, tr, user, consent, command.args or "")


async def _confirm_child(message: Message, tr: Tr, user: User, consent: Consent, payload: str) -> None:
    result = await consent.confirm_child(user, payload.removeprefix(PARENT_LINK_PREFIX))
    if result.outcome is ParentOutcome.CONFIRMED and result.student is not None:
        await message.answer(tr("privacy.parent_confirmed", name=escape(result.student.first_name or "—")))
    else:
        await message.answer(tr("privacy.parent_unknown"))


# ---- /mydata and /forget -----------------------------------------------------------------------------


async def my_data(
    message: Message, tr: Tr, user: User, personal_data: PersonalData, school: SchoolProfile, clock: Clock
) -> None:
    text = await personal_data.export(user)
    if text is None:
        await message.answer(tr("mydata.nothing"))
        return
    day = clock().astimezone(school.tz).strftime("%Y-%m-%d")
    await message.answer_document(
        BufferedInputFile(text.encode("utf-8"), filename=f"mydata-{day}.txt"), caption=tr("mydata.caption")
    )


async def forget_asked(message: Message, tr: Tr) -> None:
    await message.answer(tr("forget.ask"), reply_markup=keyboards.forget_confirm(tr))


async def forget_confirmed(
    callback: CallbackQuery,
    state: FSMContext,
    tr: Tr,
    user: User,
    personal_data: PersonalData,
    school: SchoolProfile,
) -> None:
    await callback.answer()
    await state.clear()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    done = await personal_data.forget(user)
    assert isinstance(callback.message, Message)
    closed = tr("forget.closed", numbers=", ".join(f"№{n}" for n in done.closed)) if done.closed else ""
    await callback.message.answer(tr("forget.done", closed=closed, days=school.privacy.conduct_days))


async def forget_cancelled(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(tr("forget.cancelled"))
