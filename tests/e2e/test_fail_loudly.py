"""Failing loudly: ``python main.py`` against a Bot API that refuses, is unreachable, answers a proxy's HTML
page or redirects in a loop ends with a non-zero status and one line saying what to fix, within a bounded
time; SIGTERM ends it at any stage; the database gone later ends it too. The token is in no output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from fakegram import FakeTelegram
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]


def bot_env(base: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "TELEGRAM_", "STAFF_", "DATABASE_", "STARTUP_", "LOG_"))
    }
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=base,
        STAFF_CHAT_ID="-1001234567890",
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        FLOOD_CONTROL="off",
        STARTUP_ATTEMPTS="3",
        STARTUP_BACKOFF_SECONDS="0.2",
        LOG_LEVEL="DEBUG",
    )
    env.update(extra)
    return env


async def run_main(
    env: dict[str, str],
    *,
    timeout: float = 60.0,  # noqa: ASYNC109
    term_when: Callable[[str], bool] | None = None,
) -> tuple[int, str, float]:
    """Run ``python main.py`` to its end: (exit status, stdout and stderr, seconds from the SIGTERM if
    ``term_when(output so far)`` asked for one, else from the start)."""
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    chunks: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            chunks.append(line.decode())

    reader = asyncio.create_task(read())
    try:
        if term_when is not None:
            while not term_when("".join(chunks)):
                assert proc.returncode is None, "".join(chunks)[-3000:]
                assert time.monotonic() - began < timeout, "".join(chunks)[-3000:]
                await asyncio.sleep(0.05)
            began = time.monotonic()
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout)
        await asyncio.wait_for(reader, 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"the bot did not exit within {timeout:.0f} s:\n{''.join(chunks)[-3000:]}")
    assert proc.returncode is not None
    return proc.returncode, "".join(chunks), time.monotonic() - began


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def assert_no_secret(output: str) -> None:
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """A misbehaving "proxy" in front of the Bot API: /html answers nginx's 502 page, /loop redirects to
    itself, /hang never answers. Yields its base URL and the calls per kind."""
    calls = {"html": 0, "loop": 0, "hang": 0}

    async def handle(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        calls[kind] += 1
        if kind == "html":
            return web.Response(
                status=502,
                text="<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
                content_type="text/html",
            )
        if kind == "loop":
            raise web.HTTPTemporaryRedirect(location=str(request.url))
        await asyncio.sleep(3600)
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/{kind}/bot{token}/{method}", handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        await runner.cleanup()


async def test_a_refused_token_stops_the_bot_at_once(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    env = bot_env(fake_telegram.base_url, tmp_path, BOT_TOKEN="654321:REVOKED-abcdefghijklmnopqrstuvwxyz")
    code, out, _ = await run_main(env, timeout=60)
    refused = [c for c in fake_telegram.rejected if c.method == "getMe"]
    fake_telegram.rejected.clear()  # the refusal this test asked for
    assert code == 1, out[-3000:]
    assert len(refused) == 1, "at once: a refused token is not retried"
    assert "retrying" not in out
    assert "Telegram refused the token" in last_line(out) and "@BotFather" in last_line(out)
    assert "Traceback" not in out
    assert "REVOKED-abcdefghijklmnopqrstuvwxyz" not in out


async def test_an_unreachable_telegram_stops_the_bot_after_a_few_retries(tmp_path: Path) -> None:
    code, out, _ = await run_main(bot_env(f"http://127.0.0.1:{closed_port()}", tmp_path), timeout=30)
    assert code == 1, out[-3000:]
    line = last_line(out)
    assert "Telegram is unreachable" in line and "after 3 attempts" in line, line
    assert out.count("retrying in") == 2
    assert "Traceback" not in out
    assert_no_secret(out)


async def test_a_proxys_html_502_page_is_retried_then_stops_the_bot(
    proxy: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    base, calls = proxy
    code, out, _ = await run_main(bot_env(f"{base}/html", tmp_path), timeout=30)
    assert code == 1, out[-3000:]
    assert calls["html"] == 3
    assert "Telegram is unreachable" in last_line(out) and "HTTP 502" in last_line(out)
    assert "Traceback" not in out
    assert_no_secret(out)


async def test_a_redirect_loop_stops_the_bot_without_printing_the_url(
    proxy: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    base, calls = proxy
    code, out, _ = await run_main(bot_env(f"{base}/loop", tmp_path), timeout=30)
    assert code == 1, out[-3000:]
    assert calls["loop"] >= 1
    assert "redirects in a loop" in last_line(out) and "TELEGRAM_API_BASE" in last_line(out)
    assert "Traceback" not in out
    assert_no_secret(out)


async def test_a_malformed_api_base_is_refused_without_the_token(tmp_path: Path) -> None:
    code, out, _ = await run_main(bot_env("http://127.0.0.1:99999", tmp_path), timeout=30)
    assert code == 2, out[-3000:]
    assert "TELEGRAM_API_BASE must be" in out
    assert_no_secret(out)


async def test_sigterm_during_start_up_is_honoured(proxy: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    # Telegram that never answers, and retries for minutes: SIGTERM still ends the process at once.
    base, calls = proxy
    env = bot_env(f"{base}/hang", tmp_path, STARTUP_ATTEMPTS="50", STARTUP_BACKOFF_SECONDS="5")
    code, out, took = await run_main(env, timeout=60, term_when=lambda _: calls["hang"] >= 1)
    assert code == 0, out[-3000:]
    assert took < 10, out[-3000:]
    assert_no_secret(out)
    # The same while it waits to retry an unreachable one.
    env = bot_env(
        f"http://127.0.0.1:{closed_port()}", tmp_path, STARTUP_ATTEMPTS="50", STARTUP_BACKOFF_SECONDS="5"
    )
    code, out, took = await run_main(env, timeout=60, term_when=lambda out: "retrying in" in out)
    assert code == 0, out[-3000:]
    assert took < 10, out[-3000:]


async def test_the_database_gone_stops_a_running_bot(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    group = fake_telegram.add_group(title="staff", forum=False, members=[], admins=[], bot_is_admin=True)
    env = bot_env(fake_telegram.base_url, tmp_path, STAFF_CHAT_ID=str(group.id), TICK_SECONDS="0.2")
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "main.py", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        # Running once its first long poll arrives (a poll is recorded only when it ends, 25 s later).
        while not fake_telegram.arrived("getUpdates"):
            assert proc.returncode is None and time.monotonic() - began < 60, "the bot did not start"
            await asyncio.sleep(0.1)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{env['DATABASE_PATH']}{suffix}")
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = out.decode()
    assert proc.returncode == 1, log[-3000:]
    assert "the database failed" in last_line(log) and "is gone" in last_line(log)
    assert_no_secret(log)


async def test_the_doctor_explains_a_bad_api_address_without_the_token(
    proxy: tuple[str, dict[str, int]], tmp_path: Path
) -> None:
    base, _calls = proxy
    for kind, said in (("loop", "redirects in a loop"), ("html", "HTTP 502")):
        env = bot_env(f"{base}/{kind}", tmp_path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "main.py",
            "doctor",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        text = out.decode()
        assert proc.returncode == 1, text[-3000:]
        assert said in text and "how to fix" in text, text[-3000:]
        assert "Traceback" not in text
        assert_no_secret(text)
