"""Burst benchmark: 300 parents ask a question within one minute, under Telegram's real flood limits.

    python benchmarks/burst.py               # make burst: a forum staff group, a few minutes
    python benchmarks/burst.py --plain       # a staff group without topics (cards answered by reply)
    python benchmarks/burst.py --all-cards   # also wait until every ticket has its own card (long)
    python benchmarks/burst.py -v            # progress every 10 s; every Bot API call to calls.jsonl

The fake Telegram runs in this process with Telegram's flood limits on (1 message/s per private chat with
a burst of 3, 20 a minute per group with all forum topics sharing it, 30/s overall; over them it answers
``429 retry_after``). The bot is the real ``python main.py`` in a child process with ``FLOOD_CONTROL=on``.
Parents start at an even pace (300 in 60 s: five a second) and go through the real dialog like people:
/start, then «Родитель», «Электронный дневник», «Оценки», the question, «Отправить», each after reading
the bot's message for a moment (0.5-1.5 s).

What is measured, all from the first parent's /start ("the first question"):

* visible: a ticket is visible to staff once its number («№N») appears in a bot message in the staff
  group, on its card or in a digest listing waiting tickets (the definition of tests/e2e/test_burst.py);
  also per ticket, from its parent's «Отправить» (p50, max);
* own card: the first bot message in the staff group with «Вопрос №N» (the card);
* 429 answers the server gave the bot (group and private chats), Bot API calls to the staff group;
* latency to the user: from pressing «Отправить» to the bot's «Ваш вопрос №N принят» (p50, p99, max).

Target: every ticket visible to staff within 3 minutes of the first question, zero 429s, and every parent
got a confirmation. Exit code 1 if missed. A card per ticket needs 300 group messages (600 in a forum:
the topic, then the card), which Telegram's 20 a minute spreads over a quarter of an hour or more; the
run watches the cards for another minute, reports how far they got and at what pace, and waits for all
of them only with ``--all-cards``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakegram import Actor, FakeChat, FakeTelegram, Msg  # noqa: E402
from fakegram.procs import BotProcess  # noqa: E402

TOKEN = "123456:BURST-TOKEN-abcdefghijklmnopqrstuvwxyz"
NUMBER_RE = re.compile(r"№(\d+)")
CARD_RE = re.compile(r"Вопрос №(\d+)")
QUESTIONS = (
    "не вижу оценки за контрольную работу",
    "в дневнике пропала строка с домашним заданием",
    "оценка за четверть отличается от средней",
    "не приходит уведомление об оценке",
    "ребёнку поставили пропуск, хотя он был на уроке",
)


@dataclass
class Parent:
    index: int
    actor: Actor
    started: float = 0.0
    pressed: float | None = None  # «Отправить»
    confirmed: float | None = None  # «принят» arrived
    number: int | None = None
    failure: str | None = None


@dataclass
class Watch:
    """Follows the staff group: when each ticket number first appeared, when each card did."""

    server: FakeTelegram
    group: FakeChat
    visible: dict[int, float] = field(default_factory=dict)
    carded: dict[int, float] = field(default_factory=dict)
    seen_texts: dict[int, str] = field(default_factory=dict)

    def scan(self) -> None:
        for m in self.server.chat_messages(self.group):
            if not m.from_bot or not m.text:
                continue
            if self.seen_texts.get(m.message_id) == m.text:
                continue
            self.seen_texts[m.message_id] = m.text
            # A number added by an edit is visible from the moment it is noticed.
            at = m.created_at if not m.edits else time.monotonic()
            for n in NUMBER_RE.findall(m.text):
                self.visible.setdefault(int(n), at)
            for n in CARD_RE.findall(m.text):
                self.carded.setdefault(int(n), m.created_at)


async def press_on(actor: Actor, message: Msg, label: str) -> None:
    for text, data in message.buttons:
        if label in text and data is not None:
            await actor.press_data(message, data, timeout=120)
            return
    raise AssertionError(f"no button {label!r} on {message!r}: {message.buttons}")


async def parent_script(parent: Parent, start_at: float, rng: random.Random, timeout: float) -> None:  # noqa: ASYNC109
    """The dialog, like a person: wait for the bot's message, read it a moment, act."""
    p = parent.actor
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))

    async def read() -> None:
        await asyncio.sleep(rng.uniform(0.5, 1.5))

    step = "start"
    try:
        parent.started = time.monotonic()
        await p.send("/start")
        step = "consent"  # the personal-data notice comes first (issue 15)
        msg = await p.expect("Персональные данные", timeout=timeout)
        await read()
        await press_on(p, msg, "✅ Согласен")
        step = "role"
        msg = await p.expect("кто Вы", timeout=timeout)
        await read()
        await press_on(p, msg, "Родитель")
        step = "system"
        msg = await p.expect("С чем связан", timeout=timeout)
        await read()
        await press_on(p, msg, "дневник")
        step = "category"
        msg = await p.expect("Выберите тему", timeout=timeout)
        await read()
        await press_on(p, msg, "Оценки")
        step = "question"
        await p.expect("Опишите", timeout=timeout)
        await read()
        await p.send(f"Вопрос {parent.index + 1}: {rng.choice(QUESTIONS)}")
        step = "summary"
        msg = await p.expect("Проверьте", timeout=timeout)
        await read()
        step = "send"
        parent.pressed = time.monotonic()
        await press_on(p, msg, "Отправить")
        step = "confirmation"
        done = await p.expect("принят", timeout=timeout)
        parent.confirmed = done.created_at
        found = NUMBER_RE.search(done.text or "")
        parent.number = int(found.group(1)) if found else None
    except AssertionError as exc:
        parent.failure = f"{step}: {str(exc).splitlines()[0]}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Report:
    mode: str
    users: int
    confirmed: int
    failures: list[str]
    asked_span: float  # from the first /start to the last «Отправить»
    visible: int
    all_visible_after: float | None
    visible_p50: float  # from the parent's «Отправить» to the number's first appearance in the group
    visible_max: float
    carded: int
    all_carded_after: float | None
    cards_per_minute: float
    watched: float
    too_many: int
    too_many_group: int
    group_calls: int
    group_sends: int
    group_methods: dict[str, int]
    calls: int
    latency_p50: float
    latency_p99: float
    latency_max: float
    target: float
    tracebacks: int

    @property
    def passed(self) -> bool:
        return (
            not self.failures
            and self.all_visible_after is not None
            and self.all_visible_after <= self.target
            and self.too_many == 0
        )

    def text(self) -> str:
        def after(value: float | None) -> str:
            return f"{value:.1f}s" if value is not None else "never"

        lines = [
            f"tickets asked: {self.users}; confirmed to the parent: {self.confirmed};"
            f" last «Отправить» {self.asked_span:.1f}s after the first /start",
            f"visible to staff (number in a card or a digest): {self.visible}/{self.confirmed},"
            f" all after {after(self.all_visible_after)} (target {self.target:.0f}s);"
            f" after «Отправить»: p50 {self.visible_p50:.1f}s, max {self.visible_max:.1f}s",
            f"own card: {self.carded}/{self.confirmed}, all after {after(self.all_carded_after)}"
            f" ({self.cards_per_minute:.1f} a minute once all were visible; watched for {self.watched:.0f}s)",
            f"429 answers to the bot: {self.too_many} ({self.too_many_group} in the staff group)",
            f"Bot API calls to the staff group: {self.group_calls} ({self.group_sends} counted by the flood limit):"
            f" {', '.join(f'{k} {v}' for k, v in sorted(self.group_methods.items()))}; all calls: {self.calls}",
            f"latency to the user («Отправить» → «принят»): p50 {self.latency_p50:.2f}s,"
            f" p99 {self.latency_p99:.2f}s, max {self.latency_max:.2f}s",
            f"tracebacks in the bot's log: {self.tracebacks}",
        ]
        if self.failures:
            lines.append(
                f"dialogs that did not complete ({len(self.failures)}): " + "; ".join(self.failures[:5])
            )
        if self.all_carded_after is None and self.carded < self.confirmed and self.cards_per_minute > 0:
            rest = (self.confirmed - self.carded) / self.cards_per_minute
            lines.append(
                f"the other cards follow as the group's budget allows: about {rest:.0f} more minutes"
            )
        lines.append(
            "RESULT: "
            + ("PASS" if self.passed else "FAIL")
            + f" (target: every ticket visible to staff within {self.target:.0f}s of the first question,"
            " 0 x 429, every parent confirmed)"
        )
        return "\n".join(lines)


