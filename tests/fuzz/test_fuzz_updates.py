"""Fuzzing the update path: thousands of random, odd and malformed updates must not break the bot.

Two routes, both with the production wiring (``create_app``):

* ``dp.feed_raw_update`` with unusual-but-valid updates (no sender, a channel, a foreign chat, a
  forum service message, huge texts, entities pointing past the text, forged callback data, unknown
  update types) and malformed ones (required fields missing, wrong types);
* the real polling loop, the updates queued on the fake Telegram server.

Properties: no exception escapes the dispatcher except pydantic's refusal of a malformed update;
nothing but Telegram's refusals of forged references (unknown query ids, chats or messages) reaches the
errors router; every call Telegram would refuse is such a refusal; and after every batch the bot still
answers a user who writes ``/help``.

``FUZZ_EXAMPLES`` (default 40: the first batches of the deeper runs, which take a minute more) sets the
number of batches fed to the dispatcher (a third of that, at least ten, goes through the polling loop);
``FUZZ_EXAMPLES=80`` or more for a deeper run, ``FUZZ_RANDOM=1`` explores new inputs instead of the
reproducible default.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import load_settings
from bot.factory import App, create_app
from fakegram import FakeTelegram
from tests.conftest import TOKEN, Harness

JsonDict = dict[str, Any]

pytestmark = [
    # aiogram warns (RuntimeWarning) about update types it does not know and skips them: that is the
    # behaviour we want for Bot API additions, not an error.
    pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning"),
    pytest.mark.timeout(300),
]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Telegram's refusals of references that only a forger (or a fuzzer) makes up.
EXPECTED_REFUSALS = (
    "query is too old",
    "chat not found",
    "message to edit not found",
    "message to copy not found",
    "message to reply not found",
    "message to delete not found",
    "message can't be edited",
    "message thread not found",
    "thread not found",
    "TOPIC_ID_INVALID",
    "bot was blocked",
    "bot can't initiate conversation",
    "user not found",
    "PARTICIPANT_ID_INVALID",
)


def expected_refusal(text: str | None) -> bool:
    return any(s in (text or "") for s in EXPECTED_REFUSALS)


# ---- strategies ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ids:
    users: tuple[int, ...]  # users who exist on the fake server and have started the bot
    staff: int
    group: int
    forum: bool
    bot: int


@functools.cache
def big_ints() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-5, 5), st.integers(1, 2**31))


@functools.cache
def names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(["", " ", "<b>x</b>", "&amp;", "Анна", "\u202eevil", "a" * 300, "\x00", "👨‍👩‍👧"]),
    )


@functools.cache
def texts() -> st.SearchStrategy[str]:
    commands = st.sampled_from(
        [
            "/start",
            "/start payload",
            "/help",
            "/cancel",
            "/contacts",
            "/role",
            "/language",
            "/faq",
            "/schedule",
            "/START",
            "/help@school_help_bot",
            "/help@other_bot",
            "/",
            "/unknown_command",
            "//note",
            "/skip",
        ]
    )
    huge = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(600, 3000))
    return st.one_of(
        st.text(max_size=200), commands, huge, st.sampled_from(["", " ", "\n", "<i>", "&", "👍"])
    )


@functools.cache
def entities() -> st.SearchStrategy[list[JsonDict]]:
    entity = st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "bot_command",
                    "bold",
                    "italic",
                    "url",
                    "text_link",
                    "mention",
                    "text_mention",
                    "pre",
                    "code",
                    "custom_emoji",
                    "blockquote",
                    "expandable_blockquote",
                    "spoiler",
                    "future_entity_type",
                ]
            ),
            "offset": st.integers(-3, 9000),
            "length": st.integers(-3, 9000),
        },
        optional={"url": st.text(max_size=30), "language": st.text(max_size=10)},
    )
    return st.lists(entity, max_size=5)


@functools.cache
def users(ids: Ids) -> st.SearchStrategy[JsonDict]:
    uid = st.one_of(st.sampled_from([*ids.users, ids.staff]), st.integers(1, 2**52), st.just(ids.bot))
    return st.fixed_dictionaries(
        {"id": uid, "is_bot": st.booleans(), "first_name": names()},
        optional={
            "last_name": names(),
            "username": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,20}", fullmatch=True),
            "language_code": st.sampled_from(["ru", "en", "de", "", "zz-ZZ", "uk"]),
            "is_premium": st.booleans(),
        },
    )


@functools.cache
def chats(ids: Ids) -> st.SearchStrategy[JsonDict]:
    private = st.builds(
        lambda i, n: {"id": i, "type": "private", "first_name": n},
        st.one_of(st.sampled_from(ids.users), st.integers(1, 2**52)),
        names(),
    )
    staff = st.just({"id": ids.group, "type": "supergroup", "title": "ЭЖ: помощь", "is_forum": ids.forum})
    foreign = st.builds(
        lambda i, t, n: {"id": i, "type": t, "title": n},
        st.integers(-(10**13), -1),
        st.sampled_from(["group", "supergroup", "channel"]),
        names(),
    )
    return st.one_of(private, private, staff, foreign)


@functools.cache
def photo() -> st.SearchStrategy[list[JsonDict]]:
    size = st.fixed_dictionaries(
        {
            "file_id": st.text(min_size=1, max_size=20),
            "file_unique_id": st.text(min_size=1, max_size=10),
            "width": st.integers(0, 5000),
            "height": st.integers(0, 5000),
        }
    )
    return st.lists(size, min_size=1, max_size=3)


def sender(chat: JsonDict, ids: Ids) -> st.SearchStrategy[JsonDict | None]:
    """Telegram's invariants: in a private chat the sender is that user; in a channel nobody; in a group
    anyone, or nobody (an anonymous admin posts as the chat)."""
    if chat["type"] == "private":
        return st.builds(lambda u: {**u, "id": chat["id"], "is_bot": False}, users(ids))
    if chat["type"] == "channel":
        return st.none()
    return st.one_of(st.none(), users(ids))


@functools.cache
@st.composite
def messages(draw: st.DrawFn, ids: Ids, depth: int = 1) -> JsonDict:
    optional: dict[str, st.SearchStrategy[Any]] = {
        "text": texts(),
        "entities": entities(),
        "caption": texts(),
        "caption_entities": entities(),
        "photo": photo(),
        "document": st.fixed_dictionaries(
            {"file_id": st.text(min_size=1, max_size=20), "file_unique_id": st.text(min_size=1, max_size=10)},
            optional={"file_name": names(), "mime_type": st.text(max_size=20)},
        ),
        "sticker": st.fixed_dictionaries(
            {
                "file_id": st.just("CAAC1"),
                "file_unique_id": st.just("u1"),
                "type": st.just("regular"),
                "width": st.just(512),
                "height": st.just(512),
                "is_animated": st.booleans(),
                "is_video": st.booleans(),
            }
        ),
        "contact": st.fixed_dictionaries({"phone_number": st.text(max_size=15), "first_name": names()}),
        "location": st.fixed_dictionaries(
            {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
        ),
        "message_thread_id": big_ints(),
        "is_topic_message": st.booleans(),
        "forum_topic_created": st.fixed_dictionaries({"name": names(), "icon_color": st.integers(0, 2**24)}),
        "new_chat_members": st.lists(users(ids), max_size=2),
        "left_chat_member": users(ids),
        "migrate_to_chat_id": st.integers(-(10**13), -1),
        "media_group_id": st.text(min_size=1, max_size=10),
        "edit_date": st.integers(0, 2**31),
    }
    if depth > 0:
        optional["reply_to_message"] = messages(ids, depth - 1)
    msg: JsonDict = draw(
        st.fixed_dictionaries({"message_id": big_ints(), "date": st.integers(0, 2**32)}, optional=optional)
    )
    chat = draw(chats(ids))
    msg["chat"] = chat
    who = draw(sender(chat, ids))
    if who is not None:
        msg["from"] = who
    elif chat["type"] != "private":
        msg["sender_chat"] = chat
    return msg


@functools.cache
def callback_data() -> st.SearchStrategy[str]:
    prefixes = st.sampled_from(
        ["r", "t", "c", "d", "u", "s", "xc", "l", "kb", "fq", "sm", "sa", "ce", "cmp", "zz", ""]
    )
    field = st.one_of(
        st.sampled_from(
            [
                "par",
                "stu",
                "tea",
                "ej",
                "ed",
                "send",
                "chg",
                "cxl",
                "cl",
                "x",
                "es",
                "v",
                "ru",
                "en",
                "o",
                "y",
                "n",
                "h",
                "a",
                "in",
                "out",
                "pub",
                "del",
                "ls",
                "ask",
                "yes",
                "no",
                "",
            ]
        ),
        st.integers(-(2**63), 2**63).map(str),
        st.text(max_size=12),
    )
    forged = st.builds(lambda p, fs: ":".join([p, *fs]), prefixes, st.lists(field, max_size=4))
    return st.one_of(forged, st.text(max_size=64), st.binary(max_size=64).map(lambda b: b.decode("latin-1")))


@functools.cache
@st.composite
def callbacks(draw: st.DrawFn, ids: Ids) -> JsonDict:
    inaccessible = st.builds(lambda c, m: {"chat": c, "message_id": m, "date": 0}, chats(ids), big_ints())
    query: JsonDict = draw(
        st.fixed_dictionaries(
            {
                "id": st.text(min_size=1, max_size=20),
                "from": users(ids),
                "chat_instance": st.text(max_size=20),
            },
            optional={
                "data": callback_data(),
                "message": st.one_of(messages(ids, depth=0), inaccessible),
                "inline_message_id": st.text(min_size=1, max_size=20),
                "game_short_name": st.text(max_size=10),
            },
        )
    )
    chat = query.get("message", {}).get("chat", {})
    if chat.get("type") == "private":
        query["from"] = {**query["from"], "id": chat["id"], "is_bot": False}  # only that user can press there
    return query


@functools.cache
def member_updates(ids: Ids) -> st.SearchStrategy[JsonDict]:
    member = st.builds(
        lambda u, s: {"user": u, "status": s} | ({"until_date": 0} if s == "kicked" else {}),
        users(ids),
        st.sampled_from(["member", "left", "kicked"]),
    )
    return st.fixed_dictionaries(
        {
            "chat": chats(ids),
            "from": users(ids),
            "date": st.integers(0, 2**31),
            "old_chat_member": member,
            "new_chat_member": member,
        }
    )


@functools.cache
def valid_updates(ids: Ids) -> st.SearchStrategy[JsonDict]:
    """Updates that follow the Bot API's types (required fields present), however odd their content."""
    unknown_payload = st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=10)), max_size=3
    )
    kinds: list[st.SearchStrategy[tuple[str, Any]]] = [
        st.tuples(st.just("message"), messages(ids)),
        st.tuples(st.just("message"), messages(ids)),
        st.tuples(st.just("message"), messages(ids)),
        st.tuples(st.just("edited_message"), messages(ids)),
        st.tuples(st.just("channel_post"), messages(ids)),
        st.tuples(st.just("callback_query"), callbacks(ids)),
        st.tuples(st.just("callback_query"), callbacks(ids)),
        st.tuples(st.just("my_chat_member"), member_updates(ids)),
        st.tuples(st.just("chat_member"), member_updates(ids)),
        st.tuples(
            st.just("inline_query"),
            st.fixed_dictionaries(
                {
                    "id": st.text(min_size=1, max_size=10),
                    "from": users(ids),
                    "query": texts(),
                    "offset": st.just(""),
                }
            ),
        ),
        st.tuples(st.sampled_from(["future_update", "business_something", "story"]), unknown_payload),
    ]
    return st.builds(
        lambda uid, kv: {"update_id": uid, kv[0]: kv[1]}, st.integers(1, 2**31), st.one_of(*kinds)
    )


