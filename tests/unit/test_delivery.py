"""The delivery middleware on its own: retries, per-chat pauses, blocked users."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetMe, GetUpdates, SendMessage

from bot.delivery import DeliveryMiddleware, FloodLimiter
from tests.timing import VirtualTime


class Script:
    """A make_request that fails as scripted per chat, then succeeds."""

    def __init__(self, failures: dict[int, list[Exception]]) -> None:
        self.failures = failures
        self.calls: list[tuple[int, float]] = []

    async def __call__(self, bot: Any, method: Any) -> str:
        chat = method.chat_id if hasattr(method, "chat_id") else 0
        self.calls.append((chat, time.monotonic()))
        queue = self.failures.get(chat, [])
        if queue:
            raise queue.pop(0)
        return "ok"


def send(chat: int) -> SendMessage:
    return SendMessage(chat_id=chat, text="x")


async def settle(rounds: int = 20) -> None:
    """Let the other tasks run until they wait on something."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_retry_after_pauses_only_that_chat() -> None:
    clock = VirtualTime(auto=False)
    m = DeliveryMiddleware(sleep=clock.sleep, monotonic=clock.monotonic)
    method = send(1)
    script = Script({1: [TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=1)]})
    slow = asyncio.create_task(m(script, None, method))  # type: ignore[arg-type]
    await settle()
    assert clock.sleeping == 1, "chat 1 waits for its retry_after"
    # Meanwhile another chat is not held: its call goes through while chat 1 still waits.
    assert await m(script, None, send(2)) == "ok"  # type: ignore[arg-type]
    clock.advance(0.9)
    await settle()
    assert not slow.done(), "chat 1 waits the whole retry_after"
    clock.advance(0.1)
    assert await slow == "ok"
    assert m.stats["retry_after"] == 1


async def test_server_and_network_errors_are_retried_with_a_bound() -> None:
    clock = VirtualTime()
    # Retries only: pacing (the limiter's one message a second per chat) is tested on its own.
    m = DeliveryMiddleware(
        base_backoff=0.5, max_attempts=3, limiter=FloodLimiter.off(), sleep=clock.sleep, monotonic=clock.monotonic
    )
    method = send(1)
    script = Script(
        {1: [TelegramServerError(method=method, message="Bad Gateway"), TelegramNetworkError(method=method, message="x")]}
    )
    assert await m(script, None, method) == "ok"  # type: ignore[arg-type]
    failing = Script({1: [TelegramServerError(method=method, message="Internal") for _ in range(5)]})
    with pytest.raises(TelegramServerError):
        await m(failing, None, method)  # type: ignore[arg-type]
    assert len(failing.calls) == 3
    # Two backoffs per run (0.5 s, then 1 s, each with +-25% jitter), no wait after the last attempt.
    assert 2 * 0.75 * 1.5 <= clock.slept <= 2 * 1.25 * 1.5


async def test_bad_request_is_not_retried() -> None:
    m = DeliveryMiddleware(base_backoff=0.01)
    method = send(1)
    script = Script({1: [TelegramBadRequest(method=method, message="Bad Request: chat not found")]})
    with pytest.raises(TelegramBadRequest):
        await m(script, None, method)  # type: ignore[arg-type]
    assert len(script.calls) == 1


async def test_forbidden_marks_private_chats_only() -> None:
    m = DeliveryMiddleware()
    blocked: list[int] = []

    async def on_blocked(chat: int) -> None:
        blocked.append(chat)

    m.on_blocked = on_blocked
    for chat in (5, -100123):
        method = send(chat)
        script = Script({chat: [TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")]})
        with pytest.raises(TelegramForbiddenError):
            await m(script, None, method)  # type: ignore[arg-type]
    assert blocked == [5]


async def test_get_updates_passes_straight_through() -> None:
    m = DeliveryMiddleware()
    method = GetUpdates()
    script = Script({0: [TelegramServerError(method=method, message="Bad Gateway")]})
    with pytest.raises(TelegramServerError):
        await m(script, None, method)  # type: ignore[arg-type]


async def test_a_callback_answer_that_is_too_old_does_not_stop_the_handler() -> None:
    from aiogram.methods import AnswerCallbackQuery

    m = DeliveryMiddleware()
    method = AnswerCallbackQuery(callback_query_id="1")

    async def refuse(bot: Any, method: Any) -> Any:
        raise TelegramBadRequest(
            method=method, message="Bad Request: query is too old and response timeout expired or query id is invalid"
        )

    response = await m(refuse, None, method)  # type: ignore[arg-type]
    assert response.ok and response.result is True


async def test_an_edit_to_what_the_message_already_shows_is_not_an_error() -> None:
    """A button press handled again after a restart edits its message a second time: the handler goes on."""
    from aiogram.methods import EditMessageReplyMarkup

    m = DeliveryMiddleware()
    edit = EditMessageReplyMarkup(chat_id=1, message_id=5, reply_markup=None)
    not_modified = (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    script = Script({1: [TelegramBadRequest(method=edit, message=not_modified)]})
    response = await m(script, None, edit)  # type: ignore[arg-type]
    assert response.ok and response.result is True
    # The same refusal for a new message is a real error.
    sending = send(1)
    script = Script({1: [TelegramBadRequest(method=sending, message=not_modified)]})
    with pytest.raises(TelegramBadRequest):
        await m(script, None, sending)  # type: ignore[arg-type]


async def test_an_html_error_page_is_a_transient_server_error() -> None:
    """aiogram's ClientDecodeError (a proxy's HTML page instead of JSON) is retried like a 5xx, and after
    the last attempt reaches callers as a TelegramServerError they handle (issue 13)."""
    m = DeliveryMiddleware(base_backoff=0.01, max_attempts=3)
    method = send(1)
    page = "<html><title>502 Bad Gateway</title></html>"
    script = Script({1: [ClientDecodeError("Failed to decode object", ValueError("x"), page)]})
    assert await m(script, None, method) == "ok"  # type: ignore[arg-type]
    assert len(script.calls) == 2
    failing = Script({1: [ClientDecodeError("Failed to decode object", ValueError("x"), page) for _ in range(5)]})
    with pytest.raises(TelegramServerError):
        await m(failing, None, method)  # type: ignore[arg-type]
    assert len(failing.calls) == 3
    assert m.stats["server_errors"] == 4


async def test_the_start_up_check_passes_straight_through() -> None:
    """getMe has its own backoff (bot/startup.py): the middleware does not multiply it."""
    m = DeliveryMiddleware(base_backoff=0.01)
    method = GetMe()
    script = Script({0: [TelegramServerError(method=method, message="Bad Gateway")]})
    with pytest.raises(TelegramServerError):
        await m(script, None, method)  # type: ignore[arg-type]
    assert len(script.calls) == 1
