"""A plausible past for the sandbox (and the report benchmark): a month of questions, answers, ratings.

Questions come more on weekdays and in the evening (parents after work), fewer on weekends and holidays;
each is answered in the next consultation of the school's schedule (at once during one), closed some time
later; some go to the vendor for a few days; most users rate the help, mostly well. The same seed gives
the same history. Every ticket is closed before ``now`` (see :mod:`storage.history`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from helpdesk.domain import Category, Role, categories_for, default_topic
from helpdesk.rules.schedule import next_duty
from helpdesk.school import SchoolProfile
from storage.db import Database
from storage.history import HistoryRepo, PastArticleAnswer, PastTicket

T = TypeVar("T")

ROLES = {
    Role.PARENT: 45,
    Role.STUDENT: 14,
    Role.SUBJECT_TEACHER: 20,
    Role.CLASS_TEACHER: 11,
    Role.ADMINISTRATION: 4,
    Role.OTHER_STAFF: 6,
}
CATEGORY_WEIGHT = {
    Category.LOGIN: 30,
    Category.GRADES: 22,
    Category.HOMEWORK: 12,
    Category.ATTENDANCE: 6,
    Category.TIMETABLE: 7,
    Category.REPORTS: 8,
    Category.MOBILE: 10,
    Category.OTHER: 5,
}
# Local hour of a question: school hours and the evening after work.
HOURS = {h: w for h, w in zip(range(7, 23), (2, 4, 6, 6, 6, 6, 7, 8, 9, 9, 10, 11, 10, 8, 5, 2), strict=True)}
SCORES = {5: 56, 4: 24, 3: 10, 2: 6, 1: 4}
COMMENTS = {
    5: ("Спасибо, всё получилось!", "Быстро и понятно, благодарю.", "Спасибо за терпение."),
    4: ("Помогли, но пришлось подождать.", "Спасибо, разобрались."),
    3: ("Ответ пришёл только на следующий день.", "Частично помогло."),
    2: ("Долго ждали ответа.", "Так и не поняла, где смотреть оценки."),
    1: ("Проблема не решена.",),
}
ARTICLES = ("login-reset", "grades-where", "hw-where", "mobile-app", "diary-attendance")


def _pick(rng: random.Random, weighted: Mapping[T, int]) -> T:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def plan(
    profile: SchoolProfile,
    now: datetime,
    *,
    days: int = 30,
    per_day: float = 14,
    users: int = 200,
    seed: int = 16,
) -> tuple[list[PastTicket], list[PastArticleAnswer]]:
    """The made-up questions of the ``days`` local days before today, about ``per_day`` a school day."""
    rng = random.Random(seed)
    tz = profile.tz
    today = now.astimezone(tz).date()
    staff = [(9_000_000 + i, s.short_name) for i, s in enumerate(profile.specialists)] or [(9_000_000, "—")]
    tickets: list[PastTicket] = []
    articles: list[PastArticleAnswer] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        rest = day.weekday() >= 5 or profile.holiday_on(day) is not None
        mean = per_day * (0.25 if rest else 1.0)
        count = max(0, round(rng.gauss(mean, mean**0.5 / 1.5)))
        for _ in range(count):
            hour = _pick(rng, HOURS)
            created = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz)
            role = _pick(rng, ROLES)
            topic = default_topic(role)
            options = categories_for(role, topic)
            category = _pick(rng, {c: CATEGORY_WEIGHT[c] for c in options})
            window = next_duty(profile, created)
            if window is None:
                continue
            # Most questions are answered within half an hour of the consultation's start; some wait
            # longer, a few until the next consultation.
            late = rng.random()
            if late < 0.8:
                wait = timedelta(minutes=rng.uniform(2, 35))
            elif late < 0.95:
                wait = timedelta(minutes=rng.uniform(35, 150))
            else:
                after = next_duty(profile, window.end + timedelta(minutes=1))
                window = after or window
                wait = timedelta(minutes=rng.uniform(5, 60))
            answered = max(window.start, created) + wait
            who = rng.choice(staff)
            conduct = rng.random() < 0.01
            vendor_at = answered + timedelta(minutes=20) if rng.random() < 0.04 else None
            if conduct:
                closed = created + timedelta(minutes=rng.uniform(1, 20))
            elif vendor_at is not None:
                closed = vendor_at + timedelta(days=rng.uniform(1, 6))
            else:
                closed = answered + timedelta(minutes=rng.uniform(5, 60 * 30))
            if answered >= now - timedelta(minutes=10):
                continue  # still waiting for its answer: not part of a closed past
            closed = min(closed, now - timedelta(minutes=rng.uniform(1, 9)))
            rating = comment = None
            if not conduct and rng.random() < 0.7:
                rating = _pick(rng, SCORES)
                if rng.random() < 0.25:
                    comment = rng.choice(COMMENTS[rating])
            tickets.append(
                PastTicket(
                    user=rng.randrange(users),
                    role=role,
                    topic=topic,
                    category=category,
                    created=created,
                    claimed_by=None if conduct else who,
                    answered=None if conduct else answered,
                    closed=closed,
                    closed_by="по регламенту" if conduct else who[1],
                    vendor_at=None if conduct else vendor_at,
                    offered=(rng.choice(ARTICLES),) if rng.random() < 0.3 else (),
                    conduct_end=conduct,
                    rating=rating,
                    rating_comment=comment,
                )
            )
        # Questions that an article answered before they were asked: «помогло», and some «нет».
        for _ in range(round(per_day * (0.15 if rest else 0.5) * rng.uniform(0.6, 1.4))):
            at = datetime(day.year, day.month, day.day, _pick(rng, HOURS), rng.randrange(60), tzinfo=tz)
            articles.append(PastArticleAnswer(rng.randrange(users), rng.choice(ARTICLES), rng.random() < 0.75, at))
    tickets.sort(key=lambda t: t.created)
    return tickets, articles


async def fill(
    db: Database,
    profile: SchoolProfile,
    now: datetime,
    *,
    days: int = 30,
    per_day: float = 14,
    users: int = 200,
    seed: int = 16,
) -> int:
    """Write the made-up history into ``db``; returns the number of tickets."""
    tickets, articles = plan(profile, now, days=days, per_day=per_day, users=users, seed=seed)
    async with db.transaction() as conn:
        return await HistoryRepo(conn).insert(
            users=users, tickets=tickets, articles=articles, now=now, key=f"history{seed}"
        )


async def _picture(path: str) -> None:
    """The README's picture: a month of this history, reported as ``/report month`` would."""
    import asyncio
    import tempfile
    from pathlib import Path

    from bot.charts import MatplotlibCharts
    from bot.config import ROOT
    from helpdesk.clock import ManualClock
    from helpdesk.reports import Reports
    from helpdesk.school import load_profile
    from helpdesk.store import Store
    from helpdesk.texts import Texts

    profile = load_profile(ROOT / "school.example.toml")
    now = datetime(2026, 12, 7, 6, 0, tzinfo=profile.tz)  # a Monday morning
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "history.sqlite3")
        try:
            await fill(db, profile, now)
            clock = ManualClock(now)
            reports = Reports(
                store=Store(db, clock),
                school=profile,
                duty=None,  # type: ignore[arg-type]  # building a report sends nothing
                notices=None,  # type: ignore[arg-type]
                texts=Texts(),
                clock=clock,
                charts=MatplotlibCharts(),
                manager_chat_id=1,
            )
            period = reports.period("month")
            assert period is not None
            report = await reports.build(period)
        finally:
            await db.close()
    assert report.chart is not None
    await asyncio.to_thread(Path(path).write_bytes, report.chart)
    print(report.text)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(_picture(sys.argv[1] if len(sys.argv) > 1 else "docs/report.png"))