@functools.cache
def malformed_updates(ids: Ids) -> st.SearchStrategy[JsonDict]:
    """Updates that break the types: a required field missing or of the wrong type."""

    def breaking(update: JsonDict, mode: int, junk: Any) -> JsonDict:
        kind = next(k for k in update if k != "update_id")
        body = update[kind]
        if not isinstance(body, dict) or not body:
            return {"update_id": junk if mode == 0 else update["update_id"], kind: junk}
        key = sorted(body)[mode % len(body)]
        broken = dict(body)
        if mode % 2:
            broken.pop(key)
        else:
            broken[key] = junk
        return {"update_id": update["update_id"], kind: broken}

    def impossible(update: JsonDict, stranger: JsonDict) -> JsonDict:
        # Types right, Telegram's invariants wrong: a private message without a sender, or from someone else.
        body = update.get("message")
        if not isinstance(body, dict):
            return update
        body = dict(body)
        if body.get("from") is None or body["chat"]["type"] != "private":
            body["chat"] = {"id": ids.users[0], "type": "private", "first_name": "x"}
        if stranger["id"] % 2:
            body.pop("from", None)
        else:
            body["from"] = stranger
        return {"update_id": update["update_id"], "message": body}

    junk = st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.just({"x": 1}))
    return st.one_of(
        st.builds(breaking, valid_updates(ids), st.integers(0, 12), junk),
        st.builds(impossible, valid_updates(ids), users(ids)),
    )


