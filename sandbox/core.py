"""The sandbox: fakegram, a cast of people, and the real bot polling it, in one process.

The page (``sandbox.web``) only reads :meth:`Sandbox.snapshot` and calls the actions here, so everything a visitor
can do is also a plain coroutine for tests.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import ROOT, load_settings
from bot.factory import App, create_app, serve
from fakegram import Actor, CallAnswer, FakeChat, FakeTelegram, FakeUser, Msg
from helpdesk.school import SchoolProfile, SpecialistKind, load_profile

from . import history
from .clock import OffsetClock, parse_local, preset_moment
from .render import message_view, reply_keyboard

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

# Not a real token: the bot talks only to the fake server on 127.0.0.1.
TOKEN = "1234567890:SANDBOX_local_only_not_a_real_token"
BOT_USERNAME = "school16_help_bot"
BOT_NAME = "Помощник ЭЖ"
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
STAFF = "staff:"  # people's keys for the profile's specialists: "staff:" and the specialist's key


class SandboxError(Exception):
    """Something the visitor asked for is not possible; ``str()`` is shown on the page."""


@dataclass(frozen=True)
class Person:
    key: str
    user: FakeUser
    label: str
    side: str  # "user" (asks in private), "staff" (the staff group), "deputy", "director"

    def to_json(self) -> JsonDict:
        return {
            "key": self.key,
            "id": self.user.id,
            "name": self.user.full_name,
            "label": self.label,
            "side": self.side,
        }


def _split_name(full: str) -> tuple[str, str | None]:
    """«Фамилия Имя Отчество» as Telegram shows it: first name «Имя», last name «Фамилия»."""
    parts = full.split()
    if len(parts) >= 2:
        return parts[1], parts[0]
    return full, None


class Sandbox:
    def __init__(
        self,
        *,
        database_path: Path,
        forum: bool = True,
        school_profile: Path = ROOT / "school.example.toml",
        knowledge_dir: Path = ROOT / "knowledge",
        tick_seconds: float = 5.0,
    ) -> None:
        self.database_path = database_path
        self.forum = forum
        self.school_profile = school_profile
        self.knowledge_dir = knowledge_dir
        self.tick_seconds = tick_seconds
        self.profile: SchoolProfile = load_profile(school_profile)
        self.tz = ZoneInfo(self.profile.timezone or "Europe/Moscow")
        self.clock = OffsetClock()
        self.server: FakeTelegram | None = None
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None
        self.status = "stopped"
        self.error: str | None = None
        self.generation = 0
        self.people: dict[str, Person] = {}
        self.group: FakeChat | None = None
        self.keyboards: dict[int, JsonDict] = {}
        self._calls_seen = 0
        self._watchers: set[asyncio.Event] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = asyncio.Lock()
        self._user_seq = 0
        self.closing = False
        self.history_filled = False

    # ==== change notification ====================================================================
    def watch(self) -> asyncio.Event:
        event = asyncio.Event()
        event.set()
        self._watchers.add(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)

    def notify(self) -> None:
        for event in self._watchers:
            event.set()

    # ==== lifecycle ==================================================================================
    async def start(self) -> None:
        async with self._lock:
            self._wipe_database()
            await self._build_world()
            await self._start_bot()

    async def stop(self) -> None:
        self.closing = True
        async with self._lock:
            await self._stop_bot()
            await self._stop_world()
        self.notify()

    async def restart_bot(self) -> None:
        """Stop the bot and start it again (same world, same database): what a server restart looks like."""
        async with self._lock:
            await self._stop_bot()
            await self._start_bot()

    async def reset(self, *, forum: bool | None = None) -> None:
        """Start over: a new world and an empty database, optionally switching the staff group's mode."""
        async with self._lock:
            if forum is not None:
                self.forum = forum
            await self._stop_bot()
            await self._stop_world()
            self._wipe_database()
            await self._build_world()
            await self._start_bot()

    async def fill_history(self) -> int:
        """«Месяц истории»: a plausible month of questions, answers and ratings written into the desk's
        database (once per session), then the deputy director asks for the month's report, so that the
        visitor sees a real one. Returns the number of tickets written."""
        async with self._lock:
            if self.app is None or self.status != "running":
                raise SandboxError("the bot is not running")
            if self.history_filled:
                raise SandboxError("the month of history is there already (start over to fill it again)")
            count = await history.fill(self.app.db, self.profile, self.clock(), days=30)
            self.history_filled = True
        deputy = self.people["deputy"].user
        await self.send(user_id=deputy.id, chat_id=deputy.id, text="/report month")
        return count

    def _wipe_database(self) -> None:
        # Each sandbox session starts from an empty desk: the fake world is in memory only.
        self.history_filled = False
        self.database_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database_path}{suffix}").unlink(missing_ok=True)

    async def _build_world(self) -> None:
        # Messages are dated by the bot's clock: the page shows the moment the bot lives in.
        server = FakeTelegram(
            token=TOKEN,
            bot_username=BOT_USERNAME,
            bot_first_name=BOT_NAME,
            clock=lambda: self.clock().timestamp(),
        )
        people: dict[str, Person] = {}

        def person(key: str, first: str, last: str | None, label: str, side: str) -> FakeUser:
            user = server.add_user(first_name=first, last_name=last, language_code="ru")
            people[key] = Person(key, user, label, side)
            return user

        person("parent", "Мария", "Волкова", "Родитель", "user")
        person("student", "Артём", "Волков", "Ученик", "user")
        person("teacher", "Ирина", "Орлова", "Учитель-предметник", "user")
        staff: list[FakeUser] = []
        deputy: FakeUser | None = None
        for spec in self.profile.specialists:
            first, last = _split_name(spec.name)
            user = person(f"{STAFF}{spec.key}", first, last, spec.position or spec.kind.value, "staff")
            # Linked at the bot's start (see `_link_staff`), and they have pressed Start: the bot may write
            # to them privately (who takes a question, reminders).
            user.started = True
            staff.append(user)
            if deputy is None and spec.kind == SpecialistKind.DEPUTY:
                deputy = user
        if not staff:
            staff.append(person("staff:specialist", "Ирина", "Соколова", "специалист", "staff"))
        if deputy is None:
            deputy = staff[0]
        deputy_key = next(k for k, p in people.items() if p.user is deputy)
        people["deputy"] = Person("deputy", deputy, "Заместитель директора", "deputy")
        people[deputy_key] = Person(deputy_key, deputy, people[deputy_key].label, "staff")
        director = person("director", "Сергей", "Николаев", "Директор", "director")
        # Management has pressed Start in their chats with the bot, so the bot may write to them.
        deputy.started = True
        director.started = True
        self.group = server.add_group(
            title="ЭЖ: специалисты",
            forum=self.forum,
            members=staff,
            admins=[deputy],
            bot_is_admin=True,
            bot_can_manage_topics=True,
        )
        await server.start(host="127.0.0.1", port=0)
        self.server = server
        self.people = people
        self.keyboards = {}
        self._calls_seen = 0
        self._user_seq = 0
        self.generation += 1
        self._unsubscribe = server.world.subscribe(self.notify)
        self.notify()

    async def _stop_world(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    def env(self) -> dict[str, str]:
        server, group = self._need_world()
        return {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": server.base_url,
            "STAFF_CHAT_ID": str(group.id),
            "MANAGER_CHAT_ID": str(self.people["deputy"].user.id),
            "DIRECTOR_CHAT_ID": str(self.people["director"].user.id),
            "DATABASE_PATH": str(self.database_path),
            "TIMEZONE": str(self.tz),
            "DEFAULT_LOCALE": "ru",
            "SCHOOL_PROFILE": str(self.school_profile),
            "KNOWLEDGE_DIR": str(self.knowledge_dir),
            "TICK_SECONDS": str(self.tick_seconds),
        }

    def _set_status(self, status: str, error: str | None = None) -> None:
        self.status = status
        self.error = error
        self.notify()

    async def _start_bot(self) -> None:
        server, _ = self._need_world()
        self._set_status("starting")
        try:
            app = await create_app(load_settings(self.env()), clock=self.clock)
            await self._link_staff(app)
        except Exception as exc:
            log.exception("the bot did not start")
            self._set_status("error", str(exc))
            return
        polls_before = server.arrived("getUpdates")
        self._stop_event = asyncio.Event()
        task = asyncio.create_task(serve(app, self._stop_event, polling_timeout=2))
        self.app, self.task = app, task
        # Running once its first long poll reaches the server (not when that poll ends, seconds later).
        for _ in range(500):
            if server.arrived("getUpdates") > polls_before:
                self._set_status("running")
                break
            if task.done():
                break
            await asyncio.sleep(0.02)
        task.add_done_callback(self._polling_ended)
        if task.done():
            self._polling_ended(task)

    async def _link_staff(self, app: App) -> None:
        """Each specialist of the profile has linked their account (as an invite would do it): answers are
        signed «Иванов И. И., технический специалист», and who takes a question is told privately."""
        now = self.clock()
        async with app.store.transaction():
            for key, who in self.people.items():
                if key.startswith(STAFF) and self.profile.find_specialist(key.removeprefix(STAFF)) is not None:
                    await app.store.duty.link(key.removeprefix(STAFF), who.user.id, who.user.full_name, now)

    def _polling_ended(self, task: asyncio.Task[None]) -> None:
        if task is not self.task:
            return
        if task.cancelled():
            self._set_status("stopped")
        elif task.exception() is not None:
            self._set_status("error", repr(task.exception()))
        elif self.status == "running":
            self._set_status("stopped")

    async def _stop_bot(self) -> None:
        app, task = self.app, self.task
        if app is None or task is None:
            return
        self._set_status("stopping")
        self.task = None
        self._stop_event.set()
        try:
            await asyncio.wait_for(task, 15)
        except Exception:
            log.exception("the bot stopped with an error")
        self.app = None
        self._set_status("stopped")

    def _need_world(self) -> tuple[FakeTelegram, FakeChat]:
        if self.server is None or self.group is None:
            raise SandboxError("the sandbox is not running")
        return self.server, self.group

    # ==== what visitors do ===========================================================================
    def add_user(self, first_name: str, last_name: str | None = None, language: str = "ru") -> Person:
        server, _ = self._need_world()
        first_name = first_name.strip()[:64] or "Гость"
        last_name = (last_name or "").strip()[:64] or None
        self._user_seq += 1
        user = server.add_user(first_name=first_name, last_name=last_name, language_code=language)
        key = f"user:{user.id}"
        self.people[key] = Person(key, user, "Новый пользователь", "user")
        self.notify()
        return self.people[key]

    def _actor(self, user_id: int, chat_id: int) -> Actor:
        server, group = self._need_world()
        user = server.users.get(user_id)
        if user is None or user.is_bot:
            raise SandboxError("unknown user")
        if chat_id == user_id:
            return server.actor(user)
        if chat_id != group.id:
            raise SandboxError("this person can't write in that chat")
        if not any(p.user.id == user_id and p.side in ("staff", "deputy") for p in self.people.values()):
            raise SandboxError("only staff write in the staff group")
        return server.actor(user, chat=group)

    async def send(
        self,
        *,
        user_id: int,
        chat_id: int,
        text: str = "",
        thread_id: int | None = None,
        reply_to: int | None = None,
        file: tuple[str, bytes, str | None] | None = None,
    ) -> Msg:
        """A person writes: text, or a photo/document from disk with ``text`` as its caption."""
        server, _ = self._need_world()
        actor = self._actor(user_id, chat_id)
        target = None
        if reply_to is not None:
            target = server.get_message(chat_id, reply_to)
            if target is None or target.deleted:
                raise SandboxError("the message to reply to is gone")
        if actor.chat.is_private or not actor.chat.is_forum:
            thread_id = None
        text = text.strip()
        try:
            if file is not None:
                name, data, ctype = file
                ctype = (ctype or mimetypes.guess_type(name)[0] or "application/octet-stream").lower()
                caption = text[:1024] or None
                # Test helpers of fakegram's Actor cover these; replies with our own bytes need the same injection.
                if ctype in PHOTO_TYPES:
                    content = actor._photo_content(caption, data)
                    return actor._inject("photo", content, thread_id=thread_id, reply_to=target)
                content = actor._document_content(name, data, caption, ctype)
                return actor._inject(
                    "document", content, thread_id=thread_id, reply_to=target, file_name=name
                )
            if not text:
                raise SandboxError("empty message")
            msg = await actor.send(text[:4096], thread_id=thread_id, reply_to=target)
        except AssertionError as exc:
            raise SandboxError(str(exc)) from None
        keyboard = self.keyboards.get(chat_id)
        if keyboard is not None and keyboard.get("one_time") and any(text in row for row in keyboard["rows"]):
            self.keyboards.pop(chat_id, None)
            self.notify()
        return msg

    async def press(self, *, user_id: int, chat_id: int, message_id: int, data: str) -> CallAnswer:
        server, _ = self._need_world()
        actor = self._actor(user_id, chat_id)
        msg = server.get_message(chat_id, message_id)
        if msg is None or msg.deleted:
            raise SandboxError("the message is gone")
        if not any(d == data for _, d in msg.buttons):
            raise SandboxError("the button is gone")
        try:
            return await actor.press_data(msg, data, timeout=15)
        except AssertionError:
            raise SandboxError("the bot did not answer the button (is it running?)") from None

    def set_clock(
        self,
        *,
        preset: str | None = None,
        moment: str | None = None,
        advance_minutes: float | None = None,
        real: bool = False,
    ) -> None:
        try:
            if real:
                self.clock.reset()
            elif preset is not None:
                self.clock.set(preset_moment(preset, self.clock(), self.tz, self.profile))
            elif moment is not None:
                self.clock.set(parse_local(moment, self.tz))
            elif advance_minutes is not None:
                self.clock.advance(timedelta(minutes=advance_minutes))
            else:
                raise SandboxError("nothing to set")
        except (KeyError, ValueError):
            raise SandboxError("a moment like 2026-09-12T20:00 or a known preset is expected") from None
        self.notify()

    def file(self, file_id: str) -> tuple[bytes, str]:
        server, _ = self._need_world()
        rec = server.world.files.get(file_id)
        if rec is None:
            raise SandboxError("no such file")
        mime = rec.mime_type
        if rec.kind == "photo" or not mime:
            mime = (
                "image/png"
                if rec.data.startswith(b"\x89PNG")
                else "image/jpeg"
                if rec.kind == "photo"
                else None
            )
        return rec.data, mime or "application/octet-stream"

    # ==== what the page shows =========================================================================
    def _track_keyboards(self, server: FakeTelegram) -> None:
        calls = server.calls
        for call in calls[self._calls_seen :]:
            if not call.ok or not call.method.startswith("send") or "reply_markup" not in call.params:
                continue
            change = reply_keyboard(call.params.get("reply_markup"))
            if change is False:
                continue
            try:
                chat_id = int(call.params.get("chat_id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if change is None:
                self.keyboards.pop(chat_id, None)
            elif isinstance(change, dict):
                self.keyboards[chat_id] = change
        self._calls_seen = len(calls)

    def snapshot(self) -> JsonDict:
        """The whole visible state: people, chats (with topics and reply keyboards), messages, clock, status."""
        state: JsonDict = {
            "generation": self.generation,
            "status": self.status,
            "error": self.error,
            "forum": self.forum,
            # The page shows the bot's time as its own clock plus this offset, ticking by itself.
            "clock": {
                "offset_ms": round(self.clock.offset.total_seconds() * 1000),
                "shifted": self.clock.shifted,
                "timezone": str(self.tz),
            },
            "school": self.profile.short_name,
            "people": [],
            "chats": [],
            "messages": [],
        }
        server, group = self.server, self.group
        if server is None or group is None:
            return state
        self._track_keyboards(server)
        state["bot"] = {"name": BOT_NAME, "username": BOT_USERNAME}
        state["staff_chat_id"] = group.id
        state["people"] = [p.to_json() for p in self.people.values()]
        messages: list[JsonDict] = []
        for chat in server.chats.values():
            state["chats"].append(
                {
                    "id": chat.id,
                    "type": chat.type,
                    "title": chat.title or (chat.user.full_name if chat.user else ""),
                    "is_forum": chat.is_forum,
                    "topics": [
                        {
                            "thread_id": t.thread_id,
                            "name": t.name,
                            "closed": t.closed,
                            "icon_color": t.icon_color,
                        }
                        for t in chat.topics.values()
                        if not t.deleted
                    ],
                    "keyboard": self.keyboards.get(chat.id),
                }
            )
            for msg in chat.messages.values():
                messages.append(
                    message_view(
                        msg.raw,
                        from_bot=msg.from_bot,
                        deleted=msg.deleted,
                        edited=bool(msg.edits),
                        is_service=msg.kind == "service",
                    )
                )
        state["messages"] = messages
        return state
