"""Sending: sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction, copyMessage(s),
forwardMessage, and the send path they share (target chat, reply, thread, files)."""

from __future__ import annotations

import copy
import mimetypes
import re
from typing import Any

from ..html import entities_to_html
from ..spec import ApiError, Upload, bad_request
from ..state import FakeChat, FileRecord, Msg
from .base import BotApi
from .registry import JsonDict, Request, method

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def prepare_send(api: BotApi, p: JsonDict) -> tuple[FakeChat, int | None, Msg | None]:
    chat = api.target_chat(api.require(p, "chat_id"))
    reply_to = reply_target(api, chat, p)
    thread = resolve_thread(api, chat, p, reply_to)
    reply_to = check_reply_thread(api, chat, thread, reply_to, p)
    return chat, thread, reply_to


def reply_target(api: BotApi, chat: FakeChat, p: JsonDict) -> Msg | None:
    rp = p.get("reply_parameters")
    allow = bool(p.get("allow_sending_without_reply", False))
    mid: int | None = None
    source = chat
    if isinstance(rp, dict):
        mid = int(rp["message_id"])
        allow = bool(rp.get("allow_sending_without_reply", allow))
        if rp.get("chat_id") is not None:
            other = api.chat_by_ref(rp["chat_id"])
            if other is None:
                raise bad_request("chat not found")
            if other is not chat:
                api.warn("reply_parameters.chat_id of another chat: external replies are not emulated")
                return None
            source = other
    elif p.get("reply_to_message_id") not in (None, ""):
        try:
            mid = int(p["reply_to_message_id"])
        except (TypeError, ValueError):
            raise bad_request('field "reply_to_message_id" must be of type Integer') from None
    if mid is None:
        return None
    msg = api.w.find_message(source, mid)
    if msg is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return msg


def resolve_thread(api: BotApi, chat: FakeChat, p: JsonDict, reply_to: Msg | None) -> int | None:
    tid = p.get("message_thread_id")
    if chat.is_private:
        if tid is not None:
            api.warn(f"message_thread_id={tid} in a private chat ignored (topics in private chats not emulated)")
        return None
    if chat.is_forum:
        if tid is None:
            if reply_to is not None and reply_to.raw.get("is_topic_message"):
                return reply_to.thread_id
            return None
        topic = chat.live_topic(int(tid))
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed and not api.w.bot_can(chat, "can_manage_topics"):
            raise bad_request("TOPIC_CLOSED")
        return topic.thread_id
    if chat.is_basic_group:
        if tid is not None:
            raise bad_request("message thread not found")
        return None  # basic groups have no threads, not even reply threads
    # plain supergroup: reply threads
    if tid is None:
        if reply_to is not None:
            return reply_to.thread_id or reply_to.message_id
        return None
    if api.w.find_message(chat, int(tid)) is None:
        raise bad_request("message thread not found")
    return int(tid)


def check_reply_thread(api: BotApi, chat: FakeChat, thread: int | None, reply_to: Msg | None, p: JsonDict) -> Msg | None:
    if reply_to is None or not chat.is_forum:
        return reply_to
    if (reply_to.thread_id if reply_to.raw.get("is_topic_message") else None) != thread:
        rp = p.get("reply_parameters") or {}
        if rp.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return reply_to


def send(
    api: BotApi,
    p: JsonDict,
    kind: str,
    content: JsonDict,
    *,
    html: str | None = None,
    file_name: str | None = None,
    prepared: tuple[FakeChat, int | None, Msg | None] | None = None,
) -> Msg:
    chat, thread, reply_to = prepared or prepare_send(api, p)
    return api.w.store_message(
        chat,
        api.w.bot,
        from_bot=True,
        kind=kind,
        content=content,
        thread_id=thread,
        reply_to=reply_to,
        reply_markup=api.markup(p),
        html=html,
        file_name=file_name,
    )