# ---- fixtures and checks ----------------------------------------------------------------------------------


class ErrorRecords(logging.Handler):
    """Collects what reached the errors router (and anything aiogram logged as an error)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def unexpected(self) -> list[str]:
        out = []
        for r in self.records:
            exc = r.exc_info[1] if r.exc_info else None
            if isinstance(exc, TelegramAPIError) and expected_refusal(exc.message):
                continue
            out.append(f"{r.name}: {r.getMessage()} {exc!r}")
        return out


@pytest.fixture
def error_records() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    loggers = [logging.getLogger(n) for n in ("handlers.errors", "aiogram.dispatcher", "aiogram.event")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def unexpected_refusals(server: FakeTelegram) -> list[str]:
    """Refused calls other than the expected ones; the expected ones are dropped from ``rejected``."""
    bad = [c for c in server.rejected if not expected_refusal(c.error)]
    server.rejected[:] = bad
    return [f"{c.method}: {c.error} {str(c.params)[:200]}" for c in bad]


def unpaced(app: App) -> None:
    """The fuzz is about handling updates, not pacing: let the bot send without waiting for its own
    flood budget (the fake server has no limits here), so a few thousand updates take seconds."""
    limiter = getattr(app.delivery, "limiter", None)
    if limiter is not None and hasattr(limiter, "acquire"):

        async def no_wait(*args: object, **kwargs: object) -> None:
            return None

        limiter.acquire = no_wait


@dataclass
class Fed:
    server: FakeTelegram
    app: App
    ids: Ids


@pytest.fixture
async def fed(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Fed]:
    server = fake_telegram
    specialist = server.add_user("Ирина")
    group = server.add_group("ЭЖ: помощь", forum=True, members=[specialist], admins=[specialist])
    # Many known users: the bot paces its messages to each chat (about 1 a second), so a few would be slow.
    known = [server.add_user(f"Пользователь{i}") for i in range(12)]
    for u in known:
        u.started = True
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": server.base_url,
        "STAFF_CHAT_ID": str(group.id),
        "DATABASE_PATH": str(tmp_path / "fuzz.sqlite3"),
    }
    app = await create_app(load_settings(env))
    await app.staff_moves.detect_mode(app.bot)
    unpaced(app)
    ids = Ids(tuple(u.id for u in known), specialist.id, group.id, True, server.bot_user.id)
    try:
        yield Fed(server, app, ids)
    finally:
        await app.close()


async def probe_answers(fed: Fed) -> bool:
    """A new user writes /help through the dispatcher; True when the bot answered them."""
    probe = fed.server.add_user("Проба")
    probe.started = True
    before = len(fed.server.calls)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": probe.id, "type": "private", "first_name": "Проба"},
            "from": {"id": probe.id, "is_bot": False, "first_name": "Проба", "language_code": "ru"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    await fed.app.dp.feed_raw_update(fed.app.bot, update)
    return any(
        c.method == "sendMessage" and str(c.params.get("chat_id")) == str(probe.id) and c.ok
        for c in fed.server.calls[before:]
    )


# ---- the tests --------------------------------------------------------------------------------------------

MALFORMED: Counter[str] = Counter()
COUNTS: Counter[str] = Counter()


@FUZZ
@given(data=st.data())
async def test_dispatcher_survives_random_updates(
    fed: Fed, error_records: ErrorRecords, data: st.DataObject
) -> None:
    batch = data.draw(st.lists(valid_updates(fed.ids), min_size=20, max_size=50), label="valid")
    broken = data.draw(st.lists(malformed_updates(fed.ids), max_size=8), label="malformed")
    for raw in batch:
        await fed.app.dp.feed_raw_update(fed.app.bot, raw)
    COUNTS["dispatcher: valid"] += len(batch)
    COUNTS["dispatcher: malformed"] += len(broken)
    assert not error_records.unexpected(), error_records.unexpected()[:5]
    assert not unexpected_refusals(fed.server)
    for raw in broken:
        try:
            await fed.app.dp.feed_raw_update(fed.app.bot, raw)
        except ValidationError:
            MALFORMED["refused by the types"] += 1  # refused at the door: nothing was handled
        else:
            MALFORMED["handled"] += 1
    # Updates Telegram never sends may end in the errors router (logged and swallowed); they are counted.
    MALFORMED["errors router"] += len(error_records.unexpected())
    error_records.records.clear()
    unexpected_refusals(fed.server)
    fed.server.rejected.clear()
    assert await probe_answers(fed), "the bot stopped answering /help"


async def test_polling_loop_survives_random_updates(forum_desk: Harness, error_records: ErrorRecords) -> None:
    h = forum_desk
    server = h.server
    assert h.app is not None
    unpaced(h.app)
    known = [h.user(f"Пользователь{i}") for i in range(12)]
    for actor in known:
        await actor.send("/help")
        await actor.expect("Что я умею")
    ids = Ids(tuple(a.user.id for a in known), h.specialist.id, h.group.id, True, server.bot_user.id)
    probe = h.user("Проба")
    pushed = 0

    @settings(FUZZ, max_examples=max(10, EXAMPLES // 3))
    @given(batch=st.lists(valid_updates(ids), min_size=15, max_size=40))
    def collect(batch: list[JsonDict]) -> None:
        for raw in batch:
            Update.model_validate(raw)  # the generator's promise: the polling loop can parse it
        batches.append(batch)

    # Hypothesis drives a synchronous function here; the batches are then played into the running bot.
    batches: list[list[JsonDict]] = []
    collect()
    for batch in batches:
        for raw in batch:
            kind = next(k for k in raw if k != "update_id")
            server.world.push_update(kind, raw[kind])
            pushed += 1
        await server.wait_idle(timeout=30)
        assert not error_records.unexpected(), error_records.unexpected()[:5]
        assert not unexpected_refusals(server)
    await probe.send("/help")
    await probe.expect("Что я умею", timeout=10)
    COUNTS["polling"] += pushed
    print(f"fuzz: {dict(COUNTS)}; malformed: {dict(MALFORMED)}")  # shown with -s
    assert pushed >= 15 * len(batches) and len(batches) >= 10
