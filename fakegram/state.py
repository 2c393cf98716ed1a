"""In-memory world of the fake server: users, chats, topics, messages, files, calls."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


def full_rights(**overrides: bool) -> dict[str, bool]:
    rights = {r: True for r in ADMIN_RIGHTS}
    rights.update(overrides)
    return rights


@dataclass(eq=False)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False
    started: bool = False
    """True once the user has written to the bot in private (the bot may then message them)."""
    blocked: bool = False

    def block_bot(self) -> None:
        """The user blocks the bot: sends fail with 403 "Forbidden: bot was blocked by the user"."""
        self.blocked = True

    def unblock_bot(self) -> None:
        self.blocked = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_dict(self) -> JsonDict:
        d: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        if self.is_premium:
            d["is_premium"] = True
        return d


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # photo, document, sticker, voice, video_note, video, audio, animation
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    issued_to_bot: bool = True

    @property
    def file_size(self) -> int:
        return len(self.data)


class Msg:
    """A message as stored by the fake server (user-side view used by tests).

    The object is shared by all views and updated in place on edit/delete; ``raw`` is the
    Bot API ``Message`` object as the bot would currently receive it.
    """

    def __init__(
        self,
        raw: JsonDict,
        *,
        from_bot: bool,
        kind: str,
        html: str | None = None,
        file_name: str | None = None,
    ) -> None:
        self.raw = raw
        self.from_bot = from_bot
        self.kind = kind
        self.html = html
        self.file_name = file_name
        self.deleted = False
        self.edits: list[str | None] = []
        self.consumed = False
        self.created_at = time.monotonic()
        self.media_group_id: str | None = raw.get("media_group_id")

    # --- views on raw --------------------------------------------------------------------
    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat"]["id"])

    @property
    def thread_id(self) -> int | None:
        tid = self.raw.get("message_thread_id")
        return int(tid) if tid is not None else None

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def content(self) -> str:
        """text or caption or ''."""
        return self.raw.get("text") or self.raw.get("caption") or ""

    @property
    def entities(self) -> list[JsonDict]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def reply_markup(self) -> JsonDict | None:
        return self.raw.get("reply_markup")

    @property
    def reply_to_message_id(self) -> int | None:
        rep = self.raw.get("reply_to_message")
        return int(rep["message_id"]) if rep else None

    @property
    def sender_id(self) -> int | None:
        sender = self.raw.get("from")
        return int(sender["id"]) if sender else None

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Flat list of inline buttons as (text, callback_data or url or None)."""
        out: list[tuple[str, str | None]] = []
        markup = self.reply_markup or {}
        for row in markup.get("inline_keyboard", []):
            for b in row:
                out.append((b.get("text", ""), b.get("callback_data") or b.get("url")))
        return out

    def __repr__(self) -> str:
        flags = " deleted" if self.deleted else ""
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        thread = f" thread={self.thread_id}" if self.thread_id else ""
        return (
            f"<Msg {self.chat_id}/{self.message_id}{thread} {self.kind} from {who}{flags}: "
            f"{self.content[:80]!r} buttons={[b[0] for b in self.buttons]}>"
        )


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    service: Msg | None = None

    def to_dict(self) -> JsonDict:
        d: JsonDict = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            d["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return d


@dataclass(eq=False)
class FakeChat:
    id: int
    type: str  # "private" | "group" (a basic group) | "supergroup"
    title: str | None = None
    is_forum: bool = False
    user: FakeUser | None = None
    username: str | None = None
    members: dict[int, FakeUser] = field(default_factory=dict)
    admins: dict[int, dict[str, bool]] = field(default_factory=dict)
    owner_id: int | None = None
    bot_status: str = "member"  # member | administrator | left | kicked
    bot_rights: dict[str, bool] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    messages: dict[int, Msg] = field(default_factory=dict)
    next_message_id: int = 1
    pinned: list[int] = field(default_factory=list)
    menu_button: JsonDict | None = None
    migrated_to: int | None = None
    """Set when this basic group was upgraded to a supergroup: the new chat's id."""

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def is_basic_group(self) -> bool:
        return self.type == "group"

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def to_dict(self) -> JsonDict:
        if self.is_private and self.user is not None:
            d: JsonDict = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                d["last_name"] = self.user.last_name
            if self.user.username:
                d["username"] = self.user.username
            return d
        d = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.username:
            d["username"] = self.username
        if self.is_forum:
            d["is_forum"] = True
        return d

    def live_topic(self, thread_id: int) -> Topic | None:
        t = self.topics.get(thread_id)
        return t if t is not None and not t.deleted else None


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: JsonDict
    ok: bool = True
    error: str | None = None
    at: float = field(default_factory=time.time)
    status: int = 200
    result: Any = None

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"{self.status} {self.error}"
        return f"<Call {self.method} {status} {self.params!r}>"


@dataclass
class CallAnswer:
    """What the bot answered to a callback query (answerCallbackQuery)."""

    text: str | None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class InjectedFailure:
    method: str | None
    chat_id: int | str | None
    status: int
    retry_after: int | None
    count: int
    description: str | None