def input_file(api: BotApi, value: Any, kind: str, file_name_hint: str | None = None) -> FileRecord | list[JsonDict]:
    """Resolve an InputFile-or-String parameter; photos yield a PhotoSize list."""
    if isinstance(value, Upload):
        if kind == "photo":
            return api.w.new_photo(value.data, sizes=2)
        mime = value.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
        return api.w.new_file(value.data, kind, file_name=value.filename, mime_type=mime)
    ref = str(value)
    if re.match(r"^https?://", ref):
        api.warn(f"{kind} by URL {ref!r}: not downloaded, an empty placeholder file is used")
        if kind == "photo":
            return api.w.new_photo(b"", sizes=2)
        name = ref.rstrip("/").rsplit("/", 1)[-1] or file_name_hint or "file"
        return api.w.new_file(b"", kind, file_name=name, mime_type=mimetypes.guess_type(name)[0])
    rec = api.w.files.get(ref.strip())
    if rec is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if rec.kind != kind:
        raise bad_request(f"can't use file of type {_type_title(rec.kind)} as {_type_title(kind)}")
    if kind == "photo":
        return api.w.photo_sets.get(rec.file_id) or [
            {
                "file_id": rec.file_id,
                "file_unique_id": rec.file_unique_id,
                "width": rec.width,
                "height": rec.height,
                "file_size": rec.file_size,
            }
        ]
    return rec


def media_content(
    api: BotApi, kind: str, value: Any, caption: str | None, caption_entities: list[JsonDict], p: JsonDict
) -> tuple[JsonDict, str | None]:
    res = input_file(api, value, kind)
    content: JsonDict = {}
    file_name: str | None = None
    if kind == "photo":
        assert isinstance(res, list)
        content["photo"] = res
    else:
        assert isinstance(res, FileRecord)
        d = api.w.document_dict(res)
        if kind == "document":
            file_name = res.file_name
        content[kind] = d
    if caption:
        content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        if p.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
    if p.get("has_spoiler"):
        content["has_media_spoiler"] = True
    return content, file_name


