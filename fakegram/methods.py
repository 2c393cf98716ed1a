"""Implementations of the emulated Bot API methods (state checks + results)."""

from __future__ import annotations

import copy
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .html import EntityParseError, entities_to_html, parse_formatted, strip_text, utf16_len
from .spec import ApiError, Upload, bad_request, forbidden
from .state import ADMIN_RIGHTS, CallAnswer, FakeChat, FakeUser, FileRecord, Msg
from .world import DEFAULT_UPDATE_TYPES, World

JsonDict = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
TOPIC_NAME_LIMIT = 128

BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
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
NOT_FOUND_DETAIL = {
    "edit": "message to edit not found",
    "delete": "message to delete not found",
    "copy": "message to copy not found",
    "forward": "message to forward not found",
    "pin": "message to pin not found",
    "react": "message to react not found",
}
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass
class Request:
    method: str
    params: JsonDict
    uploads: dict[str, Upload] = field(default_factory=dict)


Handler = Callable[[Request], Any]


class NotEmulated(Exception):
    pass


class BotApi:
    """Bot API method handlers; ``call`` dispatches by exact method name."""

    def __init__(self, world: World, *, strict_html_entities: bool = True) -> None:
        self.w = world
        self.strict_html_entities = strict_html_entities

    def handler(self, method: str) -> Callable[[Request], Any] | None:
        fn = getattr(self, f"m_{method}", None)
        return fn if callable(fn) else None

    async def call(self, req: Request) -> Any:
        fn = self.handler(req.method)
        if fn is None:
            raise ApiError(501, f"fakegram: method {req.method} is not emulated")
        result = fn(req)
        if isinstance(result, Awaitable):
            result = await result
        return result

    # ==== helpers ==================================================================================
    def warn(self, text: str) -> None:
        self.w.warnings.append(text)

    def chat_by_ref(self, ref: Any) -> FakeChat | None:
        chat = self._chat_by_ref(ref)
        if chat is not None and chat.migrated_to is not None:
            # Whatever the method, naming a group that became a supergroup fails like this on Telegram.
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": chat.migrated_to},
                rejected=False,
            )
        return chat

    def _chat_by_ref(self, ref: Any) -> FakeChat | None:
        if isinstance(ref, int):
            return self.w.chats.get(ref)
        if isinstance(ref, str):
            if ref.startswith("@"):
                name = ref[1:].lower()
                for chat in self.w.chats.values():
                    if not chat.is_private and chat.username and chat.username.lower() == name:
                        return chat
                return None
            if re.fullmatch(r"-?\d+", ref.strip()):
                return self.w.chats.get(int(ref))
        return None

    def require(self, p: JsonDict, name: str, detail: str | None = None) -> Any:
        if p.get(name) is None:
            raise bad_request(detail or f"{name} is empty")
        return p[name]

    def visible_chat(self, ref: Any) -> FakeChat:
        """A chat the bot can read (getChat, copy source, ...)."""
        chat = self.chat_by_ref(ref)
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_private:
            user = chat.user
            assert user is not None
            if not user.started and not self.shares_group(user):
                raise bad_request("chat not found")
            return chat
        self.check_bot_member(chat)
        return chat

    def check_bot_member(self, chat: FakeChat) -> None:
        if chat.bot_status == "left":
            raise forbidden("bot is not a member of the supergroup chat")
        if chat.bot_status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")

    def shares_group(self, user: FakeUser) -> bool:
        return any(
            not c.is_private and self.w.bot_in(c) and user.id in c.members for c in self.w.chats.values()
        )

    def target_chat(self, ref: Any) -> FakeChat:
        """A chat the bot wants to write to."""
        chat = self.chat_by_ref(ref)
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_private:
            user = chat.user
            assert user is not None
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        self.check_bot_member(chat)
        return chat

    def message_in(self, chat: FakeChat, message_id: Any, action: str) -> Msg:
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = self.w.find_message(chat, int(message_id))
        if msg is None:
            raise bad_request(NOT_FOUND_DETAIL[action])
        return msg

    def reply_target(self, chat: FakeChat, p: JsonDict) -> Msg | None:
        rp = p.get("reply_parameters")
        allow = bool(p.get("allow_sending_without_reply", False))
        mid: int | None = None
        source = chat
        if isinstance(rp, dict):
            mid = int(rp["message_id"])
            allow = bool(rp.get("allow_sending_without_reply", allow))
            if rp.get("chat_id") is not None:
                other = self.chat_by_ref(rp["chat_id"])
                if other is None:
                    raise bad_request("chat not found")
                if other is not chat:
                    self.warn("reply_parameters.chat_id of another chat: external replies are not emulated")
                    return None
                source = other
        elif p.get("reply_to_message_id") not in (None, ""):
            try:
                mid = int(p["reply_to_message_id"])
            except (TypeError, ValueError):
                raise bad_request('field "reply_to_message_id" must be of type Integer') from None
        if mid is None:
            return None
        msg = self.w.find_message(source, mid)
        if msg is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return msg

    def resolve_thread(self, chat: FakeChat, p: JsonDict, reply_to: Msg | None) -> int | None:
        tid = p.get("message_thread_id")
        if chat.is_private:
            if tid is not None:
                self.warn(f"message_thread_id={tid} in a private chat ignored (topics in private chats not emulated)")
            return None
        if chat.is_forum:
            if tid is None:
                if reply_to is not None and reply_to.raw.get("is_topic_message"):
                    return reply_to.thread_id
                return None
            topic = chat.live_topic(int(tid))
            if topic is None:
                raise bad_request("message thread not found")
            if topic.closed and not self.w.bot_can(chat, "can_manage_topics"):
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
        if self.w.find_message(chat, int(tid)) is None:
            raise bad_request("message thread not found")
        return int(tid)

    def check_reply_thread(self, chat: FakeChat, thread: int | None, reply_to: Msg | None, p: JsonDict) -> Msg | None:
        if reply_to is None or not chat.is_forum:
            return reply_to
        if (reply_to.thread_id if reply_to.raw.get("is_topic_message") else None) != thread:
            rp = p.get("reply_parameters") or {}
            if rp.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return reply_to

    def formatted(
        self,
        p: JsonDict,
        text_key: str,
        mode_key: str,
        entities_key: str,
        *,
        caption: bool,
    ) -> tuple[str | None, list[JsonDict], str | None]:
        """(plain text, entities, original HTML) for a text/caption parameter."""
        source = p.get(text_key)
        if source is None:
            if not caption:
                raise bad_request("message text is empty")
            return None, [], None
        source = str(source)
        mode = p.get(mode_key)
        mode_str = str(mode) if mode is not None else ""
        if mode_str and mode_str.lower() not in ("html", "markdown", "markdownv2", "none"):
            raise bad_request("unsupported parse_mode")
        try:
            plain, ents = parse_formatted(source, mode_str or None, strict_entities=self.strict_html_entities)
        except EntityParseError as e:
            raise bad_request(f"can't parse entities: {e}") from None
        if not mode_str or mode_str.lower() == "none":
            ents = [dict(e) for e in p.get(entities_key) or []]
        plain, ents = strip_text(plain, ents)
        if not caption and not plain:
            raise bad_request("message text is empty")
        limit = CAPTION_LIMIT if caption else TEXT_LIMIT
        if utf16_len(plain) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        html = source if mode_str.lower() == "html" else None
        if caption and not plain:
            return None, [], html
        return plain, ents, html

    def markup(self, p: JsonDict) -> JsonDict | None:
        m = p.get("reply_markup")
        if not isinstance(m, dict):
            return None
        if "inline_keyboard" in m:
            rows = m["inline_keyboard"]
            count = 0
            for row in rows:
                for b in row:
                    count += 1
                    self.check_button(b)
            if count > 100:
                raise bad_request("REPLY_MARKUP_TOO_LONG")
            return {"inline_keyboard": rows}
        return None  # reply keyboards / remove / force reply are not part of Message

    @staticmethod
    def check_button(b: JsonDict) -> None:
        if not str(b.get("text", "")).strip():
            raise bad_request("BUTTON_TEXT_INVALID")
        present = [
            k
            for k in BUTTON_ACTIONS
            if b.get(k) is not None
            and (b.get(k) != "" or k.startswith("switch_inline_query"))
            and not (k == "pay" and b.get(k) is False)
        ]
        if not present:
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        if len(present) > 1:
            raise bad_request(
                "can't parse inline keyboard button: exactly one of the optional fields must be used, got "
                + ", ".join(present)
            )
        data = b.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
        url = b.get("url")
        if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url), re.IGNORECASE):
            raise bad_request("BUTTON_URL_INVALID")

    def input_file(self, value: Any, kind: str, file_name_hint: str | None = None) -> FileRecord | list[JsonDict]:
        """Resolve an InputFile-or-String parameter; photos yield a PhotoSize list."""
        if isinstance(value, Upload):
            if kind == "photo":
                return self.w.new_photo(value.data, sizes=2)
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return self.w.new_file(value.data, kind, file_name=value.filename, mime_type=mime)
        ref = str(value)
        if re.match(r"^https?://", ref):
            self.warn(f"{kind} by URL {ref!r}: not downloaded, an empty placeholder file is used")
            if kind == "photo":
                return self.w.new_photo(b"", sizes=2)
            name = ref.rstrip("/").rsplit("/", 1)[-1] or file_name_hint or "file"
            return self.w.new_file(b"", kind, file_name=name, mime_type=mimetypes.guess_type(name)[0])
        rec = self.w.files.get(ref.strip())
        if rec is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if rec.kind != kind:
            raise bad_request(f"can't use file of type {_type_title(rec.kind)} as {_type_title(kind)}")
        if kind == "photo":
            return self.w.photo_sets.get(rec.file_id) or [
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
        self, kind: str, value: Any, caption: str | None, caption_entities: list[JsonDict], p: JsonDict
    ) -> tuple[JsonDict, str | None]:
        res = self.input_file(value, kind)
        content: JsonDict = {}
        file_name: str | None = None
        if kind == "photo":
            assert isinstance(res, list)
            content["photo"] = res
        else:
            assert isinstance(res, FileRecord)
            d = self.w.document_dict(res)
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

    def send(
        self,
        p: JsonDict,
        kind: str,
        content: JsonDict,
        *,
        html: str | None = None,
        file_name: str | None = None,
        prepared: tuple[FakeChat, int | None, Msg | None] | None = None,
    ) -> Msg:
        chat, thread, reply_to = prepared or self.prepare_send(p)
        return self.w.store_message(
            chat,
            self.w.bot,
            from_bot=True,
            kind=kind,
            content=content,
            thread_id=thread,
            reply_to=reply_to,
            reply_markup=self.markup(p),
            html=html,
            file_name=file_name,
        )

    def prepare_send(self, p: JsonDict) -> tuple[FakeChat, int | None, Msg | None]:
        chat = self.target_chat(self.require(p, "chat_id"))
        reply_to = self.reply_target(chat, p)
        thread = self.resolve_thread(chat, p, reply_to)
        reply_to = self.check_reply_thread(chat, thread, reply_to, p)
        return chat, thread, reply_to

    @staticmethod
    def raw(msg: Msg) -> JsonDict:
        return copy.deepcopy(msg.raw)

    # ==== bot & updates ===============================================================================
    def m_getMe(self, req: Request) -> JsonDict:
        d = self.w.bot.to_dict()
        d.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return d

    async def m_getUpdates(self, req: Request) -> list[JsonDict]:
        p = req.params
        w = self.w
        if w.webhook.active:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        w.poll_generation += 1
        generation = w.poll_generation
        w.bump()  # wakes an older long poll, which then gets 409
        if "allowed_updates" in p and p["allowed_updates"] is not None:
            allowed = [str(x) for x in p["allowed_updates"]]
            w.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        offset = p.get("offset")
        if offset is not None:
            offset = int(offset)
            if offset < 0:
                w.updates = w.updates[offset:] if -offset < len(w.updates) else w.updates
            else:
                w.updates = [u for u in w.updates if u["update_id"] >= offset]
        limit = int(p.get("limit") or 100)
        limit = max(1, min(100, limit))
        timeout = max(0, int(p.get("timeout") or 0))

        def available() -> list[JsonDict]:
            w.updates = [u for u in w.updates if _update_kind(u) in w.allowed_updates]
            return w.updates[:limit]

        if not available() and timeout > 0:
            await w.wait_for(lambda: bool(available()) or w.poll_generation != generation, float(timeout))
        if w.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                rejected=False,
            )
        batch = available()
        if batch:
            w.fetched_upto = max(w.fetched_upto, batch[-1]["update_id"])
            w.bump()
        return copy.deepcopy(batch)

    async def m_setWebhook(self, req: Request) -> bool:
        url = str(req.params.get("url") or "")
        secret = req.params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("https://", "http://127.", "http://localhost")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if req.params.get("drop_pending_updates"):
            self.w.updates.clear()
        if url:
            self.w.webhook.set(url, str(secret) if secret is not None else None)
        else:
            await self.w.webhook.clear()
        return True

    async def m_deleteWebhook(self, req: Request) -> bool:
        if req.params.get("drop_pending_updates"):
            self.w.updates.clear()
        await self.w.webhook.clear()
        return True

    def m_getWebhookInfo(self, req: Request) -> JsonDict:
        info: JsonDict = {
            "url": self.w.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.w.updates),
        }
        if self.w.webhook.last_error:
            info["last_error_message"] = self.w.webhook.last_error
            info["last_error_date"] = int(time.time())
        return info

    def m_logOut(self, req: Request) -> bool:
        return True

    def m_close(self, req: Request) -> bool:
        return True

    @staticmethod
    def _scope_key(p: JsonDict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        key = ":".join(f"{k}={scope[k]}" for k in sorted(scope))
        return key, str(p.get("language_code") or "")

    def m_setMyCommands(self, req: Request) -> bool:
        commands = req.params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        for c in commands:
            if not _COMMAND_RE.match(str(c["command"]).lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c["description"]).strip()) <= 256:
                raise bad_request("command description must be non-empty")
        self.w.commands[self._scope_key(req.params)] = [
            {"command": str(c["command"]).lstrip("/"), "description": str(c["description"])} for c in commands
        ]
        return True

    def m_getMyCommands(self, req: Request) -> list[JsonDict]:
        return copy.deepcopy(self.w.commands.get(self._scope_key(req.params), []))

    def m_deleteMyCommands(self, req: Request) -> bool:
        self.w.commands.pop(self._scope_key(req.params), None)
        return True

    def m_setChatMenuButton(self, req: Request) -> bool:
        button = req.params.get("menu_button") or {"type": "default"}
        if req.params.get("chat_id") is not None:
            chat = self.chat_by_ref(req.params["chat_id"])
            if chat is None or not chat.is_private:
                raise bad_request("chat not found")
            chat.menu_button = button
        else:
            self.w.default_menu_button = button
        return True

    def m_getChatMenuButton(self, req: Request) -> JsonDict:
        if req.params.get("chat_id") is not None:
            chat = self.chat_by_ref(req.params["chat_id"])
            if chat is None or not chat.is_private:
                raise bad_request("chat not found")
            if chat.menu_button is not None:
                return copy.deepcopy(chat.menu_button)
        return copy.deepcopy(self.w.default_menu_button or {"type": "default"})

    def _set_text(self, req: Request, key: str) -> bool:
        self.w.bot_texts[f"{key}:{req.params.get('language_code') or ''}"] = str(req.params.get(key) or "")
        return True

    def m_setMyName(self, req: Request) -> bool:
        return self._set_text(req, "name")

    def m_setMyDescription(self, req: Request) -> bool:
        return self._set_text(req, "description")

    def m_setMyShortDescription(self, req: Request) -> bool:
        return self._set_text(req, "short_description")

    def m_getMyName(self, req: Request) -> JsonDict:
        lang = req.params.get("language_code") or ""
        return {"name": self.w.bot_texts.get(f"name:{lang}", self.w.bot.first_name)}

    def m_getMyDescription(self, req: Request) -> JsonDict:
        return {"description": self.w.bot_texts.get(f"description:{req.params.get('language_code') or ''}", "")}

    def m_getMyShortDescription(self, req: Request) -> JsonDict:
        lang = req.params.get("language_code") or ""
        return {"short_description": self.w.bot_texts.get(f"short_description:{lang}", "")}

    # ==== sending ===================================================================================
    def m_sendMessage(self, req: Request) -> JsonDict:
        p = req.params
        prepared = self.prepare_send(p)
        text, ents, html = self.formatted(p, "text", "parse_mode", "entities", caption=False)
        content: JsonDict = {"text": text}
        if ents:
            content["entities"] = ents
        lpo = p.get("link_preview_options")
        if isinstance(lpo, dict) and lpo:
            content["link_preview_options"] = lpo
        return self.raw(self.send(p, "text", content, html=html, prepared=prepared))

    def _send_media(self, req: Request, kind: str) -> JsonDict:
        p = req.params
        prepared = self.prepare_send(p)
        caption, cents, html = self.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
        content, file_name = self.media_content(kind, p[kind], caption, cents, p)
        return self.raw(self.send(p, kind, content, html=html, file_name=file_name, prepared=prepared))

    def m_sendPhoto(self, req: Request) -> JsonDict:
        return self._send_media(req, "photo")

    def m_sendDocument(self, req: Request) -> JsonDict:
        return self._send_media(req, "document")

    def m_sendMediaGroup(self, req: Request) -> list[JsonDict]:
        p = req.params
        media = p["media"]
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media in the album: must be 2-10")
        kinds = {m["type"] for m in media}
        if len(kinds) > 1 and ("document" in kinds or "audio" in kinds):
            raise bad_request(f"{'document' if 'document' in kinds else 'audio'} can't be mixed with other media types")
        prepared = self.prepare_send(p)
        group_id = self.w.new_media_group_id()
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
            caption, cents, html = self.formatted(m, "caption", "parse_mode", "caption_entities", caption=True)
            content, file_name = self.media_content(kind, value, caption, cents, m)
            content["media_group_id"] = group_id
            items.append((kind, content, html, file_name))
        out = []
        for kind, content, html, file_name in items:
            msg = self.w.store_message(
                prepared[0],
                self.w.bot,
                from_bot=True,
                kind=kind,
                content=content,
                thread_id=prepared[1],
                reply_to=prepared[2],
                html=html,
                file_name=file_name,
            )
            out.append(self.raw(msg))
        return out

    def m_sendChatAction(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat(self.require(p, "chat_id"))
        if str(p["action"]) not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.resolve_thread(chat, p, None)
        return True

    def _copy_content(self, src: Msg) -> tuple[str, JsonDict]:
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

    def _source(self, p: JsonDict, action: str) -> tuple[FakeChat, Msg]:
        src_chat = self.visible_chat(self.require(p, "from_chat_id"))
        src = self.message_in(src_chat, self.require(p, "message_id", "message identifier is not specified"), action)
        return src_chat, src

    def m_copyMessage(self, req: Request) -> JsonDict:
        p = req.params
        _, src = self._source(p, "copy")
        kind, content = self._copy_content(src)
        prepared = self.prepare_send(p)
        html = src.html
        if "caption" in p and kind != "text":
            caption, cents, html = self.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
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
        msg = self.send(p, kind, content, html=html, file_name=src.file_name, prepared=prepared)
        return {"message_id": msg.message_id}

    def m_copyMessages(self, req: Request) -> list[JsonDict]:
        p = req.params
        src_chat = self.visible_chat(self.require(p, "from_chat_id"))
        ids = [int(x) for x in p["message_ids"]]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        prepared = self.prepare_send(p)
        out = []
        for mid in ids:
            src = self.w.find_message(src_chat, mid)
            if src is None or src.kind == "service":
                continue
            kind, content = self._copy_content(src)
            if p.get("remove_caption"):
                content.pop("caption", None)
                content.pop("caption_entities", None)
            msg = self.w.store_message(
                prepared[0], self.w.bot, from_bot=True, kind=kind, content=content, thread_id=prepared[1],
                file_name=src.file_name, html=src.html,
            )
            out.append({"message_id": msg.message_id})
        if not out:
            raise bad_request("there are no messages to copy")
        return out

    def m_forwardMessage(self, req: Request) -> JsonDict:
        p = req.params
        _, src = self._source(p, "forward")
        if src.kind == "service":
            raise bad_request("message can't be forwarded")
        kind, content = self._copy_content(src)
        sender = src.raw.get("from") or self.w.bot.to_dict()
        origin = src.raw.get("forward_origin") or {"type": "user", "date": src.raw["date"], "sender_user": sender}
        content["forward_origin"] = copy.deepcopy(origin)
        prepared = self.prepare_send(p)
        msg = self.w.store_message(
            prepared[0], self.w.bot, from_bot=True, kind=kind, content=content, thread_id=prepared[1],
            file_name=src.file_name, html=src.html,
        )
        return self.raw(msg)

    # ==== editing =========================================================================================
    def _editable(self, p: JsonDict) -> tuple[FakeChat, Msg]:
        if p.get("inline_message_id"):
            raise ApiError(501, "fakegram: editing inline messages (inline_message_id) is not emulated")
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        msg = self.message_in(chat, p.get("message_id"), "edit")
        if not msg.from_bot or msg.kind == "service":
            raise bad_request("message can't be edited")
        return chat, msg

    def target_chat_for_edit(self, ref: Any) -> FakeChat:
        chat = self.chat_by_ref(ref)
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_private:
            assert chat.user is not None
            if chat.user.blocked:
                raise forbidden("bot was blocked by the user")
            return chat
        self.check_bot_member(chat)
        return chat

    @staticmethod
    def _not_modified() -> ApiError:
        return bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same as a "
            "current content and reply markup of the message"
        )

    def _apply_edit(self, msg: Msg, changes: JsonDict, markup: JsonDict | None, html: str | None) -> JsonDict:
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
        msg.raw["edit_date"] = int(time.time())
        msg.html = html
        self.w.bump()
        return self.raw(msg)

    def m_editMessageText(self, req: Request) -> JsonDict:
        p = req.params
        _, msg = self._editable(p)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, ents, html = self.formatted(p, "text", "parse_mode", "entities", caption=False)
        markup = self.markup(p)
        if text == msg.text and ents == msg.entities and markup == msg.reply_markup:
            raise self._not_modified()
        return self._apply_edit(msg, {"text": text, "entities": ents}, markup, html)

    def m_editMessageCaption(self, req: Request) -> JsonDict:
        p = req.params
        _, msg = self._editable(p)
        if msg.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        caption, cents, html = self.formatted(p, "caption", "parse_mode", "caption_entities", caption=True)
        markup = self.markup(p)
        same_caption = (caption or None) == msg.caption and cents == list(msg.raw.get("caption_entities") or [])
        if same_caption and markup == msg.reply_markup:
            raise self._not_modified()
        return self._apply_edit(msg, {"caption": caption, "caption_entities": cents}, markup, html)

    def m_editMessageReplyMarkup(self, req: Request) -> JsonDict:
        p = req.params
        _, msg = self._editable(p)
        markup = self.markup(p)
        if markup == msg.reply_markup:
            raise self._not_modified()
        msg.edits.append(msg.text if msg.kind == "text" else msg.caption)
        if markup:
            msg.raw["reply_markup"] = markup
        else:
            msg.raw.pop("reply_markup", None)
        msg.raw["edit_date"] = int(time.time())
        self.w.bump()
        return self.raw(msg)

    def _delete(self, chat: FakeChat, msg: Msg) -> None:
        if msg.kind == "service" and msg.raw.get("forum_topic_created"):
            raise bad_request("message can't be deleted")
        if not chat.is_private and not msg.from_bot and not self.w.bot_can(chat, "can_delete_messages"):
            raise bad_request("message can't be deleted")
        msg.deleted = True
        self.w.bump()

    def m_deleteMessage(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        msg = self.message_in(chat, p.get("message_id"), "delete")
        self._delete(chat, msg)
        return True

    def m_deleteMessages(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        found = False
        for mid in p["message_ids"]:
            msg = self.w.find_message(chat, int(mid))
            if msg is not None:
                self._delete(chat, msg)
                found = True
        if not found:
            raise bad_request("message to delete not found")
        return True

    # ==== callbacks, reactions, pins =======================================================================
    def m_answerCallbackQuery(self, req: Request) -> bool:
        p = req.params
        qid = str(p["callback_query_id"])
        if qid not in self.w.callbacks or self.w.callbacks[qid] is not None:
            raise bad_request("query is too old and response timeout expired or query id is invalid")
        text = p.get("text")
        if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        self.w.callbacks[qid] = CallAnswer(
            text=str(text) if text is not None else None,
            show_alert=bool(p.get("show_alert", False)),
            url=p.get("url"),
            cache_time=p.get("cache_time"),
        )
        self.w.bump()
        return True

    def m_setMessageReaction(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        msg = self.message_in(chat, p.get("message_id"), "react")
        if msg.kind == "service":
            raise bad_request("MESSAGE_ID_INVALID")
        return True

    def m_pinChatMessage(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        msg = self.message_in(chat, p.get("message_id"), "pin")
        if not chat.is_private and not self.w.bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        if msg.message_id in chat.pinned:
            chat.pinned.remove(msg.message_id)
        chat.pinned.append(msg.message_id)
        return True

    def m_unpinChatMessage(self, req: Request) -> bool:
        p = req.params
        chat = self.target_chat_for_edit(self.require(p, "chat_id"))
        if not chat.is_private and not self.w.bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        mid = p.get("message_id")
        if mid is None:
            if chat.pinned:
                chat.pinned.pop()
            return True
        if int(mid) in chat.pinned:
            chat.pinned.remove(int(mid))
            return True
        raise bad_request("message to unpin not found")

    def m_unpinAllChatMessages(self, req: Request) -> bool:
        chat = self.target_chat_for_edit(self.require(req.params, "chat_id"))
        if not chat.is_private and not self.w.bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned.clear()
        return True

    # ==== chats & members =================================================================================
    def m_getChat(self, req: Request) -> JsonDict:
        chat = self.visible_chat(self.require(req.params, "chat_id"))
        info = chat.to_dict()
        info.update(
            {
                "accent_color_id": abs(chat.id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": True,
                    "limited_gifts": True,
                    "unique_gifts": True,
                    "premium_subscription": True,
                    "gifts_from_channels": True,
                },
            }
        )
        if chat.pinned:
            pinned = self.w.find_message(chat, chat.pinned[-1])
            if pinned is not None:
                info["pinned_message"] = self.w.shallow(pinned.raw)
        if not chat.is_private:
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        return info

    def member_dict(self, chat: FakeChat, user: FakeUser) -> JsonDict:
        if user.id == self.w.bot.id:
            if chat.is_private or chat.bot_status == "member":
                return {"status": "member", "user": user.to_dict()}
            if chat.bot_status == "administrator":
                return self._admin_dict(user, chat.bot_rights)
            if chat.bot_status == "kicked":
                return {"status": "kicked", "user": user.to_dict(), "until_date": 0}
            return {"status": "left", "user": user.to_dict()}
        if chat.is_private:
            if chat.user is user:
                return {"status": "member", "user": user.to_dict()}
            return {"status": "left", "user": user.to_dict()}
        if chat.owner_id == user.id:
            return {"status": "creator", "user": user.to_dict(), "is_anonymous": False}
        if user.id in chat.admins:
            return self._admin_dict(user, chat.admins[user.id])
        if user.id in chat.members:
            return {"status": "member", "user": user.to_dict()}
        return {"status": "left", "user": user.to_dict()}

    @staticmethod
    def _admin_dict(user: FakeUser, rights: dict[str, bool]) -> JsonDict:
        d: JsonDict = {"status": "administrator", "user": user.to_dict(), "can_be_edited": False, "is_anonymous": False}
        for r in ADMIN_RIGHTS:
            d[r] = bool(rights.get(r, False))
        d["can_send_welcome_messages"] = bool(rights.get("can_send_welcome_messages", False))
        return d

    def m_getChatMember(self, req: Request) -> JsonDict:
        p = req.params
        chat = self.visible_chat(self.require(p, "chat_id"))
        uid = int(p["user_id"])
        user = self.w.bot if uid == self.w.bot.id else self.w.users.get(uid)
        if user is None:
            raise bad_request("user not found")
        return self.member_dict(chat, user)

    def m_getChatAdministrators(self, req: Request) -> list[JsonDict]:
        chat = self.visible_chat(self.require(req.params, "chat_id"))
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        out = []
        if chat.owner_id is not None and chat.owner_id in self.w.users:
            out.append(self.member_dict(chat, self.w.users[chat.owner_id]))
        for uid in chat.admins:
            if uid in self.w.users:
                out.append(self.member_dict(chat, self.w.users[uid]))
        if chat.bot_status == "administrator":
            out.append(self.member_dict(chat, self.w.bot))
        return out

    def m_getChatMemberCount(self, req: Request) -> int:
        chat = self.visible_chat(self.require(req.params, "chat_id"))
        if chat.is_private:
            return 2
        return len(chat.members) + (1 if self.w.bot_in(chat) else 0)

    def m_leaveChat(self, req: Request) -> bool:
        chat = self.visible_chat(self.require(req.params, "chat_id"))
        if chat.is_private:
            raise bad_request("chat member status can't be changed in private chats")
        chat.bot_status = "left"
        return True

    # ==== forum topics ==================================================================================
    def _forum(self, p: JsonDict, right_error: str) -> FakeChat:
        chat = self.target_chat(self.require(p, "chat_id"))
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if not self.w.bot_can(chat, "can_manage_topics"):
            raise bad_request(right_error)
        return chat

    def _topic(self, chat: FakeChat, p: JsonDict) -> Any:
        tid = p.get("message_thread_id")
        topic = chat.live_topic(int(tid)) if tid is not None else None
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    @staticmethod
    def _topic_name(name: Any) -> str:
        value = str(name or "").strip()
        if not value:
            raise bad_request("name is empty")
        if len(value) > TOPIC_NAME_LIMIT:
            raise bad_request("topic name is too long (TOPIC_TITLE_TOO_LONG)")
        return value

    def m_createForumTopic(self, req: Request) -> JsonDict:
        p = req.params
        chat = self._forum(p, "not enough rights to create a topic")
        name = self._topic_name(p.get("name"))
        icon_color = int(p.get("icon_color") or 7322096)
        topic = self.w.create_topic(chat, name, icon_color, p.get("icon_custom_emoji_id"))
        return topic.to_dict()

    def _topic_service(self, chat: FakeChat, thread_id: int, content: JsonDict) -> None:
        self.w.store_message(chat, self.w.bot, from_bot=True, kind="service", content=content, thread_id=thread_id)

    def m_editForumTopic(self, req: Request) -> bool:
        p = req.params
        chat = self._forum(p, "not enough rights to edit a topic")
        topic = self._topic(chat, p)
        changes: JsonDict = {}
        if p.get("name") is not None:
            name = self._topic_name(p["name"])
            if name != topic.name:
                changes["name"] = name
        if p.get("icon_custom_emoji_id") is not None and p["icon_custom_emoji_id"] != (topic.icon_custom_emoji_id or ""):
            changes["icon_custom_emoji_id"] = p["icon_custom_emoji_id"]
        if not changes:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name = changes.get("name", topic.name)
        if "icon_custom_emoji_id" in changes:
            topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] or None
        self._topic_service(chat, topic.thread_id, {"forum_topic_edited": changes})
        return True

    def m_closeForumTopic(self, req: Request) -> bool:
        p = req.params
        chat = self._forum(p, "not enough rights to close a topic")
        topic = self._topic(chat, p)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        self._topic_service(chat, topic.thread_id, {"forum_topic_closed": {}})
        return True

    def m_reopenForumTopic(self, req: Request) -> bool:
        p = req.params
        chat = self._forum(p, "not enough rights to reopen a topic")
        topic = self._topic(chat, p)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        self._topic_service(chat, topic.thread_id, {"forum_topic_reopened": {}})
        return True

    def m_deleteForumTopic(self, req: Request) -> bool:
        p = req.params
        chat = self._forum(p, "not enough rights to delete a topic")
        topic = self._topic(chat, p)
        topic.deleted = True
        for msg in chat.messages.values():
            if msg.thread_id == topic.thread_id and msg.raw.get("is_topic_message"):
                msg.deleted = True
        self.w.bump()
        return True

    # ==== files =========================================================================================
    def m_getFile(self, req: Request) -> JsonDict:
        rec = self.w.files.get(str(req.params["file_id"]).strip())
        if rec is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if rec.file_size > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "file_size": rec.file_size,
            "file_path": rec.file_path,
        }

    def m_getUserProfilePhotos(self, req: Request) -> JsonDict:
        uid = int(req.params["user_id"])
        if uid not in self.w.users and uid != self.w.bot.id:
            raise bad_request("user not found")
        return {"total_count": 0, "photos": []}


def _type_title(kind: str) -> str:
    return {"video_note": "VideoNote"}.get(kind, kind.capitalize())


def _update_kind(update: JsonDict) -> str:
    return next(k for k in update if k != "update_id")
