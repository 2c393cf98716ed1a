"""The bot as the README runs it: ``python main.py`` in its own process, and ``python main.py doctor``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.config import load_settings
from bot.doctor import run_doctor
from fakegram import FakeTelegram
from tests.conftest import TOKEN
from tests.e2e.helpers import press_on

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "STAFF_", "DATABASE_"))
    }
    env.update(extra)
    return env


async def test_without_a_token_it_starts_the_sandbox_and_prints_its_address(tmp_path: Path) -> None:
    # As the README runs it (`make run` = `python main.py`) with no token: the sandbox starts instead.
    env = clean_env(BOT_TOKEN="", SANDBOX_PORT="0", SANDBOX_DATABASE=str(tmp_path / "sandbox.sqlite3"))
    env.pop("SANDBOX_HOST", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    url = ""
    try:
        while not url:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "the sandbox exited before printing its address:\n" + "".join(lines)
            lines.append(line)
            url = next((w for w in line.split() if w.startswith("http://127.0.0.1:")), "")
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200
                html = await page.text()
            async with http.get(url + "api/state") as state:
                snapshot = await state.json()
        assert "Локальная песочница" in html
        assert snapshot["status"] == "running"
        assert any(p["side"] == "staff" for p in snapshot["people"])
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    output = "".join(lines) + rest.decode()
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "BOT_TOKEN" in output and "@BotFather" in output  # the old message stays as a hint
    assert (tmp_path / "sandbox.sqlite3").exists()


async def test_main_process_serves_a_round_trip(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    specialist = fake_telegram.add_user(first_name="Ирина")
    group = fake_telegram.add_group(
        title="staff", forum=False, members=[specialist], admins=[], bot_is_admin=True
    )
    env = clean_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=fake_telegram.base_url,
        STAFF_CHAT_ID=str(group.id),
        DATABASE_PATH=str(tmp_path / "main.sqlite3"),
        LOG_LEVEL="DEBUG",
        FLOOD_CONTROL="off",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # Polling means the first long poll has reached the server (it would end only 25 s later).
        for _ in range(300):
            if fake_telegram.arrived("getUpdates"):
                break
            assert proc.returncode is None, "the bot exited early"
            await fake_telegram.wait_arrival("getUpdates", 0, timeout=0.1)
        parent = fake_telegram.actor(fake_telegram.add_user(first_name="Анна"))
        await parent.send("/start")
        await parent.press("Родитель", timeout=10)
        await parent.press("дневник", timeout=10)
        await parent.press("Оценки", timeout=10)
        await parent.send("Не вижу оценку за четверть")
        await parent.press("✅ Согласен(на)", timeout=10)  # the personal-data notice, before staff see it
        await parent.press("Отправить", timeout=10)
        await parent.expect("принят", timeout=10)
        staff = fake_telegram.actor(specialist, chat=group)
        card = await staff.expect("Вопрос №1", timeout=10)
        await press_on(staff, card, "Взять в работу")
        await staff.reply_to(card, "Оценка появится завтра.")
        await parent.expect("Оценка появится завтра", timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = out.decode()
    assert proc.returncode == 0, log[-3000:]
    assert TOKEN not in log
    assert "Traceback" not in log
    # LOG_LEVEL=DEBUG: still no word of what the parent and the specialist wrote (aiosqlite's debug log
    # of SQL parameters is silenced).
    assert " DEBUG " in log
    assert "Не вижу оценку" not in log and "Оценка появится" not in log


async def test_doctor_reports_a_healthy_forum_group(
    fake_telegram: FakeTelegram, tmp_path: Path, capsys: object
) -> None:
    group = fake_telegram.add_group(
        title="ЭЖ: помощь", forum=True, members=[], admins=[], bot_is_admin=True, bot_can_manage_topics=True
    )
    settings = load_settings(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": fake_telegram.base_url,
            "STAFF_CHAT_ID": str(group.id),
            "DATABASE_PATH": str(tmp_path / "doc.sqlite3"),
        }
    )
    assert await run_doctor(settings) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "the group is a forum" in out and "All checks passed." in out
    assert TOKEN not in out


async def test_doctor_explains_what_is_wrong(
    fake_telegram: FakeTelegram, tmp_path: Path, capsys: object
) -> None:
    group = fake_telegram.add_group(title="staff", forum=True, members=[], admins=[], bot_is_admin=False)
    settings = load_settings(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": fake_telegram.base_url,
            "STAFF_CHAT_ID": str(group.id),
            "DATABASE_PATH": str(tmp_path / "doc.sqlite3"),
            "MANAGER_CHAT_ID": "424242",
        }
    )
    assert await run_doctor(settings) == 1
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "not an administrator" in out and "how to fix" in out
    assert "MANAGER_CHAT_ID chat 424242 is not reachable" in out
    # The doctor's probes of a chat that does not exist are refusals we asked for.
    for call in list(fake_telegram.rejected):
        if call.method == "getChat":
            fake_telegram.rejected.remove(call)
