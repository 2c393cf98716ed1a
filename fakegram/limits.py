"""Telegram's flood limits and injected network faults for the fake server.

Both are off unless switched on (``FakeTelegram(limits=True, chaos=Chaos(...))``, ``server.enable_limits()``,
``server.set_chaos(...)`` or ``POST /_fake/limits`` / ``POST /_fake/chaos``), so ordinary tests see a perfect
Telegram.

Flood limits (as documented in the Bot FAQ and seen in practice):

* a private chat: about 1 message per second, with a short burst (token bucket);
* a group: 20 messages per minute (sliding window); a forum is one group, all its topics share it;
  edits, captions and topic creation count there too, since each changes what members see;
* everything together: about 30 messages per second (token bucket).

A send over a limit gets ``429 Too Many Requests: retry after N`` with ``parameters.retry_after`` and is
not performed; it costs no budget, so a client that waits ``retry_after`` gets through.

Faults, drawn per call from a seedable random generator: a share of 500/502 answers, dropped connections
(the socket closes before the call is performed), lost replies (the call is performed, then the socket
closes: the client cannot know it worked), and delays. :class:`FakeStats` counts everything.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .server import FakeTelegram

JsonDict = dict[str, Any]

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendPaidMedia",
    }
)
"""Methods that post a message: counted in every chat."""

GROUP_ONLY_METHODS = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageMedia", "createForumTopic"}
)
"""Methods that count against a group's budget only (in private chats edits are not limited)."""


@dataclass
class Limits:
    """Flood limits; the defaults are Telegram's."""

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30
    send_methods: frozenset[str] = SEND_METHODS
    group_only_methods: frozenset[str] = GROUP_ONLY_METHODS

    @classmethod
    def from_json(cls, data: JsonDict, base: Limits | None = None) -> Limits:
        current = asdict(base or cls())
        for f in fields(cls):
            if f.name in data and data[f.name] is not None:
                value = data[f.name]
                current[f.name] = (
                    frozenset(value) if f.name.endswith("methods") else type(current[f.name])(value)
                )
        return cls(**current)

    def to_json(self) -> JsonDict:
        d = asdict(self)
        d["send_methods"] = sorted(self.send_methods)
        d["group_only_methods"] = sorted(self.group_only_methods)
        return d


@dataclass
class Chaos:
    """Fault injection rates (shares of calls, 0..1). ``methods`` None = every method."""

    error_rate: float = 0.0
    drop_rate: float = 0.0
    lost_reply_rate: float = 0.0
    delay_rate: float = 0.0
    delay_min: float = 0.05
    delay_max: float = 0.5
    seed: int | None = None
    methods: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        total = self.error_rate + self.drop_rate + self.lost_reply_rate
        if min(self.error_rate, self.drop_rate, self.lost_reply_rate, self.delay_rate) < 0 or total > 1:
            raise ValueError("fault rates must be >= 0 and error+drop+lost_reply <= 1")
        if self.delay_rate > 1 or not 0 <= self.delay_min <= self.delay_max:
            raise ValueError("delay_rate must be <= 1 and 0 <= delay_min <= delay_max")

    @property
    def active(self) -> bool:
        return self.error_rate + self.drop_rate + self.lost_reply_rate + self.delay_rate > 0

    def applies_to(self, method: str) -> bool:
        if method in self.exclude:
            return False
        return self.methods is None or method in self.methods

    @classmethod
    def from_json(cls, data: JsonDict) -> Chaos:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in ("methods", "exclude"):
                kwargs[f.name] = None if value is None else frozenset(str(m) for m in value)
            elif f.name == "seed":
                kwargs[f.name] = None if value is None else int(value)
            else:
                kwargs[f.name] = float(value)
        return cls(**kwargs)

    def to_json(self) -> JsonDict:
        d = asdict(self)
        d["methods"] = None if self.methods is None else sorted(self.methods)
        d["exclude"] = sorted(self.exclude)
        return d


@dataclass
class Fate:
    """What happens to one call: ``outcome`` is ok, error (``status`` 500/502), drop or lost."""

    outcome: str = "ok"
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeStats:
    """What the fake server did to the bot: 429s, faults, and the sends that went through."""

    calls: int = 0
    too_many: int = 0
    too_many_by_chat: Counter[int] = field(default_factory=Counter)
    sent_by_chat: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    dropped: int = 0
    lost_replies: int = 0
    delayed: int = 0

    def reset(self) -> None:
        fresh = FakeStats()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    def to_json(self) -> JsonDict:
        return {
            "calls": self.calls,
            "too_many": self.too_many,
            "too_many_by_chat": {str(k): v for k, v in self.too_many_by_chat.items()},
            "sent_by_chat": {str(k): v for k, v in self.sent_by_chat.items()},
            "server_errors": self.server_errors,
            "dropped": self.dropped,
            "lost_replies": self.lost_replies,
            "delayed": self.delayed,
        }


class TokenBucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def wait(self, now: float, weight: float) -> float:
        """Seconds until ``weight`` tokens are there (0 = now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        need = min(weight, self.burst)
        return 0.0 if self.tokens >= need else (need - self.tokens) / self.rate

    def take(self, weight: float) -> None:
        self.tokens -= min(weight, self.burst)


class SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.times: deque[float] = deque()

    def wait(self, now: float, weight: int) -> float:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        need = min(weight, self.limit)
        if len(self.times) + need <= self.limit:
            return 0.0
        # The send fits once enough of the oldest sends have left the window.
        oldest = self.times[len(self.times) + need - self.limit - 1]
        return oldest + self.window - now

    def take(self, now: float, weight: int) -> None:
        self.times.extend([now] * min(weight, self.limit))


class FloodControl:
    """Decides whether a call goes through now or gets a 429 (and for how long)."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self._private: dict[int | str, TokenBucket] = {}
        self._groups: dict[int | str, SlidingWindow] = {}
        self._global: TokenBucket | None = None

    def counted(self, method: str, private: bool) -> bool:
        return method in self.limits.send_methods or (
            not private and method in self.limits.group_only_methods
        )

    def check(self, method: str, chat: int | str, private: bool, weight: int = 1) -> int | None:
        """None = allowed (and the budget is spent); otherwise the retry_after to answer with."""
        if not self.counted(method, private):
            return None
        lim = self.limits
        now = self.clock()
        if self._global is None:
            self._global = TokenBucket(lim.global_per_second, lim.global_burst, now)
        waits = [self._global.wait(now, weight)]
        if private:
            bucket = self._private.get(chat)
            if bucket is None:
                bucket = self._private[chat] = TokenBucket(lim.private_per_second, lim.private_burst, now)
            waits.append(bucket.wait(now, weight))
        else:
            window = self._groups.get(chat)
            if window is None:
                window = self._groups[chat] = SlidingWindow(lim.group_per_minute, 60.0)
            waits.append(window.wait(now, weight))
        wait = max(waits)
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take(weight)
        if private:
            self._private[chat].take(weight)
        else:
            self._groups[chat].take(now, weight)
        return None


class FaultInjector:
    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.rng = random.Random(chaos.seed)

    def decide(self, method: str) -> Fate:
        c = self.chaos
        if not c.active or not c.applies_to(method):
            return Fate()
        fate = Fate()
        if c.delay_rate and self.rng.random() < c.delay_rate:
            fate.delay = self.rng.uniform(c.delay_min, c.delay_max)
        r = self.rng.random()
        if r < c.error_rate:
            fate.outcome, fate.status = "error", self.rng.choice((500, 502))
        elif r < c.error_rate + c.drop_rate:
            fate.outcome = "drop"
        elif r < c.error_rate + c.drop_rate + c.lost_reply_rate:
            fate.outcome = "lost"
        return fate


def message_weight(method: str, params: JsonDict) -> int:
    """How many messages one call posts (albums and batch copies count each message)."""
    key = {"sendMediaGroup": "media", "copyMessages": "message_ids", "forwardMessages": "message_ids"}.get(
        method
    )
    if key is None:
        return 1
    value = params.get(key)
    return max(1, len(value)) if isinstance(value, list) else 1


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket without an answer; the returned response is never written."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=499)


def add_fault_routes(app: web.Application, server: FakeTelegram) -> None:
    """POST /_fake/limits {enabled, ...Limits fields}; POST /_fake/chaos {...Chaos fields};
    GET /_fake/stats; POST /_fake/stats/reset."""

    def ok(data: Any) -> web.Response:
        return web.json_response({"ok": True, "result": data})

    async def body(request: web.Request) -> JsonDict:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def limits(request: web.Request) -> web.Response:
        d = await body(request)
        if d.get("enabled", True):
            server.enable_limits(Limits.from_json(d, server.flood.limits if server.flood else None))
        else:
            server.disable_limits()
        return ok(
            {"enabled": server.flood is not None, **(server.flood.limits.to_json() if server.flood else {})}
        )

    async def chaos(request: web.Request) -> web.Response:
        try:
            config = Chaos.from_json(await body(request))
        except (ValueError, TypeError) as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)
        server.set_chaos(config)
        return ok(config.to_json())

    async def stats(request: web.Request) -> web.Response:
        return ok(server.stats.to_json())

    async def reset(request: web.Request) -> web.Response:
        server.stats.reset()
        return ok(server.stats.to_json())

    app.router.add_post("/_fake/limits", limits)
    app.router.add_post("/_fake/chaos", chaos)
    app.router.add_get("/_fake/stats", stats)
    app.router.add_post("/_fake/stats/reset", reset)
