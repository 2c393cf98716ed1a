"""Chaos run: many users and specialists talk through the bot while the network misbehaves and the bot is
killed with SIGKILL and restarted. Nothing may be lost; a duplicate per kill is tolerated.

    python benchmarks/chaos.py            # the full run (make chaos), a few minutes
    python benchmarks/chaos.py --short    # the CI form (make chaos-short), about two minutes

The fake Telegram runs in this process with Telegram's flood limits on and faults injected into every Bot
API call (by default 10% answered 500/502, 5% dropped connections, i.e. the call is not performed). The bot
is the real ``python main.py`` in a child process. Every message carries a tag (``Q007.0`` a user's
question, ``F007.1`` a follow-up, ``A007.1`` a specialist's answer); at the end each tag is looked up where it
should have arrived: questions and follow-ups in the staff group, answers in the user's private chat.

* delivered: the tag arrived at least once (a question: its card, «Вопрос №…»); lost: never arrived
  (after the drain period);
* duplicated: each extra message carrying the same tag (a message listing several waiting questions is a
  digest, not a duplicate, and is not counted);
* delay: from the user's or specialist's send (for a question: the press of «Отправить») to the first
  message carrying the tag;
* 429s: answers ``Too Many Requests`` the server gave the bot.

A user whose dialog does not reach «принят» within four minutes (acting again whenever nothing happens for
ten seconds) is reported as stuck; the question they never confirmed is not counted as sent.

Exit code 0 when lost == 0, duplicated <= kills and no dialog is stuck; 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakegram import Actor, FakeChat, FakeTelegram, Msg  # noqa: E402
from fakegram.limits import Chaos  # noqa: E402
from fakegram.procs import BotProcess  # noqa: E402

TOKEN = "123456:CHAOS-TOKEN-abcdefghijklmnopqrstuvwxyz"
CARD_MARK = "Вопрос №"  # the staff card's first line; a digest of waiting questions does not have it
TAG_RE = re.compile(r"\b([QFA])(\d{3})\.(\d)\b")
QUESTIONS = (
    "не вижу оценки за контрольную работу",
    "в дневнике пропала строка с домашним заданием",
    "оценка за четверть отличается от средней",
    "не приходит уведомление об оценке",
)


@dataclass
class Sent:
    tag: str
    at: float
    where: int  # the chat where it should arrive
    by_staff: bool


@dataclass
class Run:
    server: FakeTelegram
    group: FakeChat
    specialist: Actor
    forum: bool
    rng: random.Random
    sent: dict[str, Sent] = field(default_factory=dict)
    stuck: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")

    def record(self, tag: str, where: int, *, by_staff: bool) -> None:
        self.sent.setdefault(tag, Sent(tag, time.monotonic(), where, by_staff))


# ---- users ------------------------------------------------------------------------------------------------


def _button(msg: Msg | None, *labels: str) -> tuple[str, str] | None:
    if msg is None or msg.deleted:
        return None
    for label in labels:
        for text, data in msg.buttons:
            # (An offered article, «📖 …», is no step of the dialog, whatever its title says.)
            if label in text and data is not None and not data.startswith(("http", "tg:")) and not text.startswith("📖"):
                return text, data
    return None


def inbox_grew(user: Actor, count: int) -> Callable[[], bool]:
    return lambda: len(user.inbox) != count


async def open_ticket(run: Run, user: Actor, number: int, timeout: float) -> bool:  # noqa: ASYNC109
    """Go through the dialog like a patient person: act on the newest bot message, repeat when nothing
    happens for a while (the bot may have been down). True once the bot says the question was accepted."""
    question = f"Q{number:03d}.0 {run.rng.choice(QUESTIONS)}"
    world = run.server.world
    deadline = time.monotonic() + timeout
    await user.send("/start")
    last_action: tuple[str, str] | None = None
    last_at = time.monotonic()
    question_sent = typed = False
    while time.monotonic() < deadline:
        inbox = user.inbox
        if question_sent and any("принят" in m.content for m in inbox):
            return True
        newest = inbox[-1] if inbox else None
        action: tuple[str, str] | None = None
        hit = _button(newest, "Отправить", "Оценки", "дневник", "Родитель", "✅ Согласен")
        if hit is not None:
            action = ("press", hit[1])
        elif newest is not None and "Опишите" in newest.content:
            action = ("send", question)
        stalled = time.monotonic() - last_at > 10
        if action is not None and (action != last_action or stalled):
            last_action, last_at = action, time.monotonic()
            if action[0] == "send":
                await user.send(question)
                typed = True
            else:
                if hit is not None and hit[0] == "Отправить":
                    run.record(question.split()[0], run.group.id, by_staff=False)
                    question_sent = True
                assert newest is not None
                try:
                    await user.press_data(newest, action[1], timeout=5)
                except AssertionError:
                    pass  # not answered (yet): the next round looks again
            continue
        if action is None and stalled:
            await user.send("/start")  # lost somewhere: begin again, as a person would
            last_at = time.monotonic()
            continue
        await world.wait_for(inbox_grew(user, len(inbox)), 1.0)
    run.stuck.append(f"Q{number:03d}" + (" (question typed, never confirmed)" if typed else ""))
    return False


async def user_script(run: Run, user: Actor, number: int, followups: int, start_in: float) -> None:
    await asyncio.sleep(start_in)
    if not await open_ticket(run, user, number, timeout=240):
        run.note(f"user {number}: the dialog did not complete")
        return
    for j in range(1, followups + 1):
        await asyncio.sleep(run.rng.uniform(2, 6))
        tag = f"F{number:03d}.{j}"
        await user.send(f"{tag} дополнение к вопросу, сообщение {j}")
        run.record(tag, run.group.id, by_staff=False)


# ---- staff -------------------------------------------------------------------------------------------------


def find_card(run: Run, number: int) -> Msg | None:
    tag = f"Q{number:03d}.0"
    for m in run.server.chat_messages(run.group):
        if m.from_bot and not m.deleted and tag in m.content and CARD_MARK in m.content:
            return m
    return None


async def staff_script(run: Run, user: Actor, number: int, answers: int, patience: float) -> None:
    card: Msg | None = None
    world = run.server.world

    def seen() -> bool:
        nonlocal card
        card = find_card(run, number)
        return card is not None

    if not await world.wait_for(seen, patience):
        return  # no card: the question is counted as lost (or stuck) by the report
    assert card is not None
    for j in range(1, answers + 1):
        await asyncio.sleep(run.rng.uniform(2, 6))
        tag = f"A{number:03d}.{j}"
        text = f"{tag} ответ специалиста, часть {j}"
        if run.forum and card.thread_id is not None and run.group.live_topic(card.thread_id) is not None:
            await run.specialist.in_thread(card.thread_id).send(text)
        else:
            await run.specialist.reply_to(card, text)
        run.record(tag, user.chat.id, by_staff=True)


# ---- the killer ----------------------------------------------------------------------------------------------


async def killer(run: Run, proc: BotProcess, at: list[float], began: float) -> None:
    for moment in at:
        await asyncio.sleep(max(0.0, began + moment - time.monotonic()))
        await proc.kill()
        run.note(f"SIGKILL #{proc.kills} at +{time.monotonic() - began:.1f}s")
        await asyncio.sleep(run.rng.uniform(0.3, 1.5))
        took = await proc.start(timeout=90)
        run.note(f"restarted in {took:.1f}s")


# ---- the report ------------------------------------------------------------------------------------------------


@dataclass
class Report:
    users: int
    user_messages: int
    staff_messages: int
    delivered: int
    lost: list[str]
    duplicated: int
    duplicates: dict[str, int]
    max_delay: float
    p50_delay: float
    too_many: int
    server_errors: int
    dropped: int
    lost_replies: int
    kills: int
    rejected: int
    tracebacks: int
    stuck: list[str]
    seconds: float
    delays: dict[str, float]

    @property
    def passed(self) -> bool:
        return not self.lost and self.duplicated <= self.kills and not self.stuck

    def text(self) -> str:
        sent = self.user_messages + self.staff_messages
        lines = [
            f"users: {self.users}; messages sent: {sent} (users {self.user_messages}, staff {self.staff_messages})",
            f"delivered: {self.delivered}; lost: {len(self.lost)}; duplicated: {self.duplicated}"
            f" (allowed: {self.kills}, one per kill)",
            f"delay: p50 {self.p50_delay:.1f}s, max {self.max_delay:.1f}s",
            f"429 answers to the bot: {self.too_many}; injected: {self.server_errors} 5xx,"
            f" {self.dropped} dropped connections, {self.lost_replies} lost replies",
            f"SIGKILLs: {self.kills}; calls Telegram would refuse (4xx): {self.rejected};"
            f" tracebacks in the bot's log: {self.tracebacks}",
            f"dialogs that never completed: {len(self.stuck)}; wall time {self.seconds:.0f}s",
        ]
        if self.lost:
            lines.append("lost: " + ", ".join(sorted(self.lost)))
        if self.duplicates:
            lines.append(
                "duplicated: " + ", ".join(f"{k}×{v + 1}" for k, v in sorted(self.duplicates.items()))
            )
        if self.stuck:
            lines.append("dialogs stuck: " + ", ".join(self.stuck))
        lines.append(
            "RESULT: "
            + ("PASS" if self.passed else "FAIL")
            + " (target: 0 lost, duplicates <= kills, every dialog completes)"
        )
        return "\n".join(lines)


def arrivals(run: Run) -> dict[str, list[Msg]]:
    """Bot messages carrying each tag, in the chat where the tag should arrive; digests left out."""
    found: dict[str, list[Msg]] = defaultdict(list)
    chats = {s.where for s in run.sent.values()}
    for chat_id in chats:
        for m in run.server.chat_messages(chat_id):
            if not m.from_bot or m.deleted:
                continue
            tags = {f"{kind}{num}.{part}" for kind, num, part in TAG_RE.findall(m.content)}
            if len({t for t in tags if t.startswith("Q")}) > 1:
                continue  # a digest of waiting questions
            for tag in tags:
                if tag.startswith("Q") and CARD_MARK not in m.content:
                    continue  # listed in a digest: seen, but the question arrives with its card
                if tag in run.sent and run.sent[tag].where == chat_id:
                    found[tag].append(m)
    return found


def make_report(run: Run, proc: BotProcess, seconds: float, log_path: Path) -> Report:
    found = arrivals(run)
    delays: dict[str, float] = {}
    duplicates: dict[str, int] = {}
    for tag, sent in run.sent.items():
        msgs = found.get(tag, [])
        if msgs:
            delays[tag] = min(m.created_at for m in msgs) - sent.at
        if len(msgs) > 1:
            duplicates[tag] = len(msgs) - 1
    lost = [tag for tag in run.sent if not found.get(tag)]
    stats = run.server.stats
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return Report(
        users=len({t[1:4] for t in run.sent}),
        user_messages=sum(1 for s in run.sent.values() if not s.by_staff),
        staff_messages=sum(1 for s in run.sent.values() if s.by_staff),
        delivered=len(run.sent) - len(lost),
        lost=lost,
        duplicated=sum(duplicates.values()),
        duplicates=duplicates,
        max_delay=max(delays.values(), default=0.0),
        p50_delay=statistics.median(delays.values()) if delays else 0.0,
        too_many=stats.too_many,
        server_errors=stats.server_errors,
        dropped=stats.dropped,
        lost_replies=stats.lost_replies,
        kills=proc.kills,
        rejected=len(run.server.rejected),
        tracebacks=log.count("Traceback"),
        stuck=run.stuck,
        seconds=seconds,
        delays=delays,
    )


# ---- main ----------------------------------------------------------------------------------------------------


async def chaos_run(args: argparse.Namespace) -> Report:
    rng = random.Random(args.seed)
    server = FakeTelegram(
        token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ", limits=True
    )
    await server.start()
    specialist_user = server.add_user("Ирина", "Соколова")
    deputy = server.add_user("Ольга", "Петровна")
    group = server.add_group(
        "ЭЖ: помощь", forum=args.mode == "forum", members=[specialist_user, deputy], admins=[deputy]
    )
    run = Run(server, group, server.actor(specialist_user, chat=group), args.mode == "forum", rng)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    log_path = workdir / "bot.log"
    proc = BotProcess.for_server(
        server,
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            "STAFF_CHAT_ID": str(group.id),
            "DATABASE_PATH": str(workdir / "chaos.sqlite3"),
            "LOG_LEVEL": "INFO",
            "TIMEZONE": "Europe/Moscow",
        },
        log_path=log_path,
    )
    began = time.monotonic()
    try:
        took = await proc.start(timeout=90)
        run.note(f"bot started in {took:.1f}s; faults on")
        began = time.monotonic()
        server.set_chaos(
            Chaos(
                error_rate=args.errors,
                drop_rate=args.drops,
                lost_reply_rate=args.lost_replies,
                seed=args.seed,
            )
        )
        users = [
            server.actor(server.add_user(f"Родитель{i}", language_code="ru"))
            for i in range(1, args.users + 1)
        ]
        tasks = [
            asyncio.create_task(user_script(run, u, i, args.followups, rng.uniform(0, args.ramp)))
            for i, u in enumerate(users, start=1)
        ]
        tasks += [
            asyncio.create_task(staff_script(run, u, i, args.answers, patience=args.load + args.drain))
            for i, u in enumerate(users, start=1)
        ]
        kill_at = [args.load * (k + 1) / (args.kills + 1) for k in range(args.kills)]
        kill_task = asyncio.create_task(killer(run, proc, kill_at, began))
        await kill_task
        users_done = asyncio.gather(*tasks[: len(users)])
        await asyncio.wait_for(users_done, timeout=args.load + 180)
        # Drain: wait until everything sent has arrived, or the drain period is over.
        drain_until = time.monotonic() + args.drain
        staff_done = asyncio.gather(*tasks[len(users) :])
        while time.monotonic() < drain_until:
            if staff_done.done() and all(arrivals(run).get(t) for t in run.sent):
                break
            await asyncio.sleep(1)
        run.note("drained" if time.monotonic() < drain_until else "drain period over")
        # A last look for late duplicates: give the bot a moment with nothing left to do.
        server.set_chaos()
        await asyncio.sleep(2)
        staff_done.cancel()
        await asyncio.gather(staff_done, return_exceptions=True)
        report = make_report(run, proc, time.monotonic() - began, log_path)
    finally:
        await proc.stop()
        await server.stop()
    if args.verbose:
        print("\n".join(run.events))
        for call in server.rejected:
            print(f"refused: {call.method}: {call.status} {call.error}")
        for tag, delay in sorted(report.delays.items(), key=lambda kv: -kv[1])[:10]:
            print(f"slowest: {tag} {delay:.1f}s")
        print(f"bot log: {log_path}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--short", action="store_true", help="the CI form: fewer users, about two minutes")
    p.add_argument("--users", type=int)
    p.add_argument("--followups", type=int, help="follow-up messages per user")
    p.add_argument("--answers", type=int, help="specialist answers per ticket")
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--errors", type=float, default=0.10, help="share of calls answered 500/502")
    p.add_argument("--drops", type=float, default=0.05, help="share of connections dropped before the call")
    p.add_argument("--lost-replies", type=float, default=0.0, help="share of calls performed, reply dropped")
    p.add_argument("--mode", choices=("forum", "plain"), default="forum")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--workdir", help="where the database and the bot's log go (default: a temp dir)")
    p.add_argument("--json", action="store_true", help="also print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    short = args.short
    args.users = args.users or (6 if short else 20)
    args.followups = args.followups if args.followups is not None else (1 if short else 2)
    args.answers = args.answers if args.answers is not None else (1 if short else 2)
    args.ramp = 6.0 if short else 40.0
    args.load = 36.0 if short else 100.0
    args.drain = 60.0 if short else 300.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(
        f"chaos: {args.users} users, {args.followups} follow-ups and {args.answers} answers each, {args.mode} staff"
        f" group; {args.errors:.0%} 5xx, {args.drops:.0%} dropped, {args.lost_replies:.0%} lost replies;"
        f" {args.kills} SIGKILLs; flood limits on; seed {args.seed}",
        flush=True,
    )
    report = asyncio.run(chaos_run(args))
    print(report.text())
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, default=str))
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
