"""Fairness benchmark: one parent floods their ticket with 60 follow-ups in a minute while another parent
asks a new question, under Telegram's real flood limits (issue 13).

    python benchmarks/fairness.py            # a forum staff group
    python benchmarks/fairness.py --plain    # a staff group without topics

The fake Telegram runs in this process with Telegram's flood limits on (20 messages a minute per group,
all forum topics sharing it; 1 a second per private chat); the bot is the real ``python main.py`` in a
child process with ``FLOOD_CONTROL=on`` (as in ``benchmarks/burst.py``). Both parents go through the real
dialog. Then the first sends 60 follow-ups over 60 s (each tagged ``флуд-NN``); 10 s into the flood the
second presses «Отправить» on a new question.

Measured:

* the new question: from the second parent's «Отправить» until its number («№N») appears in a bot message
  in the staff group (its card, or a digest);
* the flood: how many of the 60 reached the staff group (their tags in bot messages, merged or not), and
  when the last did, from the first follow-up; how many staff messages carried them;
* 429 answers the server gave the bot.

Goal: the new question visible within 20 s, all 60 follow-ups within 5 minutes, no 429. Exit code 1 if
missed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from burst import TOKEN, Parent, parent_script  # noqa: E402

from fakegram import FakeTelegram  # noqa: E402
from fakegram.procs import BotProcess  # noqa: E402

TAG_RE = re.compile(r"флуд-(\d+)")
FLOOD = 60


async def run(args: argparse.Namespace) -> bool:
    server = FakeTelegram(token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ", limits=True)
    await server.start()
    specialist = server.add_user("Ирина", "Соколова")
    group = server.add_group("ЭЖ: помощь", forum=not args.plain, members=[specialist])
    workdir = Path(tempfile.mkdtemp(prefix="fairness-"))
    env = {
        "STAFF_CHAT_ID": str(group.id),
        "DATABASE_PATH": str(workdir / "fairness.sqlite3"),
        "LOG_LEVEL": "INFO",
        "TIMEZONE": "Europe/Moscow",
        "FLOOD_CONTROL": "on",
    }
    proc = BotProcess.for_server(server, [sys.executable, "main.py"], cwd=ROOT, env=env, log_path=workdir / "bot.log")
    flooder = Parent(0, server.actor(server.add_user("Флудер", language_code="ru")))
    other = Parent(1, server.actor(server.add_user("Вторая", language_code="ru")))
    try:
        took = await proc.start(timeout=120)
        print(f"bot started in {took:.1f}s; mode: {'plain group' if args.plain else 'forum'}", flush=True)
        await server.wait_idle(timeout=30, quiet=0.5)
        import random

        await parent_script(flooder, time.monotonic(), random.Random(1), timeout=60)
        assert flooder.number is not None, flooder.failure
        await server.wait_idle(timeout=60, quiet=1.0)
        server.stats.reset()

        began = time.monotonic()

        async def flood() -> None:
            for i in range(FLOOD):
                await asyncio.sleep(max(0.0, began + i * (60.0 / FLOOD) - time.monotonic()))
                await flooder.actor.send(f"Ещё подробность флуд-{i + 1:02d}: ничего не работает")

        async def ask_other() -> None:
            # The dialog takes a few seconds: start it so that «Отправить» comes about 10 s into the flood.
            await parent_script(other, began + 3.0, random.Random(2), timeout=120)

        flood_task = asyncio.create_task(flood())
        other_task = asyncio.create_task(ask_other())
        seen_other: float | None = None
        tags_at: dict[int, float] = {}
        carriers: set[int] = set()
        deadline = began + args.timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            for m in server.chat_messages(group):
                if not m.from_bot or not m.text:
                    continue
                if other.number is not None and seen_other is None and f"№{other.number}" in m.text:
                    seen_other = m.created_at
                for tag in TAG_RE.findall(m.text):
                    if int(tag) not in tags_at:
                        tags_at[int(tag)] = m.created_at
                        carriers.add(m.message_id)
            if flood_task.done() and other_task.done() and seen_other is not None and len(tags_at) == FLOOD:
                break
        flood_task.cancel()
        other_task.cancel()
        await asyncio.gather(flood_task, other_task, return_exceptions=True)
        too_many = server.stats.too_many
    finally:
        await proc.stop()
        await server.stop()

    visible = seen_other - other.pressed if seen_other is not None and other.pressed is not None else None
    last = max(tags_at.values()) - began if len(tags_at) == FLOOD else None
    print(f"new question №{other.number}: pressed «Отправить» {(other.pressed or began) - began:.1f}s into the flood;"
          f" visible to staff after {visible:.1f}s" if visible is not None else "new question: never visible")
    print(f"follow-ups reaching staff: {len(tags_at)}/{FLOOD} in {len(carriers)} staff messages;"
          + (f" the last {last:.1f}s after the first was sent" if last is not None else " not all"))
    print(f"429 answers to the bot: {too_many}; bot log: {workdir / 'bot.log'}")
    passed = visible is not None and visible <= 20 and last is not None and last <= 300 and too_many == 0
    print("RESULT: " + ("PASS" if passed else "FAIL") + " (goal: new question within 20 s, all 60 within 5 min, 0 x 429)")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plain", action="store_true", help="a staff group without topics")
    parser.add_argument("--timeout", type=float, default=360.0, help="give up after this many seconds")
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
