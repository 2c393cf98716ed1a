"""Actors: users of the fake Telegram who write to the bot, press buttons and read its answers."""

from __future__ import annotations

import base64
import re
import time
from typing import TYPE_CHECKING, Any

from .state import CallAnswer, FakeChat, FakeUser, Msg

if TYPE_CHECKING:
    from .server import FakeTelegram

JsonDict = dict[str, Any]

# A tiny valid baseline JPEG (8x8, grey).
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0"
    "Hyc5PTgyPC4zNDL/wAALCAAIAAgBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9"
    "AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZn"
    "aGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP0"
    "9fb3+Pn6/9oACAEBAAA/APn+v//Z"
)

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,64})?")


class Actor:
    """A user acting in one chat (their private chat with the bot, or a group, optionally a topic)."""

    def __init__(
        self,
        server: FakeTelegram,
        user: FakeUser,
        chat: FakeChat,
        thread: int | None = None,
        *,
        as_chat: bool = False,
        signature: str | None = None,
    ) -> None:
        self.server = server
        self.user = user
        self.chat = chat
        self.thread = thread
        # An administrator posting anonymously: Telegram's GroupAnonymousBot is the author, the group itself
        # is ``sender_chat``, and the admin's custom title (if any) is ``author_signature``.
        self.as_chat = as_chat
        self.signature = signature

    def __repr__(self) -> str:
        where = f"thread {self.thread} of " if self.thread else ""
        return f"<Actor {self.user.full_name} ({self.user.id}) in {where}chat {self.chat.id}>"

    @property
    def chat_id(self) -> int:
        return self.chat.id

    def in_thread(self, thread_id: int) -> Actor:
        """The same user in the same group, bound to a forum topic."""
        return Actor(self.server, self.user, self.chat, thread_id, as_chat=self.as_chat, signature=self.signature)

    # ==== injecting messages ============================================================================
    def _inject(
        self,
        kind: str,
        content: JsonDict,
        *,
        thread_id: int | None = None,
        reply_to: Msg | None = None,
        file_name: str | None = None,
    ) -> Msg:
        w = self.server.world
        chat = self.chat
        if chat.migrated_to is not None:
            raise AssertionError(f"{self}: the group became supergroup {chat.migrated_to}; write there")
        if chat.is_private:
            self.user.started = True
            self.user.blocked = False  # writing to a blocked bot = "Restart bot" in the clients
        elif self.as_chat:
            content = {**content, "sender_chat": chat.to_dict()}
            if self.signature:
                content["author_signature"] = self.signature
        elif self.user.id not in chat.members:
            chat.members[self.user.id] = self.user
        tid = thread_id if thread_id is not None else self.thread
        if reply_to is not None:
            if reply_to.chat_id != chat.id:
                raise AssertionError(f"{self}: can't reply to {reply_to!r} from another chat")
            if reply_to.deleted:
                raise AssertionError(f"{self}: can't reply to deleted message {reply_to!r}")
            if chat.is_forum and tid is None and reply_to.raw.get("is_topic_message"):
                tid = reply_to.thread_id
        if chat.is_private or chat.is_basic_group:
            tid = None
        elif chat.is_forum:
            if tid is not None:
                topic = chat.live_topic(tid)
                if topic is None:
                    raise AssertionError(f"{self}: forum topic {tid} does not exist (or was deleted)")
        elif reply_to is not None:
            tid = reply_to.thread_id or reply_to.message_id
        elif tid is not None and w.find_message(chat, tid) is None:
            raise AssertionError(f"{self}: thread {tid} does not exist in {chat.id}")
        msg = w.store_message(
            chat,
            self.user,
            from_bot=False,
            kind=kind,
            content=content,
            thread_id=tid,
            reply_to=reply_to,
            file_name=file_name,
        )
        if w.bot_in(chat):
            w.push_update("message", msg.raw)
        return msg

    def _text_content(self, text: str) -> JsonDict:
        content: JsonDict = {"text": text}
        m = _COMMAND_RE.match(text)
        if m:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(m.group(0).encode("utf-16-le")) // 2}]
        return content

    def _caption(self, content: JsonDict, caption: str | None) -> JsonDict:
        if caption:
            content["caption"] = caption
            m = _COMMAND_RE.match(caption)
            if m:
                content["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(m.group(0))}]
        return content

    def _photo_content(self, caption: str | None, data: bytes | None = None) -> JsonDict:
        sizes = self.server.world.new_photo(data or TINY_JPEG, sizes=3)
        return self._caption({"photo": sizes}, caption)

    def _document_content(
        self, filename: str, content: bytes, caption: str | None, mime_type: str | None
    ) -> JsonDict:
        import mimetypes

        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        rec = self.server.world.new_file(content, "document", file_name=filename, mime_type=mime)
        return self._caption({"document": self.server.world.document_dict(rec)}, caption)

    async def send(self, text: str, thread_id: int | None = None, reply_to: Msg | None = None) -> Msg:
        """Send a text message (a leading /command gets a bot_command entity)."""
        return self._inject("text", self._text_content(text), thread_id=thread_id, reply_to=reply_to)

    async def send_photo(
        self, caption: str | None = None, *, data: bytes | None = None, thread_id: int | None = None
    ) -> Msg:
        return self._inject("photo", self._photo_content(caption, data), thread_id=thread_id)

    async def send_album(
        self, count: int = 3, caption: str | None = None, *, thread_id: int | None = None
    ) -> list[Msg]:
        """An album: ``count`` photos sent together (2 to 10), each its own message and update with the same
        ``media_group_id``; the caption goes on the first, as Telegram's apps send it."""
        if not 2 <= count <= 10:
            raise AssertionError(f"{self}: an album has 2 to 10 items, not {count}")
        group = self.server.world.new_media_group_id()
        parts = []
        for i in range(count):
            content = self._photo_content(caption if i == 0 else None)
            content["media_group_id"] = group
            parts.append(self._inject("photo", content, thread_id=thread_id))
        return parts

    async def send_document(
        self,
        filename: str = "document.pdf",
        content: bytes = b"%PDF-1.4 fake\n",
        caption: str | None = None,
        mime_type: str | None = None,
        *,
        thread_id: int | None = None,
    ) -> Msg:
        body = self._document_content(filename, content, caption, mime_type)
        return self._inject("document", body, thread_id=thread_id, file_name=filename)

    async def send_sticker(self, emoji: str = "👍", *, thread_id: int | None = None) -> Msg:
        rec = self.server.world.new_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker", mime_type="image/webp")
        sticker = {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakegramStickers",
            "file_size": rec.file_size,
        }
        return self._inject("sticker", {"sticker": sticker}, thread_id=thread_id)

    async def send_voice(self, duration: int = 3, *, thread_id: int | None = None) -> Msg:
        rec = self.server.world.new_file(b"OggS\x00fake-voice", "voice", mime_type="audio/ogg")
        voice = {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": rec.file_size,
        }
        return self._inject("voice", {"voice": voice}, thread_id=thread_id)

    async def send_video_note(self, duration: int = 2, *, thread_id: int | None = None) -> Msg:
        rec = self.server.world.new_file(b"\x00\x00\x00\x18ftypmp42fake", "video_note", mime_type="video/mp4")
        note = {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "length": 240,
            "duration": duration,
            "file_size": rec.file_size,
        }
        return self._inject("video_note", {"video_note": note}, thread_id=thread_id)

    async def send_location(
        self, latitude: float = 55.751244, longitude: float = 37.618423, *, thread_id: int | None = None
    ) -> Msg:
        return self._inject("location", {"location": {"latitude": latitude, "longitude": longitude}}, thread_id=thread_id)

    async def send_contact(
        self, phone_number: str = "+79990000000", first_name: str | None = None, *, thread_id: int | None = None
    ) -> Msg:
        contact: JsonDict = {"phone_number": phone_number, "first_name": first_name or self.user.first_name}
        if first_name is None:
            contact["user_id"] = self.user.id
            if self.user.last_name:
                contact["last_name"] = self.user.last_name
        return self._inject("contact", {"contact": contact}, thread_id=thread_id)

    async def reply_to(
        self,
        msg: Msg,
        text: str | None = None,
        *,
        photo: bool = False,
        document: tuple[str, bytes] | None = None,
        caption: str | None = None,
    ) -> Msg:
        """Reply to ``msg`` with text, a photo (photo=True) or a document (document=(name, bytes))."""
        if photo:
            return self._inject("photo", self._photo_content(caption or text), reply_to=msg)
        if document is not None:
            name, data = document
            body = self._document_content(name, data, caption or text, None)
            return self._inject("document", body, reply_to=msg, file_name=name)
        if text is None:
            raise ValueError("reply_to needs text, photo=True or document=(name, bytes)")
        return self._inject("text", self._text_content(text), reply_to=msg)

    # ==== callback queries ===============================================================================
    def _bot_messages(self) -> list[Msg]:
        msgs = [m for m in self.chat.messages.values() if m.from_bot and m.kind != "service"]
        if self.thread is not None:
            msgs = [m for m in msgs if m.thread_id == self.thread]
        return msgs

    def _find_button(self, button: str, available: list[str]) -> tuple[Msg, str] | None:
        for msg in reversed(self._bot_messages()):
            if msg.deleted:
                continue
            for row in (msg.reply_markup or {}).get("inline_keyboard", []):
                for b in row:
                    if button in b.get("text", ""):
                        if b.get("callback_data") is None:
                            raise AssertionError(f"{self}: button {b.get('text')!r} has no callback_data: {b}")
                        return msg, str(b["callback_data"])
                    available.append(f"{b.get('text')!r} (message {msg.message_id})")
        return None

    async def press(self, button: str, timeout: float = 5.0) -> CallAnswer:  # noqa: ASYNC109
        """Press the inline button whose text contains ``button`` on the newest bot message (in this
        chat, and this actor's topic if bound) that has one; return the bot's answerCallbackQuery.

        Like a person, it first lets the bot finish what it is doing (so the newest menu is there), then
        waits up to ``timeout`` for a matching button to appear."""
        try:
            await self.server.wait_idle(timeout=timeout)
        except AssertionError:
            pass  # busy (for example pausing after a 429): look at what is there, and keep waiting
        found: list[tuple[Msg, str]] = []
        available: list[str] = []

        def check() -> bool:
            available.clear()
            hit = self._find_button(button, available)
            if hit is not None:
                found.append(hit)
                return True
            return False

        if not await self.server.world.wait_for(check, timeout):
            raise AssertionError(
                f"{self}: no inline button containing {button!r}; available buttons: {available or 'none'}"
            )
        msg, data = found[0]
        return await self.press_data(msg, data, timeout=timeout)

    async def press_data(self, msg: Msg, data: str, timeout: float = 5.0) -> CallAnswer:  # noqa: ASYNC109
        """Inject a callback_query with arbitrary ``data`` on ``msg``; wait for answerCallbackQuery."""
        w = self.server.world
        qid = w.new_callback_id()
        w.callbacks[qid] = None
        query: JsonDict = {
            "id": qid,
            "from": self.user.to_dict(),
            "message": msg.raw,
            "chat_instance": str(abs(hash((self.chat.id, w.bot.id))) % 10**18),
            "data": data,
        }
        if w.bot_in(self.chat):
            w.push_update("callback_query", query)
        ok = await w.wait_for(lambda: w.callbacks.get(qid) is not None, timeout)
        answer = w.callbacks.get(qid)
        if not ok or answer is None:
            raise AssertionError(
                f"{self}: the bot did not call answerCallbackQuery for data={data!r} within {timeout}s"
                + self._recent_report()
            )
        return answer

    # ==== reading the bot's answers =======================================================================
    @property
    def inbox(self) -> list[Msg]:
        """All bot messages (not service messages) in this chat (and topic, if bound)."""
        return self._bot_messages()

    def _pending(self) -> list[Msg]:
        return [m for m in self._bot_messages() if not m.consumed]

    async def expect(self, substring: str | None = None, timeout: float = 5.0) -> Msg:  # noqa: ASYNC109
        """Wait for the next not-yet-consumed bot message whose text/caption contains ``substring``
        (None = any); it and all earlier pending ones are consumed."""
        found: list[Msg] = []

        def check() -> bool:
            for m in self._pending():
                if substring is None or substring in m.content:
                    found.append(m)
                    return True
            return False

        if not await self.server.world.wait_for(check, timeout):
            raise AssertionError(
                f"{self}: no bot message containing {substring!r} within {timeout}s." + self._recent_report()
            )
        target = found[0]
        for m in self._pending():
            m.consumed = True
            if m is target:
                break
        return target

    async def expect_nothing(self, timeout: float = 0.5) -> None:  # noqa: ASYNC109
        """Assert that no unconsumed bot message is (or becomes) pending in this chat within ``timeout``."""
        pending: list[Msg] = []

        def check() -> bool:
            pending[:] = self._pending()
            return bool(pending)

        if await self.server.world.wait_for(check, timeout):
            raise AssertionError(f"{self}: expected no bot message, got {pending}")

    def _recent_report(self) -> str:
        msgs = self._bot_messages()[-10:]
        lines = [f"\n  bot messages here ({len(self._bot_messages())} total, last 10):"]
        lines += [f"    {'  ' if m.consumed else '* '}{m!r}" for m in msgs] or ["    (none)"]
        rejected = self.server.world.rejected[-5:]
        if rejected:
            lines.append("  rejected calls (last 5):")
            lines += [f"    {c.method}: {c.status} {c.error}" for c in rejected]
        lines.append(f"  (* = not consumed; now={time.strftime('%H:%M:%S')})")
        return "\n".join(lines)
