"""Load benchmark: the help desk's question-and-answer pipeline against a plain aiogram echo bot.

    python benchmarks/bench.py                # make bench
    python benchmarks/bench.py --profile      # also profile our bot (cProfile) and print where time goes
    python benchmarks/bench.py --spy FILE     # sample the bots with py-spy in the burst (FILE, FILE.echo)

Both bots run as real processes (``python main.py`` and ``benchmarks/echo_bot.py``) against the same fake
Telegram, in the same run, one after the other, with the same users and the same schedule:

* start-up: from spawning the process to its first ``getUpdates``;
* throughput: a burst of updates queued at once, timed until the last answer arrives (updates/s);
* latency: updates at a steady rate (50/s by default), each timed from queueing to its answer (p50, p99);
* memory: resident set size after start-up and at its peak.

The echo bot answers every text with the same text. Our pipeline, for the same count of updates, handles
half as users' follow-ups to open tickets (stored, then relayed to the ticket's topic in the staff forum)
and half as specialists' answers in those topics (stored, then delivered to the user): the two steps of a
conversation, each a database transaction and a Bot API call. The tickets are opened through the dialog
beforehand. The fake server has no flood limits here, and our bot runs with ``FLOOD_CONTROL=off``: this
measures the bot's own cost, not Telegram's budget (which would cap both at 30 messages a second).

Targets: our throughput >= 0.6x the echo bot's; our p99 at the steady rate <= 2x the echo bot's.

The /start wave (``--wave 500``): that many new users press /start at once (a link posted in a class chat),
with flood control on: the fake server enforces Telegram's limits (about 30 messages a second overall) and
our bot runs with ``FLOOD_CONTROL=on``, as in production. Timed until every user sees the role question
(target: 20 s; Telegram's 30 a second make 500 messages at least 17 s), and the bot's CPU time per /start
is compared with the echo bot's answering the same wave of /start (target: at most twice). The echo bot
has no pacing (a 429 fails its call), so its wave runs with the server's limits off: its CPU figure is the
plain cost of receiving an update and sending one message.

The exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from chaos import Run, open_ticket  # noqa: E402

from fakegram import Actor, FakeTelegram  # noqa: E402
from fakegram.procs import BotProcess  # noqa: E402
from fakegram.state import Msg  # noqa: E402

SPY = Path(sys.executable).with_name("py-spy")
TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
TAG_RE = re.compile(r"\bT(\d{6})\b")
_TAGS = itertools.count(1)


@dataclass
class Figures:
    name: str
    startup: float = 0.0
    throughput: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    max_latency: float = 0.0
    rss_mib: float = 0.0
    peak_mib: float = 0.0
    answered: int = 0
    sent: int = 0
    cpu_ms: float = 0.0  # CPU time of the bot per update in the burst (user + system), ms


@dataclass
class Wave:
    """The /start wave: ``users`` new users press /start at once."""

    name: str
    users: int = 0
    seen: int = 0
    seconds: float = 0.0  # from queueing the first /start to the last user seeing the answer
    cpu_ms: float = 0.0  # the bot's CPU time per /start (user + system), ms
    messages: int = 0  # messages the bot sent to the wave's users
    retry_after: int = 0  # 429s the server answered during the wave


async def start_wave(
    server: FakeTelegram, proc: BotProcess, users: list[Actor], wave: Wave, expect: str, spy: str | None
) -> None:
    """Every user sends /start at once; timed until each has a bot message containing ``expect``."""
    wave.users = len(users)
    chats = {u.chat_id for u in users}
    spy_proc = await start_spy(proc, spy) if spy else None
    calls_before = len(server.calls)
    rejected_before = len(server.rejected)
    cpu_before = proc.cpu_seconds() or 0.0
    began = time.monotonic()
    for user in users:
        await user.send("/start")
    seen: dict[int, float] = {}
    scanned = calls_before

    def scan() -> bool:
        nonlocal scanned
        calls = server.calls
        for call in calls[scanned:]:
            if not call.ok or call.method != "sendMessage" or not isinstance(call.result, dict):
                continue
            chat = call.result["chat"]["id"]
            if chat in chats and chat not in seen and expect in (call.result.get("text") or ""):
                msg = server.get_message(chat, call.result["message_id"])
                seen[chat] = msg.created_at if msg is not None else time.monotonic()
        scanned = len(calls)
        return len(seen) == len(chats)

    await server.world.wait_for(scan, 120, interval=0.05)
    with contextlib.suppress(AssertionError):
        await server.wait_idle(timeout=10, quiet=0.3)
    wave.cpu_ms = ((proc.cpu_seconds() or 0.0) - cpu_before) * 1000 / max(1, len(users))
    if spy_proc is not None:
        spy_proc.send_signal(signal.SIGINT)
        await spy_proc.wait()
    wave.seen = len(seen)
    wave.seconds = max(seen.values(), default=time.monotonic()) - began
    wave.messages = sum(
        1
        for c in server.calls[calls_before:]
        if c.ok and c.method == "sendMessage" and c.params.get("chat_id") in chats
    )
    wave.retry_after = sum(1 for c in server.rejected[rejected_before:] if c.status == 429)


@dataclass
class Load:
    """Queues tagged updates and times each one until the bot's message carrying the tag exists."""

    server: FakeTelegram
    queued: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    scanned: int = 0

    def __post_init__(self) -> None:
        self.scanned = len(self.server.calls)  # earlier runs' answers are not ours

    def tag(self) -> tuple[int, str]:
        number = next(_TAGS)
        return number, f"T{number:06d}"

    def scan(self) -> None:
        calls = self.server.calls
        for call in calls[self.scanned :]:
            if not call.ok or call.method != "sendMessage" or not isinstance(call.result, dict):
                continue
            for match in TAG_RE.finditer(call.result.get("text") or ""):
                number = int(match.group(1))
                if number in self.queued and number not in self.answered:
                    msg = self.server.get_message(call.result["chat"]["id"], call.result["message_id"])
                    self.answered[number] = msg.created_at if msg is not None else time.monotonic()
        self.scanned = len(calls)

    async def wait(self, tags: list[int], timeout: float) -> bool:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.scan()
            if all(t in self.answered for t in tags):
                return True
            await asyncio.sleep(0.01)
        return False

    def latencies(self, tags: list[int]) -> list[float]:
        return [self.answered[t] - self.queued[t] for t in tags if t in self.answered]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Sender = list[tuple[Actor, int | None]]  # who writes, and in which forum topic (None: their private chat)


