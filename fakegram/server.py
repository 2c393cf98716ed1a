"""FakeTelegram: the HTTP server (Bot API + file downloads) and the in-process test API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import spec
from .limits import Chaos, FakeStats, FaultInjector, FloodControl, Limits, drop_connection, message_weight
from .methods import BotApi, Request
from .spec import ApiError, Upload
from .state import Call, CallAnswer, FakeChat, FakeUser, InjectedFailure, Msg, Topic, full_rights
from .world import World

# Telegram's placeholder author of an anonymous administrator's message in a group.
ANONYMOUS_ADMIN = FakeUser(
    id=1087968824, first_name="Group", username="GroupAnonymousBot", is_bot=True, started=True
)

if TYPE_CHECKING:
    from .actors import Actor

JsonDict = dict[str, Any]

_FAILURE_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FakeTelegram:
    """A fake Telegram Bot API server on 127.0.0.1 with a scriptable world.

    Point aiogram at it with ``TelegramAPIServer.from_base(server.base_url)``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "test_bot",
        bot_first_name: str = "Test Bot",
        *,
        strict_html_entities: bool = True,
        check_responses: bool = True,
        limits: bool | Limits = False,
        chaos: Chaos | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock``: Unix time for the dates on messages (the real time unless a test or the sandbox moves
        it)."""
        self.world = World(token, bot_username, bot_first_name, clock)
        self.api = BotApi(self.world, strict_html_entities=strict_html_entities)
        self.check_responses = check_responses
        self.stats = FakeStats()
        self.flood: FloodControl | None = None
        self.faults: FaultInjector | None = None
        if limits:
            self.enable_limits(limits if isinstance(limits, Limits) else None)
        if chaos is not None:
            self.set_chaos(chaos)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.settle = 0.02
        """How long a watched bot (see :meth:`watch_bot`) must be quiet after handling, for wait_idle."""
        self.app = self._make_app()

    # ==== lifecycle ===================================================================================
    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        from .control import add_control_routes
        from .limits import add_fault_routes

        add_control_routes(app, self)
        add_fault_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        self.world.poll_generation += 1  # releases waiting long polls
        self.world.bump()
        await self.world.webhook.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot

    # ==== HTTP ========================================================================================
    @staticmethod
    def _json(body: JsonDict, status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
        )

    async def _read_request(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        ctype = request.content_type
        if request.method == "POST" and request.can_read_body:
            if ctype.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    data = await part.read(decode=True)
                    if part.filename is not None:
                        up = Upload(
                            filename=part.filename,
                            data=bytes(data),
                            content_type=part.headers.get("Content-Type", "application/octet-stream"),
                        )
                        uploads[part.name] = up
                        raw[part.name] = up
                    else:
                        raw[part.name] = bytes(data).decode("utf-8", errors="replace")
            elif ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON encoded request")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        raw[key] = value
                    elif isinstance(value, web.FileField):
                        up = Upload(value.filename, value.file.read(), value.content_type)
                        uploads[key] = up
                        raw[key] = up
                    else:
                        raw[key] = bytes(value).decode("utf-8", errors="replace")
        return raw, uploads

    @staticmethod
    def _loggable(params: dict[str, Any]) -> JsonDict:
        return {k: (repr(v) if isinstance(v, Upload) else v) for k, v in params.items()}

    def _record(self, call: Call, rejected: bool) -> None:
        self.world.calls.append(call)
        if rejected:
            self.world.rejected.append(call)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method_raw = request.match_info["method"]
        tracked = method_raw.lower() != "getupdates"
        w = self.world
        if tracked:
            w.in_flight += 1
        w.bump()
        call = Call(method=method_raw, params={})
        self.stats.calls += 1
        try:
            if request.match_info["token"] != w.token:
                raise ApiError(401, "Unauthorized")
            method = spec.resolve_method(method_raw)
            if method is None:
                raise ApiError(404, "Not Found")
            call.method = method
            w.arrivals[method] += 1
            w.bump()
            raw, uploads = await self._read_request(request)
            call.params = self._loggable(raw)
            fate = self.faults.decide(method) if self.faults is not None else None
            if fate is not None:
                if fate.delay:
                    self.stats.delayed += 1
                    await asyncio.sleep(fate.delay)
                if fate.outcome == "error":
                    self.stats.server_errors += 1
                    raise ApiError(fate.status, _FAILURE_TEXT[fate.status], rejected=False)
                if fate.outcome == "drop":
                    self.stats.dropped += 1
                    call.ok, call.status, call.error = False, 0, "connection dropped (injected)"
                    self._record(call, rejected=False)
                    return drop_connection(request)
            injected = self._take_failure(method, raw)
            if injected is not None:
                raise injected
            parsed = spec.parse_params(method, raw, uploads)
            call.params = self._loggable(parsed.params)
            w.warnings.extend(parsed.warnings)
            if method == "getUpdates":
                offset = parsed.params.get("offset")
                if isinstance(offset, int) and offset > 0:
                    # A poll confirms every update before its offset: the bot has taken them in.
                    w.confirmed_upto = max(w.confirmed_upto, offset - 1)
            self._check_flood(method, parsed.params)
            result = await self.api.call(Request(method, parsed.params, uploads))
            call.result = result
            if self.check_responses:
                self._check_result(method, result)
            if fate is not None and fate.outcome == "lost":
                self.stats.lost_replies += 1
                call.error = "reply lost after the call took effect (injected)"
                self._record(call, rejected=False)
                return drop_connection(request)
            self._record(call, rejected=False)
            return self._json({"ok": True, "result": result})
        except ApiError as e:
            call.ok = False
            call.error = e.description
            call.status = e.status
            self._record(call, rejected=e.rejected)
            if not e.rejected:
                w.warnings.append(f"{call.method}: {e.status} {e.description}")
            return self._json(e.body(), status=e.status)
        finally:
            if tracked:
                w.in_flight -= 1
            w.bump()

    def _check_result(self, method: str, result: Any) -> None:
        returns = spec.method_returns(method)
        if len(returns) != 1:
            return
        problems = spec.check_object(returns[0], result)
        for problem in problems[:5]:
            self.world.warnings.append(f"fakegram bug: {method} result does not match the spec: {problem}")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.world.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        for rec in self.world.files.values():
            if rec.file_path == path:
                return web.Response(body=rec.data, content_type=rec.mime_type or "application/octet-stream")
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    # ==== flood limits and fault injection =============================================================
    def enable_limits(self, limits: Limits | None = None) -> FloodControl:
        """Answer sends over Telegram's flood limits with 429 (``limits`` None = Telegram's defaults)."""
        self.flood = FloodControl(limits)
        return self.flood

    def disable_limits(self) -> None:
        self.flood = None

    def set_chaos(self, chaos: Chaos | None = None, **rates: Any) -> Chaos:
        """Inject faults at the given rates: ``set_chaos(error_rate=0.1, drop_rate=0.05, seed=1)``.
        ``set_chaos()`` with nothing switches them off."""
        config = chaos if chaos is not None else Chaos(**rates)
        self.faults = FaultInjector(config) if config.active else None
        return config

    def _check_flood(self, method: str, params: dict[str, Any]) -> None:
        if self.flood is None or "chat_id" not in params:
            return
        chat_ref = params["chat_id"]
        chat_key: int | str = chat_ref
        private = False
        try:
            chat_key = int(chat_ref)
        except (TypeError, ValueError):
            pass
        chat = self.world.chats.get(chat_key) if isinstance(chat_key, int) else None
        if chat is not None:
            private = chat.is_private
        elif isinstance(chat_key, int):
            private = chat_key > 0
        retry = self.flood.check(method, chat_key, private, message_weight(method, params))
        if retry is not None:
            self.stats.too_many += 1
            self.stats.too_many_by_chat[chat_key if isinstance(chat_key, int) else 0] += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry}", parameters={"retry_after": retry}, rejected=False
            )
        if self.flood.counted(method, private):
            self.stats.sent_by_chat[chat_key if isinstance(chat_key, int) else 0] += 1

    # ==== failure injection ===========================================================================
    def fail_next(
        self,
        method: str | None = "sendMessage",
        chat_id: int | str | None = None,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail (429 carries parameters.retry_after)."""
        self.world.failures.append(InjectedFailure(method, chat_id, status, retry_after, count, description))

    def _take_failure(self, method: str, raw: dict[str, Any]) -> ApiError | None:
        for f in self.world.failures:
            if f.count <= 0:
                continue
            if f.method is not None and f.method.lower() != method.lower():
                continue
            if f.chat_id is not None and str(raw.get("chat_id")) != str(f.chat_id):
                continue
            f.count -= 1
            self.world.failures = [x for x in self.world.failures if x.count > 0]
            if f.status == 429:
                retry = f.retry_after if f.retry_after is not None else 1
                desc = f.description or f"Too Many Requests: retry after {retry}"
                return ApiError(429, desc, parameters={"retry_after": retry}, rejected=False)
            desc = f.description or _FAILURE_TEXT.get(f.status, "Internal Server Error")
            return ApiError(f.status, desc, rejected=False)
        return None

    # ==== world setup =================================================================================
    def add_user(
        self,
        first_name: str = "Тест",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        *,
        user_id: int | None = None,
        is_premium: bool = False,
    ) -> FakeUser:
        return self.world.add_user(first_name, last_name, username, language_code, user_id, is_premium)

    def add_group(
        self,
        title: str = "Группа",
        forum: bool = False,
        members: Iterable[FakeUser] | None = None,
        admins: Iterable[FakeUser] | None = None,
        bot_is_admin: bool = True,
        bot_can_manage_topics: bool = True,
        *,
        owner: FakeUser | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        basic: bool = False,
    ) -> FakeChat:
        """A group with the bot in it: a supergroup (optionally a forum), or with ``basic=True`` a basic
        group (type "group", no topics, no threads) that :meth:`migrate_group` can upgrade."""
        return self.world.add_group(
            title,
            forum,
            list(members or []),
            list(admins or []),
            bot_is_admin,
            bot_can_manage_topics,
            owner,
            username,
            chat_id,
            basic,
        )

    def migrate_group(
        self, chat: FakeChat, *, forum: bool = False, by: FakeUser | None = None, notify: bool = True
    ) -> FakeChat:
        """Upgrade a basic group to a supergroup (a forum with ``forum=True``, as when topics are turned
        on); returns the new chat. From then on every call naming the old id fails with 400 "group chat
        was upgraded to a supergroup chat" and ``parameters.migrate_to_chat_id``, and the bot gets the
        service messages (``migrate_to_chat_id`` in the old group, ``migrate_from_chat_id`` in the new;
        ``notify=False`` holds them back, so that the bot first learns of it from a refused call)."""
        return self.world.migrate_group(chat, forum=forum, by=by, notify=notify)

    def add_member(self, chat: FakeChat, user: FakeUser, *, admin: bool = False, **rights: bool) -> None:
        chat.members[user.id] = user
        if admin:
            chat.admins[user.id] = full_rights(**rights)
        else:
            chat.admins.pop(user.id, None)

    def set_bot_rights(self, chat: FakeChat, *, admin: bool = True, **rights: bool) -> None:
        """Make the bot an admin with the given rights (default all) or a plain member."""
        chat.bot_status = "administrator" if admin else "member"
        chat.bot_rights = full_rights(can_promote_members=False, **rights) if admin else {}

    def remove_bot_from(self, chat: FakeChat, *, kicked: bool = False, by: FakeUser | None = None) -> None:
        """The bot is removed from a group; sends there fail with 403. A my_chat_member update is queued."""
        old = self.api.member_dict(chat, self.world.bot)
        chat.bot_status = "kicked" if kicked else "left"
        new = self.api.member_dict(chat, self.world.bot)
        actor = by or next(iter(self.world.users.values()), self.world.bot)
        self.world.push_update(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": actor.to_dict(),
                "date": int(self.world.clock()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    def create_topic(self, chat: FakeChat, name: str, *, by: FakeUser | None = None) -> Topic:
        """A topic created by a user (or the bot when ``by`` is None) without the bot's request."""
        if not chat.is_forum:
            raise ValueError("not a forum")
        topic = self.world.create_topic(chat, name, creator=by)
        if by is not None and self.world.bot_in(chat):
            assert topic.service is not None
            self.world.push_update("message", topic.service.raw)
        return topic

    def actor(self, user: FakeUser, chat: FakeChat | None = None, thread_id: int | None = None) -> Actor:
        from .actors import Actor

        if chat is None:
            chat = self.world.chats[user.id]
        elif not chat.is_private and user.id not in chat.members:
            chat.members[user.id] = user
        return Actor(self, user, chat, thread_id)

    def anonymous_admin(self, chat: FakeChat, *, signature: str | None = None) -> Actor:
        """An administrator of ``chat`` posting anonymously ("Remain anonymous" on): their messages come
        from GroupAnonymousBot with ``sender_chat`` = the group, signed with their custom title if set."""
        from .actors import Actor

        return Actor(self, ANONYMOUS_ADMIN, chat, as_chat=True, signature=signature)

    # ==== inspection ==================================================================================
    @property
    def calls(self) -> list[Call]:
        return self.world.calls

    @property
    def rejected(self) -> list[Call]:
        return self.world.rejected

    @property
    def warnings(self) -> list[str]:
        return self.world.warnings

    @property
    def users(self) -> dict[int, FakeUser]:
        return self.world.users

    @property
    def chats(self) -> dict[int, FakeChat]:
        return self.world.chats

    def arrived(self, method: str) -> int:
        """How many ``method`` requests have reached the server so far, finished or not: a bot is polling
        as soon as its long poll arrives, a second or more before that poll is recorded as a call."""
        return self.world.arrivals[spec.resolve_method(method) or method]

    async def wait_arrival(self, method: str, after: int, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """Wait until more than ``after`` ``method`` requests have arrived; False on timeout."""
        return await self.world.wait_for(lambda: self.arrived(method) > after, timeout)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.world.calls if c.method.lower() == method.lower()]

    def topics(self, chat: FakeChat | int) -> list[Topic]:
        c = self.world.chats[chat if isinstance(chat, int) else chat.id]
        return list(c.topics.values())

    def chat_messages(self, chat_id: FakeChat | int, thread_id: int | None = None) -> list[Msg]:
        c = self.world.chats[chat_id if isinstance(chat_id, int) else chat_id.id]
        msgs = list(c.messages.values())
        if thread_id is not None:
            msgs = [m for m in msgs if m.thread_id == thread_id]
        return msgs

    def get_message(self, chat_id: FakeChat | int, message_id: int) -> Msg | None:
        c = self.world.chats[chat_id if isinstance(chat_id, int) else chat_id.id]
        return c.messages.get(message_id)

    def file_bytes(self, file_id: str) -> bytes:
        return self.world.files[file_id].data

    def callback_answer(self, query_id: str) -> CallAnswer | None:
        return self.world.callbacks.get(query_id)

    def updates_pending(self) -> int:
        return self.world.updates_pending()

    def watch_bot(self, busy: Callable[[], bool]) -> Callable[[], None]:
        """Let an in-process bot say whether it is still handling what it has fetched (``busy()``, cheap and
        synchronous). :meth:`wait_idle` (and so :meth:`Actor.press`) then knows when the bot is done instead
        of guessing from a quiet period. Returns the function that stops watching (call it when the bot
        stops)."""
        w = self.world
        w.busy_probes.append(busy)

        def unwatch() -> None:
            if busy in w.busy_probes:
                w.busy_probes.remove(busy)

        return unwatch

    async def wait_idle(self, timeout: float = 5.0, quiet: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every injected update was fetched and no bot request has been in flight for
        ``quiet`` seconds. Raises AssertionError on timeout.

        A bot watched with :meth:`watch_bot` must also have confirmed what it fetched (its next getUpdates
        came, or the webhook was answered) and be done handling it; then ``quiet`` defaults to
        :attr:`settle` (for work the handlers leave to background tasks), else to 0.1 s."""
        w = self.world
        watched = bool(w.busy_probes)
        if quiet is None:
            quiet = self.settle if watched else 0.1

        def idle() -> bool:
            if not w.all_fetched() or w.in_flight:
                return False
            if w.busy_probes:
                if not w.webhook.active and w.confirmed_upto < w.fetched_upto:
                    return False  # fetched, not yet stored and handed to the handlers
                if any(busy() for busy in w.busy_probes):
                    return False
            return time.monotonic() - w.last_activity >= quiet

        if not await w.wait_for(idle, timeout, interval=0.01 if watched else 0.05):
            raise AssertionError(
                f"fakegram: not idle after {timeout}s (pending updates={w.updates_pending()}, "
                f"unfetched={not w.all_fetched()}, requests in flight={w.in_flight}, "
                f"bot busy={any(busy() for busy in w.busy_probes)}); is the bot polling?"
            )

    def assert_no_rejections(self) -> None:
        if self.world.rejected:
            lines = "\n".join(f"  {c.method}: {c.status} {c.error} params={c.params}" for c in self.world.rejected)
            raise AssertionError(f"Telegram would have rejected {len(self.world.rejected)} call(s):\n{lines}")

    def state(self) -> JsonDict:
        """JSON-friendly snapshot (used by the control API)."""
        w = self.world
        return {
            "bot": w.bot.to_dict(),
            "base_url": self.base_url,
            "users": [u.to_dict() | {"started": u.started, "blocked": u.blocked} for u in w.users.values()],
            "chats": [
                c.to_dict()
                | {
                    "bot_status": c.bot_status,
                    "topics": [t.to_dict() | {"closed": t.closed, "deleted": t.deleted} for t in c.topics.values()],
                    "message_count": len(c.messages),
                }
                for c in w.chats.values()
            ],
            "pending_updates": w.updates_pending(),
            "calls": len(w.calls),
            "rejected": [{"method": c.method, "status": c.status, "error": c.error} for c in w.rejected],
            "warnings": w.warnings[-50:],
        }
