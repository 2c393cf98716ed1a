"""The emulated Telegram world: entities, the update queue and message construction."""

from __future__ import annotations

import asyncio
import collections
import copy
import hashlib
import itertools
import mimetypes
import secrets
import struct
import time
from collections.abc import Callable
from typing import Any

from .state import (
    Call,
    CallAnswer,
    FakeChat,
    FakeUser,
    FileRecord,
    InjectedFailure,
    Msg,
    Topic,
    full_rights,
)

JsonDict = dict[str, Any]

# Updates Telegram sends when allowed_updates is empty / never set.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, if it can be read from the header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            i += 2 + seg_len
    return None


class World:
    """All state of the fake Telegram plus the change notification used by waiters."""

    def __init__(
        self, token: str, bot_username: str, bot_first_name: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.token = token
        self.clock = clock
        """Unix time for the dates on messages and updates (the sandbox shows its bot's chosen moment)."""
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else 1000001
        self.bot = FakeUser(id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True)
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, FileRecord] = {}
        self.photo_sets: dict[str, list[JsonDict]] = {}
        self.updates: list[JsonDict] = []
        # After setWebhook, updates are pushed to the bot instead of waiting for getUpdates.
        from .webhook import WebhookPusher

        self.webhook = WebhookPusher(self)
        self.next_update_id = 700000001
        self.fetched_upto = 0
        self.confirmed_upto = 0
        """The last update id a getUpdates has confirmed (its offset minus one)."""
        self.busy_probes: list[Callable[[], bool]] = []
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.callbacks: dict[str, CallAnswer | None] = {}
        self.calls: list[Call] = []
        self.rejected: list[Call] = []
        self.warnings: list[str] = []
        self.failures: list[InjectedFailure] = []
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.bot_texts: dict[str, str] = {}
        self.default_menu_button: JsonDict | None = None
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.poll_generation = 0
        self.arrivals: collections.Counter[str] = collections.Counter()
        """Requests per method counted when they reach the server (a long poll is a call only when it ends)."""
        self._event: asyncio.Event | None = None
        self._listeners: list[Callable[[], None]] = []
        self._user_ids = itertools.count(5000000001)
        self._group_ids = itertools.count(1)
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._media_group_seq = itertools.count(13000000000000001)

    # --- change notification ---------------------------------------------------------------
    def bump(self) -> None:
        self.last_activity = time.monotonic()
        if self._event is not None:
            ev, self._event = self._event, None
            ev.set()
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (cheap, synchronous) on every change; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        interval: float = 0.05,
    ) -> bool:
        """Wait until predicate() is true (re-checked on every change, and every ``interval`` seconds for
        what is not a change of the world); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._event is None:
                self._event = asyncio.Event()
            try:
                await asyncio.wait_for(self._event.wait(), min(remaining, interval))
            except TimeoutError:
                pass
        return True

    # --- entities ------------------------------------------------------------------------------
    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        user_id: int | None = None,
        is_premium: bool = False,
    ) -> FakeUser:
        uid = user_id if user_id is not None else next(self._user_ids)
        user = FakeUser(uid, first_name, last_name, username, language_code, is_premium=is_premium)
        self.users[uid] = user
        self.chats[uid] = FakeChat(id=uid, type="private", user=user)
        return user

    def add_group(
        self,
        title: str,
        forum: bool = False,
        members: list[FakeUser] | None = None,
        admins: list[FakeUser] | None = None,
        bot_is_admin: bool = True,
        bot_can_manage_topics: bool = True,
        owner: FakeUser | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        basic: bool = False,
    ) -> FakeChat:
        if basic and (forum or username):
            raise ValueError("a basic group has neither topics nor a public username (it is upgraded first)")
        seq = next(self._group_ids)
        if chat_id is not None:
            cid = chat_id
        else:
            # Basic groups have short negative ids; supergroups -100...
            cid = -(4_000_000_000 + seq) if basic else -(10**12 + 2_000_000_000 + seq)
        kind = "group" if basic else "supergroup"
        chat = FakeChat(id=cid, type=kind, title=title, is_forum=forum, username=username)
        for u in [*(members or []), *(admins or []), *([owner] if owner else [])]:
            chat.members[u.id] = u
        for u in admins or []:
            chat.admins[u.id] = full_rights()
        if owner is not None:
            chat.owner_id = owner.id
        if bot_is_admin:
            chat.bot_status = "administrator"
            chat.bot_rights = full_rights(
                can_manage_topics=bot_can_manage_topics, can_promote_members=False, can_restrict_members=True
            )
        self.chats[cid] = chat
        return chat

    def migrate_group(
        self, chat: FakeChat, *, forum: bool = False, by: FakeUser | None = None, notify: bool = True
    ) -> FakeChat:
        """Upgrade a basic group to a supergroup, as Telegram does (when topics are turned on, the group
        grows large, or an admin changes a supergroup-only setting).

        The supergroup is a new chat with a new id, the same title, members, admins and bot rights; the
        old id is dead from then on (every call naming it fails with ``migrate_to_chat_id``). The bot gets
        a service message in each: ``migrate_to_chat_id`` in the old group, ``migrate_from_chat_id`` in
        the new one (``notify=False`` keeps them back, as if the bot had not fetched them yet: they are
        still stored in both chats, to be pushed later with :meth:`push_update`)."""
        if not chat.is_basic_group:
            raise ValueError(f"only a basic group can be upgraded to a supergroup (chat {chat.id} is a {chat.type})")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat.id} was upgraded already (to {chat.migrated_to})")
        new = self.add_group(chat.title or "", forum=forum)
        new.members = dict(chat.members)
        new.admins = {uid: dict(rights) for uid, rights in chat.admins.items()}
        new.owner_id = chat.owner_id
        new.bot_status = chat.bot_status
        new.bot_rights = dict(chat.bot_rights)
        chat.migrated_to = new.id
        actor = by
        if actor is None:
            for uid in [chat.owner_id, *chat.admins, *chat.members]:
                if uid is not None and uid in self.users:
                    actor = self.users[uid]
                    break
        sender = actor or self.bot
        notices = (
            (chat, {"migrate_to_chat_id": new.id}),
            (new, {"migrate_from_chat_id": chat.id}),
        )
        for where, content in notices:
            msg = self.store_message(where, sender, from_bot=sender.is_bot, kind="service", content=content)
            if notify and self.bot_in(where):
                self.push_update("message", msg.raw)
        return new

    def bot_can(self, chat: FakeChat, right: str) -> bool:
        return chat.bot_status == "administrator" and chat.bot_rights.get(right, False)

    def bot_in(self, chat: FakeChat) -> bool:
        return chat.is_private or chat.bot_status in ("member", "administrator")

    # --- files ---------------------------------------------------------------------------------
    def new_file(
        self,
        data: bytes,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
        issued_to_bot: bool = True,
    ) -> FileRecord:
        seq = next(self._file_seq)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC", "video_note": "DQAC"}
        file_id = f"{prefix.get(kind, 'BAAC')}AgIAAxkBAA{seq:06d}{secrets.token_urlsafe(12)}"
        unique = "AQAD" + hashlib.sha1(data + str(seq).encode()).hexdigest()[:12]
        ext = ""
        if file_name and "." in file_name:
            ext = file_name[file_name.rfind(".") :]
        elif kind == "photo":
            ext = ".jpg"
        elif mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        folder = {"photo": "photos", "voice": "voice", "sticker": "stickers", "video_note": "video_notes"}
        path = f"{folder.get(kind, 'documents')}/file_{seq}{ext}"
        rec = FileRecord(
            file_id=file_id,
            file_unique_id=unique,
            data=data,
            kind=kind,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            issued_to_bot=issued_to_bot,
        )
        self.files[file_id] = rec
        return rec

    def new_photo(self, data: bytes, sizes: int = 3) -> list[JsonDict]:
        dims = image_size(data) or (1280, 960)
        w, h = dims
        targets = [90, 320, 800, 1280][: max(1, sizes)]
        result: list[JsonDict] = []
        for t in targets:
            scale = min(1.0, t / max(w, h, 1))
            sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
            rec = self.new_file(data, "photo", width=sw, height=sh)
            result.append(
                {
                    "file_id": rec.file_id,
                    "file_unique_id": rec.file_unique_id,
                    "file_size": rec.file_size,
                    "width": sw,
                    "height": sh,
                }
            )
        for size in result:
            self.photo_sets[size["file_id"]] = result
        return result

    @staticmethod
    def document_dict(rec: FileRecord) -> JsonDict:
        d: JsonDict = {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id, "file_size": rec.file_size}
        if rec.file_name:
            d["file_name"] = rec.file_name
        if rec.mime_type:
            d["mime_type"] = rec.mime_type
        return d

    # --- messages --------------------------------------------------------------------------------
    @staticmethod
    def shallow(raw: JsonDict) -> JsonDict:
        """A message as embedded in reply_to_message (one level only, like Telegram)."""
        d = copy.deepcopy(raw)
        d.pop("reply_to_message", None)
        return d

    def store_message(
        self,
        chat: FakeChat,
        sender: FakeUser,
        *,
        from_bot: bool,
        kind: str,
        content: JsonDict,
        thread_id: int | None = None,
        reply_to: Msg | None = None,
        reply_markup: JsonDict | None = None,
        html: str | None = None,
        file_name: str | None = None,
        message_id: int | None = None,
    ) -> Msg:
        mid = message_id if message_id is not None else chat.new_message_id()
        raw: JsonDict = {"message_id": mid, "from": sender.to_dict(), "chat": chat.to_dict(), "date": int(self.clock())}
        if thread_id is not None:
            raw["message_thread_id"] = thread_id
            if chat.is_forum:
                raw["is_topic_message"] = True
        if reply_to is not None:
            raw["reply_to_message"] = self.shallow(reply_to.raw)
        elif chat.is_forum and thread_id is not None:
            topic = chat.topics.get(thread_id)
            if topic is not None and topic.service is not None and topic.service.message_id != mid:
                raw["reply_to_message"] = self.shallow(topic.service.raw)
        raw.update(content)
        if reply_markup and reply_markup.get("inline_keyboard"):
            raw["reply_markup"] = {"inline_keyboard": reply_markup["inline_keyboard"]}
        msg = Msg(raw, from_bot=from_bot, kind=kind, html=html, file_name=file_name)
        chat.messages[mid] = msg
        self.bump()
        return msg

    def find_message(self, chat: FakeChat, message_id: int) -> Msg | None:
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            return None
        return msg

    def create_topic(
        self, chat: FakeChat, name: str, icon_color: int = 7322096, icon_custom_emoji_id: str | None = None,
        creator: FakeUser | None = None,
    ) -> Topic:
        mid = chat.new_message_id()
        topic = Topic(thread_id=mid, name=name, icon_color=icon_color, icon_custom_emoji_id=icon_custom_emoji_id)
        chat.topics[mid] = topic
        created: JsonDict = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        sender = creator or self.bot
        topic.service = self.store_message(
            chat,
            sender,
            from_bot=sender.is_bot,
            kind="service",
            content={"forum_topic_created": created},
            thread_id=mid,
            message_id=mid,
        )
        return topic

    # --- updates -----------------------------------------------------------------------------------
    def push_update(self, kind: str, payload: JsonDict) -> int:
        uid = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": uid, kind: copy.deepcopy(payload)})
        self.bump()
        return uid

    def updates_pending(self) -> int:
        return len(self.updates)

    def all_fetched(self) -> bool:
        return not self.updates or self.updates[-1]["update_id"] <= self.fetched_upto

    def new_callback_id(self) -> str:
        return f"{self.bot.id}{next(self._callback_seq):010d}"

    def new_media_group_id(self) -> str:
        return str(next(self._media_group_seq))