async def put(load: Load, who: tuple[Actor, int | None]) -> int:
    number, tag = load.tag()
    actor, thread = who
    load.queued[number] = time.monotonic()
    await actor.send(f"{tag} проверка связи", thread_id=thread)
    return number


async def measure(
    load: Load, senders: Sender, figures: Figures, args: argparse.Namespace, proc: BotProcess
) -> None:
    calls_before = len(load.server.calls)
    # Burst: everything queued at once (round-robin over the senders), timed to the last answer.
    spy = None
    if args.spy:  # our bot to FILE, the echo bot to FILE.echo
        spy = await start_spy(proc, args.spy if figures.name == "help desk" else f"{args.spy}.echo")
    began = time.monotonic()
    cpu_before = proc.cpu_seconds() or 0.0
    burst = [await put(load, senders[i % len(senders)]) for i in range(args.burst)]
    ok = await load.wait(burst, timeout=args.timeout)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
    figures.cpu_ms = ((proc.cpu_seconds() or 0.0) - cpu_before) * 1000 / max(1, len(burst))
    done = max(load.answered.get(t, time.monotonic()) for t in burst)
    figures.throughput = len([t for t in burst if t in load.answered]) / (done - began)
    if not ok:
        print(f"  {figures.name}: only {len(load.latencies(burst))}/{len(burst)} burst updates answered")
    if args.verbose:
        kinds = ["private" if senders[i % len(senders)][1] is None else "topic" for i in range(len(burst))]
        for kind in sorted(set(kinds)):
            lat = [
                load.answered[t] - began
                for t, k in zip(burst, kinds, strict=True)
                if k == kind and t in load.answered
            ]
            print(
                f"  {figures.name} burst, {kind}: {len(lat)} answered, last after {max(lat, default=0):.1f}s"
            )
    await asyncio.sleep(1)
    # Steady rate: one update every 1/rate seconds, each timed.
    steady: list[int] = []
    start = time.monotonic()
    for i in range(int(args.rate * args.seconds)):
        await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        steady.append(await put(load, senders[i % len(senders)]))
    await load.wait(steady, timeout=args.timeout)
    lat = load.latencies(steady)
    figures.p50, figures.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
    if args.verbose:
        worst = sorted(
            (
                (load.answered[t] - load.queued[t], load.queued[t] - start, i % len(senders))
                for i, t in enumerate(steady)
                if t in load.answered
            ),
            reverse=True,
        )[:15]
        print(
            f"  {figures.name}: slowest at the steady rate (ms, at s, sender):",
            ", ".join(f"{d * 1000:.0f}@{at:.1f}s/{who}" for d, at, who in worst),
        )
    figures.max_latency = max(lat, default=float("nan"))
    figures.answered = len(load.latencies(burst)) + len(lat)
    figures.sent = len(burst) + len(steady)
    if args.verbose:
        counts = Counter(c.method for c in load.server.calls[calls_before:])
        print(f"  {figures.name}: Bot API calls while measured: {dict(counts.most_common())}")