@method("sendMessage")
def send_message(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    prepared = prepare_send(api, p)
    text, ents, html = api.formatted(p, "text", "parse_mode", "entities", caption=False)
    content: JsonDict = {"text": text}
    if ents:
        content["entities"] = ents
    lpo = p.get("link_preview_options")
    if isinstance(lpo, dict) and lpo:
        content["link_preview_options"] = lpo
    return api.raw(send(api, p, "text", content, html=html, prepared=prepared))


def _send_media(api: BotApi, req: Request, kind: str) -> JsonDict:
    p = req.params
    prepared = prepare_send(api, p)
    caption, cents, html = api.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
    content, file_name = media_content(api, kind, p[kind], caption, cents, p)
    return api.raw(send(api, p, kind, content, html=html, file_name=file_name, prepared=prepared))


@method("sendPhoto")
def send_photo(api: BotApi, req: Request) -> JsonDict:
    return _send_media(api, req, "photo")


@method("sendDocument")
def send_document(api: BotApi, req: Request) -> JsonDict:
    return _send_media(api, req, "document")


@method("sendMediaGroup")
def send_media_group(api: BotApi, req: Request) -> list[JsonDict]:
    p = req.params
    media = p["media"]
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the album: must be 2-10")
    kinds = {m["type"] for m in media}
    if len(kinds) > 1 and ("document" in kinds or "audio" in kinds):
        raise bad_request(f"{'document' if 'document' in kinds else 'audio'} can't be mixed with other media types")
    prepared = prepare_send(api, p)
    group_id = api.w.new_media_group_id()
    items: list[tuple[str, JsonDict, str | None, str | None]] = []
    for m in media:
        kind = str(m["type"])
        if kind not in ("photo", "document"):
            raise ApiError(501, f"fakegram: media group item type {kind} is not emulated")
        value: Any = m["media"]
        if isinstance(value, str) and value.startswith("attach://"):
            key = value[len("attach://") :]
            if key not in req.uploads:
                raise bad_request(f"file for attach://{key} is not found in the request")
            value = req.uploads[key]
        caption, cents, html = api.formatted(m, "caption", "parse_mode", "caption_entities", caption=True)
        content, file_name = media_content(api, kind, value, caption, cents, m)
        content["media_group_id"] = group_id
        items.append((kind, content, html, file_name))
    out = []
    for kind, content, html, file_name in items:
        msg = api.w.store_message(
            prepared[0],
            api.w.bot,
            from_bot=True,
            kind=kind,
            content=content,
            thread_id=prepared[1],
            reply_to=prepared[2],
            html=html,
            file_name=file_name,
        )
        out.append(api.raw(msg))
    return out


@method("sendChatAction")
def send_chat_action(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat(api.require(p, "chat_id"))
    if str(p["action"]) not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    resolve_thread(api, chat, p, None)
    return True


def _copy_content(api: BotApi, src: Msg) -> tuple[str, JsonDict]:
    if src.kind == "service":
        raise bad_request("message can't be copied")
    keep = (
        "text",
        "entities",
        "photo",
        "document",
        "sticker",
        "voice",
        "video_note",
        "video",
        "audio",
        "animation",
        "location",
        "contact",
        "caption",
        "caption_entities",
        "has_media_spoiler",
        "show_caption_above_media",
        "link_preview_options",
    )
    return src.kind, {k: copy.deepcopy(v) for k, v in src.raw.items() if k in keep}


def _source(api: BotApi, p: JsonDict, action: str) -> tuple[FakeChat, Msg]:
    src_chat = api.visible_chat(api.require(p, "from_chat_id"))
    src = api.message_in(src_chat, api.require(p, "message_id", "message identifier is not specified"), action)
    return src_chat, src


@method("copyMessage")
def copy_message(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    _, src = _source(api, p, "copy")
    kind, content = _copy_content(api, src)
    prepared = prepare_send(api, p)
    html = src.html
    if "caption" in p and kind != "text":
        caption, cents, html = api.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
        content.pop("caption", None)
        content.pop("caption_entities", None)
        if caption:
            content["caption"] = caption
            if cents:
                content["caption_entities"] = cents
    elif src.html is None and (content.get("entities") or content.get("caption_entities")):
        html = entities_to_html(
            content.get("text") or content.get("caption") or "",
            content.get("entities") or content.get("caption_entities") or [],
        )
    msg = send(api, p, kind, content, html=html, file_name=src.file_name, prepared=prepared)
    return {"message_id": msg.message_id}


@method("copyMessages")
def copy_messages(api: BotApi, req: Request) -> list[JsonDict]:
    p = req.params
    src_chat = api.visible_chat(api.require(p, "from_chat_id"))
    ids = [int(x) for x in p["message_ids"]]
    if not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    prepared = prepare_send(api, p)
    out = []
    for mid in ids:
        src = api.w.find_message(src_chat, mid)
        if src is None or src.kind == "service":
            continue
        kind, content = _copy_content(api, src)
        if p.get("remove_caption"):
            content.pop("caption", None)
            content.pop("caption_entities", None)
        msg = api.w.store_message(
            prepared[0], api.w.bot, from_bot=True, kind=kind, content=content, thread_id=prepared[1],
            file_name=src.file_name, html=src.html,
        )
        out.append({"message_id": msg.message_id})
    if not out:
        raise bad_request("there are no messages to copy")
    return out


@method("forwardMessage")
def forward_message(api: BotApi, req: Request) -> JsonDict:
    p = req.params
    _, src = _source(api, p, "forward")
    if src.kind == "service":
        raise bad_request("message can't be forwarded")
    kind, content = _copy_content(api, src)
    sender = src.raw.get("from") or api.w.bot.to_dict()
    origin = src.raw.get("forward_origin") or {"type": "user", "date": src.raw["date"], "sender_user": sender}
    content["forward_origin"] = copy.deepcopy(origin)
    prepared = prepare_send(api, p)
    msg = api.w.store_message(
        prepared[0], api.w.bot, from_bot=True, kind=kind, content=content, thread_id=prepared[1],
        file_name=src.file_name, html=src.html,
    )
    return api.raw(msg)


def _type_title(kind: str) -> str:
    return {"video_note": "VideoNote"}.get(kind, kind.capitalize())
