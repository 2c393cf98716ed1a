"""Flood limits (429 with retry_after) and injected faults (5xx, dropped connections, lost replies, delays)."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import BufferedInputFile, InputMediaPhoto

from fakegram import FakeTelegram
from fakegram.actors import TINY_JPEG
from fakegram.limits import Chaos, FaultInjector, FloodControl, Limits, message_weight
from fakegram.state import FakeUser


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


PRIVATE = 5000000001
GROUP = -1001234567890


def sends(
    flood: FloodControl, chat: int, n: int, *, private: bool, method: str = "sendMessage"
) -> list[int | None]:
    return [flood.check(method, chat, private) for _ in range(n)]


# ---- pure rules --------------------------------------------------------------------------------------


def test_private_chat_allows_a_short_burst_then_one_per_second() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(private_burst=3), clock)
    assert sends(flood, PRIVATE, 3, private=True) == [None, None, None]
    assert flood.check("sendMessage", PRIVATE, True) == 1
    clock.now += 0.5
    assert flood.check("sendMessage", PRIVATE, True) == 1  # half a token: rounded up to a whole second
    clock.now += 0.5
    assert flood.check("sendMessage", PRIVATE, True) is None
    assert flood.check("sendMessage", PRIVATE, True) == 1
    # Another private chat has its own budget.
    assert flood.check("sendMessage", PRIVATE + 1, True) is None


def test_group_allows_twenty_per_minute_across_all_topics() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(), clock)
    for i in range(20):
        # A forum: the thread does not matter, the chat id is the budget.
        assert flood.check("sendMessage" if i % 2 else "copyMessage", GROUP, False) is None
        clock.now += 1
    assert flood.check("sendMessage", GROUP, False) == 40  # the first send leaves the window at t=60
    clock.now += 39.5
    assert flood.check("sendMessage", GROUP, False) == 1
    clock.now += 0.5
    assert flood.check("sendMessage", GROUP, False) is None
    assert flood.check("sendMessage", GROUP, False) == 1


def test_edits_and_topics_count_in_groups_only() -> None:
    flood = FloodControl(Limits(group_per_minute=2), FakeClock())
    assert flood.check("editMessageText", GROUP, False) is None
    assert flood.check("createForumTopic", GROUP, False) is None
    assert flood.check("editMessageText", GROUP, False) is not None
    assert all(flood.check("editMessageText", PRIVATE, True) is None for _ in range(10))
    assert all(flood.check("getChat", GROUP, False) is None for _ in range(10))
    assert all(flood.check("answerCallbackQuery", PRIVATE, True) is None for _ in range(10))


def test_thirty_per_second_overall() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(), clock)
    results = [flood.check("sendMessage", PRIVATE + i, True) for i in range(31)]
    assert results[:30] == [None] * 30
    assert results[30] == 1
    clock.now += 0.04  # a little over 1/30 s: one token back
    assert flood.check("sendMessage", PRIVATE + 99, True) is None


def test_a_refused_send_costs_nothing() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(private_burst=1), clock)
    assert flood.check("sendMessage", PRIVATE, True) is None
    for _ in range(5):
        assert flood.check("sendMessage", PRIVATE, True) == 1
    clock.now += 1
    assert flood.check("sendMessage", PRIVATE, True) is None


def test_albums_count_each_message() -> None:
    assert message_weight("sendMediaGroup", {"media": [{}, {}, {}]}) == 3
    assert message_weight("copyMessages", {"message_ids": [1, 2]}) == 2
    assert message_weight("sendMessage", {"text": "x"}) == 1
    flood = FloodControl(Limits(group_per_minute=4), FakeClock())
    assert flood.check("sendMediaGroup", GROUP, False, 3) is None
    assert flood.check("sendMediaGroup", GROUP, False, 2) is not None
    assert flood.check("sendMessage", GROUP, False) is None


def test_faults_are_reproducible_with_a_seed_and_near_their_rates() -> None:
    chaos = Chaos(error_rate=0.1, drop_rate=0.05, lost_reply_rate=0.02, delay_rate=0.2, seed=7)
    first, second = FaultInjector(chaos), FaultInjector(chaos)
    fates = [first.decide("sendMessage") for _ in range(4000)]
    assert fates == [second.decide("sendMessage") for _ in range(4000)]
    outcomes = [f.outcome for f in fates]
    assert 320 <= outcomes.count("error") <= 480
    assert 140 <= outcomes.count("drop") <= 260
    assert 40 <= outcomes.count("lost") <= 130
    assert 680 <= sum(1 for f in fates if f.delay) <= 920
    assert {f.status for f in fates if f.outcome == "error"} == {500, 502}
    assert all(0.05 <= f.delay <= 0.5 for f in fates if f.delay)


def test_faults_respect_method_filters() -> None:
    injector = FaultInjector(Chaos(error_rate=1.0, exclude=frozenset({"getUpdates"})))
    assert injector.decide("getUpdates").outcome == "ok"
    assert injector.decide("sendMessage").outcome == "error"
    only = FaultInjector(Chaos(drop_rate=1.0, methods=frozenset({"copyMessage"})))
    assert only.decide("sendMessage").outcome == "ok"
    assert only.decide("copyMessage").outcome == "drop"


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        Chaos(error_rate=0.7, drop_rate=0.5)
    with pytest.raises(ValueError):
        Chaos(delay_min=2, delay_max=1)


# ---- through the HTTP server and aiogram ----------------------------------------------------------------


async def started_user(server: FakeTelegram) -> FakeUser:
    user = server.add_user(first_name="Анна")
    await server.actor(user).send("/start")
    return user


async def test_limits_are_off_by_default(server: FakeTelegram, bot: Bot) -> None:
    user = await started_user(server)
    for i in range(10):
        await bot.send_message(user.id, f"m{i}")
    assert server.stats.too_many == 0


async def test_429_with_retry_after_per_chat(server: FakeTelegram, bot: Bot) -> None:
    server.enable_limits(Limits(private_burst=2))
    user, other = await started_user(server), await started_user(server)
    await bot.send_message(user.id, "1")
    await bot.send_message(user.id, "2")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user.id, "3")
    assert caught.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in caught.value.message
    await bot.send_message(other.id, "other chats keep flowing")
    assert [m.text for m in server.actor(user).inbox] == ["1", "2"]
    assert server.stats.too_many == 1
    assert server.stats.too_many_by_chat == {user.id: 1}
    assert server.stats.sent_by_chat[user.id] == 2 and server.stats.sent_by_chat[other.id] == 1
    assert not server.rejected  # a 429 is Telegram's answer, not a mistake of the bot


async def test_forum_topics_share_the_group_budget(server: FakeTelegram, bot: Bot) -> None:
    server.enable_limits(Limits(group_per_minute=3))
    group = server.add_group("staff", forum=True)
    t1 = await bot.create_forum_topic(group.id, "one")
    t2 = await bot.create_forum_topic(group.id, "two")
    await bot.send_message(group.id, "in one", message_thread_id=t1.message_thread_id)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.id, "in two", message_thread_id=t2.message_thread_id)
    assert 55 <= caught.value.retry_after <= 60
    with pytest.raises(TelegramRetryAfter):
        await bot.send_media_group(group.id, [InputMediaPhoto(media="x"), InputMediaPhoto(media="y")])
    assert server.stats.too_many == 2


async def test_server_errors_and_delays(server: FakeTelegram, bot: Bot) -> None:
    user = await started_user(server)
    server.set_chaos(error_rate=1.0, delay_rate=1.0, delay_min=0.01, delay_max=0.02, seed=1)
    for _ in range(4):
        with pytest.raises(TelegramServerError):
            await bot.send_message(user.id, "never")
    assert server.stats.server_errors == 4 and server.stats.delayed == 4
    assert server.actor(user).inbox == []
    server.set_chaos()
    await bot.send_message(user.id, "back to normal")
    assert [m.text for m in server.actor(user).inbox] == ["back to normal"]


async def test_dropped_connection_does_not_perform_the_call(server: FakeTelegram, bot: Bot) -> None:
    user = await started_user(server)
    server.set_chaos(drop_rate=1.0)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(user.id, "dropped")
    assert server.actor(user).inbox == []
    assert server.stats.dropped == 1


async def test_lost_reply_performs_the_call(server: FakeTelegram, bot: Bot) -> None:
    user = await started_user(server)
    server.set_chaos(lost_reply_rate=1.0)
    with pytest.raises(TelegramNetworkError):
        await bot.send_photo(user.id, photo=_photo(), caption="arrived anyway")
    [msg] = server.actor(user).inbox
    assert msg.caption == "arrived anyway"
    assert server.stats.lost_replies == 1


def _photo() -> BufferedInputFile:
    return BufferedInputFile(TINY_JPEG, "p.jpg")


async def test_control_api_switches_limits_and_faults(server: FakeTelegram, bot: Bot) -> None:
    user = await started_user(server)
    async with aiohttp.ClientSession(base_url=server.base_url) as http:
        async with http.post("/_fake/limits", json={"private_burst": 1}) as r:
            body = await r.json()
            assert body["result"]["enabled"] is True and body["result"]["private_burst"] == 1
        async with http.post("/_fake/chaos", json={"error_rate": 0.5, "seed": 3}) as r:
            assert (await r.json())["result"]["error_rate"] == 0.5
        async with http.post("/_fake/chaos", json={"error_rate": 2}) as r:
            assert r.status == 400
        assert server.faults is not None and server.faults.chaos.seed == 3
        server.set_chaos()
        await bot.send_message(user.id, "one")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(user.id, "two")
        async with http.get("/_fake/stats") as r:
            stats = (await r.json())["result"]
        assert stats["too_many"] == 1 and stats["too_many_by_chat"] == {str(user.id): 1}
        async with http.post("/_fake/limits", json={"enabled": False}) as r:
            assert (await r.json())["result"]["enabled"] is False
        await bot.send_message(user.id, "three")
        async with http.post("/_fake/stats/reset") as r:
            assert (await r.json())["result"]["too_many"] == 0


def test_constructor_switches() -> None:
    server = FakeTelegram(limits=True, chaos=Chaos(drop_rate=0.1, seed=1))
    assert server.flood is not None and server.flood.limits == Limits()
    assert server.faults is not None and server.faults.chaos.drop_rate == 0.1
    assert FakeTelegram().flood is None and FakeTelegram().faults is None