async def burst_run(args: argparse.Namespace) -> Report:
    rng = random.Random(args.seed)
    server = FakeTelegram(
        token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ", limits=True
    )
    await server.start()
    specialist = server.add_user("Ирина", "Соколова")
    deputy = server.add_user("Ольга", "Петровна")
    group = server.add_group(
        "ЭЖ: помощь", forum=not args.plain, members=[specialist, deputy], admins=[deputy]
    )
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="burst-"))
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    log_path = workdir / "bot.log"
    env = {
        "STAFF_CHAT_ID": str(group.id),
        "DATABASE_PATH": str(workdir / "burst.sqlite3"),
        "LOG_LEVEL": "INFO",
        "TIMEZONE": "Europe/Moscow",
        "FLOOD_CONTROL": "on",
    }
    if args.tick is not None:
        env["TICK_SECONDS"] = str(args.tick)
    proc = BotProcess.for_server(server, [sys.executable, "main.py"], cwd=ROOT, env=env, log_path=log_path)
    watch = Watch(server, group)
    parents = [
        Parent(i, server.actor(server.add_user(f"Родитель{i + 1}", language_code="ru")))
        for i in range(args.users)
    ]
    try:
        took = await proc.start(timeout=120)
        print(f"bot started in {took:.1f}s; {args.users} parents over {args.seconds:g}s", flush=True)
        await server.wait_idle(timeout=30, quiet=0.5)
        server.stats.reset()
        calls_before = len(server.calls)
        began = time.monotonic()
        step = args.seconds / args.users
        tasks = [
            asyncio.create_task(
                parent_script(p, began + i * step, random.Random(rng.random()), timeout=args.target)
            )
            for i, p in enumerate(parents)
        ]
        deadline = began + args.target
        progress_at = began
        while True:
            await asyncio.sleep(0.2)
            watch.scan()
            now = time.monotonic()
            if args.verbose and now - progress_at >= 10:
                progress_at = now
                done = sum(1 for p in parents if p.confirmed is not None)
                print(
                    f"  +{now - began:.0f}s: confirmed {done}, visible {len(watch.visible)},"
                    f" cards {len(watch.carded)}, 429s {server.stats.too_many}",
                    flush=True,
                )
            if now > deadline:
                break
            if not all(t.done() for t in tasks):
                continue
            numbers = {p.number for p in parents if p.number is not None}
            if numbers <= set(watch.visible):
                break
        for parent, task in zip(parents, tasks, strict=True):
            if not task.done():
                task.cancel()
                parent.failure = f"still in the dialog {args.target:.0f}s after the first question"
        await asyncio.gather(*tasks, return_exceptions=True)
        numbers = {p.number for p in parents if p.number is not None}
        # Then the cards: watched a little longer (or until all are there with --all-cards).
        card_until = time.monotonic() + (args.card_timeout if args.all_cards else args.card_wait)
        while time.monotonic() < card_until and not numbers <= set(watch.carded):
            await asyncio.sleep(1.0)
            watch.scan()
            if args.verbose and time.monotonic() - progress_at >= 30:
                progress_at = time.monotonic()
                print(f"  +{progress_at - began:.0f}s: cards {len(watch.carded)}", flush=True)
        watched = time.monotonic() - began
        watch.scan()
        report = make_report(args, parents, watch, server, group, began, watched, calls_before, log_path)
        if args.verbose:
            dump_calls(server, calls_before, workdir / "calls.jsonl")
    finally:
        await proc.stop()
        await server.stop()
    if args.verbose:
        print(f"bot log: {log_path}")
    return report