async def start_spy(proc: BotProcess, out: str) -> asyncio.subprocess.Process:
    """py-spy sampling a bot during the burst only (raw folded stacks, GIL holders only)."""
    spy = await asyncio.create_subprocess_exec(
        str(SPY),
        *("record", "--pid", str(proc.pid), "--format", "raw", "--gil", "--rate", "500", "-o", out),
        stdout=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # py-spy attaches
    return spy


def memory(proc: BotProcess, figures: Figures) -> None:
    figures.peak_mib = (proc.rss_kib("VmHWM") or 0) / 1024


async def bench_echo(
    server: FakeTelegram, users: list[Actor], wave_users: list[Actor], args: argparse.Namespace
) -> tuple[Figures, Wave]:
    figures = Figures("echo bot")
    wave = Wave("echo bot")
    proc = BotProcess.for_server(server, [sys.executable, "benchmarks/echo_bot.py"], cwd=ROOT)
    figures.startup = await proc.start()
    try:
        load = Load(server)
        warm = [await put(load, (u, None)) for u in users]
        await load.wait(warm, timeout=30)
        figures.rss_mib = (proc.rss_kib() or 0) / 1024
        if not args.wave_only:
            await measure(load, [(u, None) for u in users], figures, args, proc)
        memory(proc, figures)
        if wave_users:
            await asyncio.sleep(0.5)
            spy = f"{args.spy}.wave.echo" if args.spy else None
            await start_wave(server, proc, wave_users, wave, "/start", spy)
    finally:
        await proc.stop()
    return figures, wave


async def bench_wave_ours(
    server: FakeTelegram, users: list[Actor], workdir: Path, args: argparse.Namespace
) -> Wave:
    """Our bot as in production, flood control on, against a server that enforces Telegram's limits."""
    wave = Wave("help desk")
    staff = server.add_user("Специалист волны")
    group = server.add_group("ЭЖ: волна", forum=True, members=[staff], admins=[staff])
    proc = BotProcess.for_server(
        server,
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            "STAFF_CHAT_ID": str(group.id),
            "DATABASE_PATH": str(workdir / "wave.sqlite3"),
            "LOG_LEVEL": "WARNING",
            "FLOOD_CONTROL": "on",
        },
        log_path=workdir / "wave.log",
    )
    await proc.start()
    server.enable_limits()
    try:
        await server.wait_idle(timeout=30, quiet=1.0)  # start-up's own calls are done
        spy = f"{args.spy}.wave" if args.spy else None
        await start_wave(server, proc, users, wave, "кто Вы", spy)
    finally:
        server.disable_limits()
        await proc.stop()
    return wave


