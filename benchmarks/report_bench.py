"""How long a management report takes over 20,000 tickets (target: under 2 seconds).

    .venv/bin/python benchmarks/report_bench.py [--tickets 20000] [--rounds 3] [--keep DIR] [--png FILE]

Fills a fresh database with a made-up history (``sandbox/history.py``: a school year of questions, answers,
ratings, hand-offs, answers to articles) of exactly ``--tickets`` tickets, then builds the report over all of
them: the figures (SQL aggregates, consultation minutes), the text and the chart each on its own, then the
whole report the way ``/report`` builds it (the chart drawn in a thread while the database works out the
rest), and the CSV export. Each step is timed ``--rounds`` times: wall-clock (what the deputy director waits) and
CPU time of the process (the database thread included: less sensitive to other work on these shared
cores). The load average is printed alongside. Exit code 1 when the best full report is over the target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.charts import MatplotlibCharts  # noqa: E402
from helpdesk.clock import ManualClock  # noqa: E402
from helpdesk.reports import Reports  # noqa: E402
from helpdesk.rules.reports import Period, PeriodKind  # noqa: E402
from helpdesk.school import load_profile  # noqa: E402
from helpdesk.store import Store  # noqa: E402
from helpdesk.texts import Texts  # noqa: E402
from sandbox.history import plan  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.history import HistoryRepo  # noqa: E402

TARGET = 2.0
NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
T = TypeVar("T")


async def timed(work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the database here (kept)")
    parser.add_argument("--png", type=Path, help="save the chart of the last round here")
    args = parser.parse_args()

    profile = load_profile(ROOT / "school.example.toml")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    path = folder / "bench.sqlite3"
    path.unlink(missing_ok=True)
    db = await Database.open(path)
    try:
        # A school year (September to May) of questions, trimmed to exactly --tickets.
        days = (NOW.date() - date(2026, 9, 1)).days
        tickets, articles = plan(profile, NOW, days=days, per_day=args.tickets / days * 1.45, users=3000, seed=20)
        if len(tickets) < args.tickets:
            raise SystemExit(f"the history holds {len(tickets)} tickets, fewer than {args.tickets}")
        tickets = tickets[-args.tickets :]
        started = time.perf_counter()
        async with db.transaction() as conn:
            written = await HistoryRepo(conn).insert(
                users=3000, tickets=tickets, articles=articles, now=NOW, key="bench"
            )
        print(f"history: {written} tickets, {len(articles)} answers to articles ({time.perf_counter() - started:.1f} s)")

        clock = ManualClock(NOW)
        store = Store(db, clock)
        reports = Reports(
            store=store,
            school=profile,
            duty=None,  # type: ignore[arg-type]  # building a report needs no duty and sends nothing
            notices=None,  # type: ignore[arg-type]
            texts=Texts(),
            clock=clock,
            charts=MatplotlibCharts(),
            manager_chat_id=1,
        )
        period = Period(tickets[0].created.astimezone(profile.tz).date(), NOW.date(), PeriodKind.DATES)
        charts = MatplotlibCharts()
        tr = Texts().staff
        # matplotlib's import and font cache are paid once per process, at the first chart: not a report's.
        warm, warm_wall, _ = await timed(lambda: reports.figures(period))
        await asyncio.to_thread(charts.render, warm, period, tr)
        print(f"warm-up: figures {warm_wall:.2f} s, {warm.tickets} tickets in {period.label()}")

        rows: dict[str, list[tuple[float, float]]] = {"figures": [], "text": [], "chart": [], "report": [], "csv": []}
        png = b""
        for _ in range(args.rounds):
            figures, fw, fc = await timed(lambda: reports.figures(period))
            wall, cpu = time.perf_counter(), time.process_time()
            reports.compose(figures, period, management=True)
            tw, tc = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            png = charts.render(figures, period, tr)
            cw, cc = time.perf_counter() - wall, time.process_time() - cpu
            built, bw, bc = await timed(lambda: reports.build(period))
            assert built.chart == png
            _, ew, ec = await timed(lambda: reports.export_csv(period))
            rows["figures"].append((fw, fc))
            rows["text"].append((tw, tc))
            rows["chart"].append((cw, cc))
            rows["report"].append((bw, bc))
            rows["csv"].append((ew, ec))
        assert figures.tickets == args.tickets, figures.tickets
        if args.png:
            args.png.write_bytes(png)

        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"{'step':<28}{'wall best':>10}{'median':>9}{'cpu best':>10}")
        labels = {
            "figures": "figures (SQL aggregates)",
            "text": "text",
            "chart": "chart (PNG)",
            "report": "the report, as /report",
            "csv": "CSV export",
        }
        for key, values in rows.items():
            walls = [w for w, _ in values]
            cpus = [c for _, c in values]
            print(f"{labels[key]:<28}{min(walls):>9.2f}s{statistics.median(walls):>8.2f}s{min(cpus):>9.2f}s")
        best = min(w for w, _ in rows["report"])
        verdict = "met" if best < TARGET else "MISSED"
        print(f"report over {args.tickets:,} tickets: {best:.2f} s (target < {TARGET:.0f} s: {verdict})")
        return 0 if best < TARGET else 1
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
