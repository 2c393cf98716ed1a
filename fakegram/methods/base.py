"""The state every method family shares: :class:`BotApi` (the world, dispatch, and the checks and
conversions used by more than one family)."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable
from typing import Any

from ..html import EntityParseError, parse_formatted, strip_text, utf16_len
from ..spec import ApiError, bad_request, forbidden
from ..state import ADMIN_RIGHTS, FakeChat, FakeUser, Msg
from ..world import World
from .registry import METHODS, JsonDict, Request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

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
NOT_FOUND_DETAIL = {
    "edit": "message to edit not found",
    "delete": "message to delete not found",
    "copy": "message to copy not found",
    "forward": "message to forward not found",
    "pin": "message to pin not found",
    "react": "message to react not found",
}


class BotApi:
    """The emulated Bot API: ``call`` dispatches by exact method name through the registry; the methods
    below are the helpers shared by the method families."""

    def __init__(self, world: World, *, strict_html_entities: bool = True) -> None:
        self.w = world
        self.strict_html_entities = strict_html_entities

    async def call(self, req: Request) -> Any:
        fn = METHODS.get(req.method)
        if fn is None:
            raise ApiError(501, f"fakegram: method {req.method} is not emulated")
        result = fn(self, req)
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

    def message_in(self, chat: FakeChat, message_id: Any, action: str) -> Msg:
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = self.w.find_message(chat, int(message_id))
        if msg is None:
            raise bad_request(NOT_FOUND_DETAIL[action])
        return msg

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

    @staticmethod
    def raw(msg: Msg) -> JsonDict:
        return copy.deepcopy(msg.raw)

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