async def bench_ours(
    server: FakeTelegram, users: list[Actor], workdir: Path, args: argparse.Namespace
) -> tuple[Figures, Path | None]:
    figures = Figures("help desk")
    specialists = [server.add_user(f"Специалист{i}") for i in range(5)]
    group = server.add_group("ЭЖ: помощь", forum=True, members=specialists, admins=specialists[:1])
    argv = [sys.executable, "main.py"]
    profile = workdir / "bot.prof" if args.profile else None
    if profile is not None:
        argv = [sys.executable, "-m", "cProfile", "-o", str(profile), "main.py"]
    proc = BotProcess.for_server(
        server,
        argv,
        cwd=ROOT,
        env={
            "STAFF_CHAT_ID": str(group.id),
            "DATABASE_PATH": str(workdir / "bench.sqlite3"),
            "LOG_LEVEL": "WARNING",
            "FLOOD_CONTROL": "off",
        },
        log_path=workdir / "bot.log",
    )
    figures.startup = await proc.start()
    if args.wave_only:
        await proc.stop()
        return figures, None
    try:
        # Every user opens a ticket through the dialog; that is set-up, not measured.
        run = Run(server, group, server.actor(specialists[0], chat=group), True, random.Random(5))
        opened = await asyncio.gather(*(open_ticket(run, u, i + 1, timeout=120) for i, u in enumerate(users)))
        if not all(opened):
            raise RuntimeError(f"only {sum(opened)} of {len(users)} tickets could be opened")

        def card_of(i: int) -> Msg | None:
            return next(
                (
                    m
                    for m in server.chat_messages(group)
                    if m.from_bot and f"Q{i + 1:03d}.0" in m.content and m.thread_id is not None
                ),
                None,
            )

        # Cards of a burst of new tickets are posted one by one (burst shaping): wait for all of them.
        await server.world.wait_for(lambda: all(card_of(i) for i in range(len(users))), 180)
        await server.wait_idle(timeout=30, quiet=0.5)
        senders: Sender = []
        for i, user in enumerate(users):
            card = card_of(i)
            if card is None:
                raise RuntimeError(f"ticket {i + 1} has no card in the staff group")
            staff = server.actor(specialists[i % len(specialists)], chat=group)
            senders += [(user, None), (staff, card.thread_id)]
        figures.rss_mib = (proc.rss_kib() or 0) / 1024
        load = Load(server)
        await measure(load, senders, figures, args, proc)
        memory(proc, figures)
    finally:
        await proc.stop()
    return figures, profile


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(r"/work/main/(bot|handlers|storage)/|aiosqlite|aiogram/", top)
    stats.sort_stats("tottime").print_stats(top)


async def bench(args: argparse.Namespace) -> tuple[Figures, Figures, Wave, Wave]:
    server = FakeTelegram(token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ")
    await server.start()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before anything runs)
    try:
        echo_users = [server.actor(server.add_user(f"Эхо{i}")) for i in range(args.users)]
        echo_wave_users = [server.actor(server.add_user(f"Волна эхо {i}")) for i in range(args.wave)]
        echo, echo_wave = await bench_echo(server, echo_users, echo_wave_users, args)
        our_users = [server.actor(server.add_user(f"Родитель{i}")) for i in range(args.users)]
        ours, profile = await bench_ours(server, our_users, workdir, args)
        our_wave = Wave("help desk")
        if args.wave:
            wave_users = [server.actor(server.add_user(f"Волна {i}")) for i in range(args.wave)]
            our_wave = await bench_wave_ours(server, wave_users, workdir, args)
    finally:
        await server.stop()
    if profile is not None and profile.exists():
        print_profile(profile)
    return echo, ours, echo_wave, our_wave


