"""Failing loudly: what stops the bot for good says so in one line and ends the process.

A service manager (systemd, Docker) restarts a process that exits non-zero and shows why in its journal; a
process that stays alive doing nothing is never restarted. So start-up either reaches polling or ends the
process within a bounded time: a refused token at once, an unreachable Telegram after a few retries with
backoff (about a minute by default), a stop signal at any stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.session import RedirectLoop

log = logging.getLogger(__name__)

T = TypeVar("T")

REFUSED_TOKEN = (
    "Telegram refused the token (401 Unauthorized): BOT_TOKEN is wrong or was revoked; "
    "get the current token from @BotFather (/mybots -> API Token) and put it into .env"
)


class Fatal(Exception):
    """The bot cannot go on. ``str()`` is one line: what failed and how to fix it."""


class Stopped(Exception):
    """A stop signal arrived before the stage finished."""


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T:
    """``await work``, unless ``stop`` is set first: then ``work`` is cancelled and :class:`Stopped` raised."""
    task = asyncio.ensure_future(work)
    if stop.is_set():
        task.cancel()
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise Stopped
    if task.cancelled():
        raise Stopped
    return task.result()


def _transient(exc: BaseException) -> bool:
    return isinstance(
        exc, TelegramServerError | TelegramNetworkError | TelegramRetryAfter | ClientDecodeError
    ) and not isinstance(exc, RedirectLoop)


def describe(exc: BaseException) -> str:
    """A short description of a failed call, without the answer's body."""
    if isinstance(exc, ClientDecodeError):
        return "the answer was not the Bot API's JSON (an HTML error page from a proxy?)"
    if isinstance(exc, TelegramAPIError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


async def check_telegram(
    bot: Bot,
    *,
    where: str,
    attempts: int = 6,
    backoff: float = 2.0,
    max_backoff: float = 30.0,
    request_timeout: int = 10,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Ask Telegram who we are (``getMe``) before anything else.

    A refused token, a wrong address, a redirect loop: :class:`Fatal` at once (retrying cannot help).
    Telegram unreachable, a 5xx, an HTML page from a proxy: retried ``attempts`` times with exponential
    backoff from ``backoff`` seconds (6 and 2 s: about a minute), then :class:`Fatal`.
    ``where`` names the Bot API server without the token.
    """
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            me = await bot.get_me(request_timeout=request_timeout)
        except TelegramUnauthorizedError:
            raise Fatal(REFUSED_TOKEN) from None
        except TelegramNotFound:
            raise Fatal(
                f"the Bot API at {where} answered 404 Not Found: check TELEGRAM_API_BASE "
                "(leave it empty for Telegram) and BOT_TOKEN"
            ) from None
        except RedirectLoop:
            raise Fatal(
                f"the Bot API at {where} redirects in a loop: check TELEGRAM_API_BASE and the proxy in front of it"
            ) from None
        except Exception as exc:
            if not _transient(exc):
                raise Fatal(f"the Bot API at {where} refused getMe: {describe(exc)}") from None
            if attempt >= attempts:
                raise Fatal(
                    f"Telegram is unreachable at {where} after {attempts} attempts ({describe(exc)}): "
                    "check the network, the proxy and TELEGRAM_API_BASE; the service manager restarts the bot"
                ) from None
            pause = min(max_backoff, delay) * (0.9 + random.random() / 5)
            log.warning(
                "start-up: Telegram not reachable (%s), attempt %d of %d; retrying in %.1f s",
                describe(exc),
                attempt,
                attempts,
                pause,
            )
            await sleep(pause)
            delay *= 2
        else:
            log.info("start-up: Telegram answers, the bot is @%s", me.username)
            return
