"""Editing and deleting the bot's messages: editMessageText, editMessageCaption, editMessageReplyMarkup,
deleteMessage, deleteMessages."""

from __future__ import annotations

from ..spec import ApiError, bad_request
from ..state import FakeChat, Msg
from .base import BotApi
from .registry import JsonDict, Request, method


def _editable(api: BotApi, p: JsonDict) -> tuple[FakeChat, Msg]:
    if p.get("inline_message_id"):
        raise ApiError(501, "fakegram: editing inline messages (inline_message_id) is not emulated")
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    msg = api.message_in(chat, p.get("message_id"), "edit")
    if not msg.from_bot or msg.kind == "service":
        raise bad_request("message can't be edited")
    return chat, msg


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly the same as a "
        "current content and reply markup of the message"
    )


def _apply_edit(api: BotApi, msg: Msg, changes: JsonDict, markup: JsonDict | None, html: str | None) -> JsonDict:
    msg.edits.append(msg.text if msg.kind == "text" else msg.caption)
    for key, value in changes.items():
        if value in (None, [], ""):
            msg.raw.pop(key, None)
        else:
            msg.raw[key] = value
    if markup and markup.get("inline_keyboard"):
        msg.raw["reply_markup"] = markup
    else:
        msg.raw.pop("reply_markup", None)
    msg.raw["edit_date"] = int(api.w.clock())
    msg.html = html
    api.w.bump()
    return api.raw(msg)


@method("editMessageText")
def edit_message_text(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    _, msg = _editable(api, p)
    if msg.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text, ents, html = api.formatted(p, "text", "parse_mode", "entities", caption=False)
    markup = api.markup(p)
    if text == msg.text and ents == msg.entities and markup == msg.reply_markup:
        raise _not_modified()
    return _apply_edit(api, msg, {"text": text, "entities": ents}, markup, html)


@method("editMessageCaption")
def edit_message_caption(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    _, msg = _editable(api, p)
    if msg.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    caption, cents, html = api.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
    markup = api.markup(p)
    same_caption = (caption or None) == msg.caption and cents == list(msg.raw.get("caption_entities") or [])
    if same_caption and markup == msg.reply_markup:
        raise _not_modified()
    return _apply_edit(api, msg, {"caption": caption, "caption_entities": cents}, markup, html)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    _, msg = _editable(api, p)
    markup = api.markup(p)
    if markup == msg.reply_markup:
        raise _not_modified()
    msg.edits.append(msg.text if msg.kind == "text" else msg.caption)
    if markup:
        msg.raw["reply_markup"] = markup
    else:
        msg.raw.pop("reply_markup", None)
    msg.raw["edit_date"] = int(api.w.clock())
    api.w.bump()
    return api.raw(msg)


def _delete(api: BotApi, chat: FakeChat, msg: Msg) -> None:
    if msg.kind == "service" and msg.raw.get("forum_topic_created"):
        raise bad_request("message can't be deleted")
    if not chat.is_private and not msg.from_bot and not api.w.bot_can(chat, "can_delete_messages"):
        raise bad_request("message can't be deleted")
    msg.deleted = True
    api.w.bump()


@method("deleteMessage")
def delete_message(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    msg = api.message_in(chat, p.get("message_id"), "delete")
    _delete(api, chat, msg)
    return True


@method("deleteMessages")
def delete_messages(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    found = False
    for mid in p["message_ids"]:
        msg = api.w.find_message(chat, int(mid))
        if msg is not None:
            _delete(api, chat, msg)
            found = True
    if not found:
        raise bad_request("message to delete not found")
    return True