def report_wave(echo: Wave, ours: Wave, args: argparse.Namespace) -> bool:
    if not args.wave:
        return True
    ratio = ours.cpu_ms / echo.cpu_ms if echo.cpu_ms else float("nan")
    rows = [
        (f"/start wave ({args.wave} at once)", "echo bot", "help desk"),
        ("flood limits", "off", "on"),
        ("saw the answer", f"{echo.seen}/{echo.users}", f"{ours.seen}/{ours.users}"),
        ("time until the last saw it, s", f"{echo.seconds:.1f}", f"{ours.seconds:.1f}"),
        ("messages sent to them", f"{echo.messages}", f"{ours.messages}"),
        ("429 answers", f"{echo.retry_after}", f"{ours.retry_after}"),
        ("CPU per /start, ms", f"{echo.cpu_ms:.2f}", f"{ours.cpu_ms:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>10}  {b:>10}")
    ok_time = ours.seen == ours.users and ours.seconds <= 20.0
    ok_cpu = ratio <= 2.0
    print(
        f"/start wave: all saw the role question after {ours.seconds:.1f} s"
        f"  (target <= 20 s: {'met' if ok_time else 'MISSED'})"
    )
    print(f"/start wave CPU per /start, ours / echo: {ratio:.2f}  (target <= 2: {'met' if ok_cpu else 'MISSED'})")
    if args.json:
        print(json.dumps({"wave": {"echo": echo.__dict__, "ours": ours.__dict__, "cpu_ratio": ratio}}))
    return ok_time and ok_cpu


def report(echo: Figures, ours: Figures, args: argparse.Namespace) -> bool:
    ratio = ours.throughput / echo.throughput if echo.throughput else float("nan")
    p99_ratio = ours.p99 / echo.p99 if echo.p99 else float("nan")
    rows = [
        ("", "echo bot", "help desk"),
        ("start-up, s", f"{echo.startup:.2f}", f"{ours.startup:.2f}"),
        (f"throughput ({args.burst} at once), upd/s", f"{echo.throughput:.0f}", f"{ours.throughput:.0f}"),
        ("CPU per update in the burst, ms", f"{echo.cpu_ms:.2f}", f"{ours.cpu_ms:.2f}"),
        (f"latency p50 at {args.rate:g}/s, ms", f"{echo.p50 * 1000:.0f}", f"{ours.p50 * 1000:.0f}"),
        (f"latency p99 at {args.rate:g}/s, ms", f"{echo.p99 * 1000:.0f}", f"{ours.p99 * 1000:.0f}"),
        ("latency max, ms", f"{echo.max_latency * 1000:.0f}", f"{ours.max_latency * 1000:.0f}"),
        ("memory after start-up, MiB", f"{echo.rss_mib:.0f}", f"{ours.rss_mib:.0f}"),
        ("memory peak, MiB", f"{echo.peak_mib:.0f}", f"{ours.peak_mib:.0f}"),
        ("answered / sent", f"{echo.answered}/{echo.sent}", f"{ours.answered}/{ours.sent}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>10}  {b:>10}")
    ok_tp = ratio >= 0.6
    ok_p99 = p99_ratio <= 2.0
    complete = ours.answered == ours.sent and echo.answered == echo.sent
    print(f"throughput ratio (ours / echo): {ratio:.2f}  (target >= 0.6: {'met' if ok_tp else 'MISSED'})")
    print(f"p99 ratio (ours / echo): {p99_ratio:.2f}  (target <= 2: {'met' if ok_p99 else 'MISSED'})")
    if ours.cpu_ms:
        print(
            f"CPU per update, echo / ours: {echo.cpu_ms / ours.cpu_ms:.2f}"
            " (the throughput ratio a machine with a free core for each would show)"
        )
    if not complete:
        print("not every update was answered: see the counts above")
    if args.json:
        print(
            json.dumps({"echo": echo.__dict__, "ours": ours.__dict__, "ratio": ratio, "p99_ratio": p99_ratio})
        )
    return ok_tp and ok_p99 and complete


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--users", type=int, default=50, help="users (our bot: each with an open ticket)")
    p.add_argument("--burst", type=int, default=1000, help="updates queued at once for the throughput")
    p.add_argument("--rate", type=float, default=50.0, help="updates per second for the latency")
    p.add_argument("--seconds", type=float, default=20.0, help="how long the steady rate lasts")
    p.add_argument("--timeout", type=float, default=180.0)
    p.add_argument("--profile", action="store_true", help="run our bot under cProfile and print the top")
    p.add_argument(
        "--spy", metavar="FILE", help="sample both bots with py-spy in the burst (FILE, FILE.echo)"
    )
    p.add_argument("--wave", type=int, default=500, help="new users pressing /start at once (0: no wave)")
    p.add_argument("--wave-only", action="store_true", help="only the /start wave (no burst, no steady rate)")
    p.add_argument("--workdir")
    p.add_argument("--json", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.spy and not SPY.exists():
        p.error(f"--spy needs py-spy next to this Python ({SPY}): pip install py-spy")
    print(
        f"bench: {args.users} users; burst of {args.burst}; {args.rate:g} updates/s for {args.seconds:g} s;"
        f" a wave of {args.wave} /start",
        flush=True,
    )
    echo, ours, echo_wave, our_wave = asyncio.run(bench(args))
    ok = args.wave_only or report(echo, ours, args)
    return 0 if report_wave(echo_wave, our_wave, args) and ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