def dump_calls(server: FakeTelegram, first: int, path: Path) -> None:
    """Every Bot API call of the run, one JSON line each (time, method, chat, outcome), for a post-mortem."""
    with path.open("w") as out:
        for c in server.calls[first:]:
            row = {"at": c.at, "method": c.method, "chat": c.params.get("chat_id"), "status": c.status}
            if c.error:
                row["error"] = c.error
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"calls: {path}")


def make_report(
    args: argparse.Namespace,
    parents: list[Parent],
    watch: Watch,
    server: FakeTelegram,
    group: FakeChat,
    began: float,
    watched: float,
    calls_before: int,
    log_path: Path,
) -> Report:
    numbers = {p.number for p in parents if p.number is not None}
    visible_at = [watch.visible[n] - began for n in numbers if n in watch.visible]
    card_at = sorted(watch.carded[n] - began for n in numbers if n in watch.carded)
    all_visible = max(visible_at) if numbers and len(visible_at) == len(numbers) else None
    all_carded = card_at[-1] if numbers and len(card_at) == len(numbers) else None
    # The pace of cards once every ticket is visible (the burst is over: what the group's budget carries).
    since = all_visible if all_visible is not None else watched
    later = [t for t in card_at if t > since]
    per_minute = len(later) / (watched - since) * 60 if watched - since > 30 else 0.0
    calls = server.calls[calls_before:]
    to_group = [c for c in calls if str(c.params.get("chat_id")) == str(group.id)]
    latencies = [
        p.confirmed - p.pressed for p in parents if p.confirmed is not None and p.pressed is not None
    ]
    pressed = [p.pressed - began for p in parents if p.pressed is not None]
    seen_after = [
        watch.visible[p.number] - p.pressed
        for p in parents
        if p.number is not None and p.pressed is not None and p.number in watch.visible
    ]
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return Report(
        mode="plain" if args.plain else "forum",
        users=len(parents),
        confirmed=len(numbers),
        failures=[f"parent {p.index + 1} at {p.failure}" for p in parents if p.failure],
        asked_span=max(pressed, default=0.0),
        visible=len(visible_at),
        all_visible_after=all_visible,
        visible_p50=percentile(seen_after, 0.50),
        visible_max=max(seen_after, default=float("nan")),
        carded=len(card_at),
        all_carded_after=all_carded,
        cards_per_minute=per_minute,
        watched=watched,
        too_many=server.stats.too_many,
        too_many_group=server.stats.too_many_by_chat.get(group.id, 0),
        group_calls=len(to_group),
        group_sends=server.stats.sent_by_chat.get(group.id, 0),
        group_methods=dict(Counter(c.method for c in to_group)),
        calls=len(calls),
        latency_p50=percentile(latencies, 0.50),
        latency_p99=percentile(latencies, 0.99),
        latency_max=max(latencies, default=float("nan")),
        target=args.target,
        tracebacks=log.count("Traceback"),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--users", type=int, default=300, help="parents, each opening one ticket")
    p.add_argument("--seconds", type=float, default=60.0, help="the parents start evenly over this time")
    p.add_argument("--plain", action="store_true", help="a staff group without topics")
    p.add_argument("--target", type=float, default=180.0, help="seconds until every ticket is visible")
    p.add_argument("--card-wait", type=float, default=60.0, help="seconds to keep watching the cards after")
    p.add_argument("--all-cards", action="store_true", help="wait until every ticket has its own card")
    p.add_argument("--card-timeout", type=float, default=3600.0, help="the limit of that wait, seconds")
    p.add_argument("--tick", type=float, help="TICK_SECONDS for the bot (default: the bot's own, 30)")
    p.add_argument("--seed", type=int, default=300)
    p.add_argument("--workdir", help="where the database and the bot's log go (default: a temp dir)")
    p.add_argument("--json", action="store_true", help="also print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.workdir and (Path(args.workdir) / "burst.sqlite3").exists():
        # An earlier run's tickets and topics would be resumed against a fresh fake Telegram.
        print(f"{args.workdir} holds an earlier run's database: choose another --workdir", file=sys.stderr)
        return 2
    print(
        f"burst: {args.users} parents open a ticket within {args.seconds:g}s, {'plain' if args.plain else 'forum'}"
        " staff group, flood limits on (server and bot)",
        flush=True,
    )
    report = asyncio.run(burst_run(args))
    print(report.text())
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, default=str))
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
