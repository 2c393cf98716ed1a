"""The figures of a report, computed by SQL aggregates over one period, and the CSV export's rows.

Consultation minutes are counted in SQL too: the caller passes the consultation schedule of the period as
stretches ``(start, end, counted_before)`` in Unix seconds, where ``counted_before`` is the consultation
seconds of all earlier stretches (:func:`helpdesk.rules.consultation.calendar`). With them in a temporary
table, the consultation seconds up to a moment ``x`` are one indexed lookup,
``before + min(x - start, end - start)`` of the last stretch starting at or before ``x``, and a duration is
the difference of two such lookups. Local days come the same way (``(start, end, iso date, weekday)``),
so days, weekdays and hours are the school's, whatever its time zone.

A report runs on a connection of its own (read-only, its temporary tables private): it takes no lock
the bot's writers wait for. Medians are the mean of the two middle values; the 90th percentile is the
nearest rank (the value at rank ⌈0.9·n⌉).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from helpdesk.domain import (
    Category,
    CategoryFigures,
    DayFigures,
    Durations,
    ReportFigures,
    Role,
    SpecialistLoad,
    Topic,
)

Stretch = tuple[float, float, float]  # start, end (Unix seconds), consultation seconds before start
LocalDay = tuple[float, float, str, int]  # start, end (Unix seconds), ISO date, weekday (Monday = 0)

MAX_COMMENTS = 5


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Mapping[str, object] | None = None
) -> list[aiosqlite.Row]:
    """All rows of a query with named parameters (one trip to the database thread)."""
    return list(await conn.execute_fetchall(sql, params or {}))  # type: ignore[arg-type]


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Mapping[str, object] | None = None
) -> aiosqlite.Row | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


def _counted(x: str) -> str:
    """SQL: the consultation seconds from the calendar's start up to the moment ``x`` (Unix seconds)."""
    return (
        f"COALESCE((SELECT k.before + MIN({x} - k.s, k.e - k.s) FROM cal k WHERE k.s <= {x} "
        "ORDER BY k.s DESC LIMIT 1), 0)"
    )


def _durations(column: str, where: str = "1") -> str:
    """SQL: count, median, p90 and how many are within :sla of ``column`` over the rows of ``rtm``."""
    return f"""
        WITH v AS (
            SELECT {column} AS x, ROW_NUMBER() OVER (ORDER BY {column}) AS rn, COUNT(*) OVER () AS n
            FROM rtm WHERE {column} IS NOT NULL AND {where}
        )
        SELECT COUNT(*) AS n,
               AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END) AS median,
               MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN x END) AS p90,
               COALESCE(SUM(x <= :sla), 0) AS within
        FROM v
    """


@dataclass(frozen=True)
class ExportRow:
    """One ticket in the CSV export: facts and figures, never what anyone wrote."""

    id: int
    created_at: datetime
    role: str
    topic: str
    category: str
    status: str
    specialist_id: int | None
    specialist_name: str | None
    first_response_minutes: float | None
    resolution_minutes: float | None
    vendor_at: datetime | None
    closed_at: datetime | None
    closed_how: str  # staff | user | conduct | '' (open)
    rating: int | None


@asynccontextmanager
async def reading(conn: aiosqlite.Connection, path: Path | str) -> AsyncIterator[aiosqlite.Connection]:
    """A connection of the report's own to the database file (``conn`` itself for an in-memory one)."""
    if str(path) == ":memory:":
        yield conn
        return
    own = await aiosqlite.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)
    own.row_factory = aiosqlite.Row
    try:
        await own.execute("PRAGMA busy_timeout=5000")
        yield own
    finally:
        await own.close()


class ReportRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _prepare(
        self, start: datetime, end: datetime, calendar: Sequence[Stretch], days: Sequence[LocalDay]
    ) -> None:
        """The period's tickets with their consultation minutes, local day and hour (``rtm``)."""
        c = self.conn
        for table in ("cal", "days", "rtm"):
            await c.execute(f"DROP TABLE IF EXISTS temp.{table}")
        await c.execute("CREATE TEMP TABLE cal (s REAL PRIMARY KEY, e REAL NOT NULL, before REAL NOT NULL)")
        await c.execute(
            "CREATE TEMP TABLE days (s REAL PRIMARY KEY, e REAL NOT NULL, day TEXT NOT NULL, wd INTEGER NOT NULL)"
        )
        await c.executemany("INSERT INTO cal VALUES (?, ?, ?)", calendar)
        await c.executemany("INSERT INTO days VALUES (?, ?, ?, ?)", days)
        await c.execute(
            f"""
            CREATE TEMP TABLE rtm AS
            WITH rt AS (
                SELECT t.id, t.role, t.topic, t.category, t.status, t.rating, t.closed_by,
                       t.claimed_by_id, t.claimed_by_name, t.offered_articles != '' AS offered,
                       unixepoch(t.created_at) AS c, unixepoch(t.answered_at) AS a,
                       unixepoch(t.closed_at) AS z, unixepoch(t.vendor_at) AS v,
                       t.created_at AS created_iso, t.closed_at AS closed_iso, t.vendor_at AS vendor_iso,
                       EXISTS (SELECT 1 FROM conduct_events ce
                               WHERE ce.ticket_id = t.id AND ce.kind = 'session_end') AS conduct_end
                FROM tickets t
                WHERE unixepoch(t.created_at) >= :start AND unixepoch(t.created_at) < :end
            )
            SELECT rt.*,
                   d.day AS day, d.wd AS wd, CAST((rt.c - d.s) / 3600 AS INTEGER) AS hour,
                   CASE WHEN rt.a IS NOT NULL AND rt.a >= rt.c
                        THEN ({_counted("rt.a")} - {_counted("rt.c")}) / 60.0 END AS first_cm,
                   CASE WHEN rt.status = 'closed' AND rt.z IS NOT NULL AND rt.z >= rt.c AND NOT rt.conduct_end
                        THEN ({_counted("rt.z")} - {_counted("rt.c")}) / 60.0 END AS resolve_cm
            FROM rt LEFT JOIN days d ON d.s = (SELECT MAX(s) FROM days WHERE s <= rt.c)
            """,
            {"start": start.timestamp(), "end": end.timestamp()},
        )

    async def figures(
        self,
        *,
        start: datetime,
        end: datetime,
        calendar: Sequence[Stretch],
        days: Sequence[LocalDay],
        sla_first: float,
        sla_resolution: float,
        names: dict[int, str] | None = None,
    ) -> ReportFigures:
        """Everything a report says of ``[start, end)``. ``names``: a specialist's name by Telegram id
        (linked specialists), else the name they claimed with."""
        await self._prepare(start, end, calendar, days)
        c = self.conn
        period = {"start": start.isoformat(), "end": end.isoformat(), "s": start.timestamp(), "e": end.timestamp()}

        total = await fetch_one(c, "SELECT COUNT(*) AS n, COALESCE(SUM(status = 'closed'), 0) AS closed FROM rtm")
        assert total is not None

        async def counts(column: str) -> list[tuple[str, int]]:
            rows = await fetch_all(
                c, f"SELECT {column} AS k, COUNT(*) AS n FROM rtm GROUP BY {column} ORDER BY n DESC, {column}"
            )
            return [(r["k"], int(r["n"])) for r in rows]

        first = await fetch_one(c, _durations("first_cm"), {"sla": sla_first})
        resolution = await fetch_one(c, _durations("resolve_cm"), {"sla": sla_resolution})
        assert first is not None and resolution is not None

        kb = await fetch_one(
            c,
            """SELECT COALESCE(SUM(helped), 0) AS yes, COALESCE(SUM(1 - helped), 0) AS no FROM kb_feedback
               WHERE unixepoch(created_at) >= :s AND unixepoch(created_at) < :e""",
            period,
        )
        offered = await fetch_one(c, "SELECT COALESCE(SUM(offered), 0) AS n FROM rtm")
        assert kb is not None and offered is not None

        rated = await fetch_one(
            c,
            """SELECT COUNT(*) AS asked, COUNT(score) AS given, AVG(score) AS mean,
                      COALESCE(SUM(score = 1), 0) AS s1, COALESCE(SUM(score = 2), 0) AS s2,
                      COALESCE(SUM(score = 3), 0) AS s3, COALESCE(SUM(score = 4), 0) AS s4,
                      COALESCE(SUM(score = 5), 0) AS s5
               FROM ratings WHERE unixepoch(asked_at) >= :s AND unixepoch(asked_at) < :e""",
            period,
        )
        assert rated is not None
        comments = await fetch_all(
            c,
            """SELECT score, comment FROM ratings
               WHERE unixepoch(asked_at) >= :s AND unixepoch(asked_at) < :e AND comment IS NOT NULL
               ORDER BY rated_at DESC, id DESC LIMIT :limit""",
            {**period, "limit": MAX_COMMENTS},
        )

        vendor = await fetch_one(
            c,
            """WITH v AS (
                   SELECT (z - v) / 3600.0 AS x, ROW_NUMBER() OVER (ORDER BY z - v) AS rn, COUNT(*) OVER () AS n
                   FROM rtm WHERE v IS NOT NULL AND status = 'closed' AND z >= v
               )
               SELECT (SELECT COUNT(*) FROM rtm WHERE v IS NOT NULL) AS handed,
                      (SELECT COUNT(*) FROM v) AS closed,
                      (SELECT AVG(x) FROM v WHERE rn IN ((n + 1) / 2, (n + 2) / 2)) AS median""",
        )
        assert vendor is not None

        conduct = await fetch_all(
            c,
            """SELECT kind, COUNT(*) AS n FROM conduct_events
               WHERE unixepoch(at) >= :s AND unixepoch(at) < :e GROUP BY kind ORDER BY n DESC, kind""",
            period,
        )

        load = await self._load(names or {})

        weekdays = [0] * 7
        for r in await fetch_all(c, "SELECT wd, COUNT(*) AS n FROM rtm WHERE wd IS NOT NULL GROUP BY wd"):
            weekdays[int(r["wd"])] = int(r["n"])
        hours = [0] * 24
        for r in await fetch_all(c, "SELECT hour, COUNT(*) AS n FROM rtm WHERE hour IS NOT NULL GROUP BY hour"):
            hours[min(23, max(0, int(r["hour"])))] += int(r["n"])

        categories = await fetch_all(
            c,
            """WITH t AS (SELECT category, COUNT(*) AS n FROM rtm GROUP BY category),
                    r AS (SELECT category, COUNT(score) AS rated, AVG(score) AS mean FROM ratings
                          WHERE unixepoch(asked_at) >= :s AND unixepoch(asked_at) < :e GROUP BY category)
               SELECT t.category, t.n, COALESCE(r.rated, 0) AS rated, r.mean
               FROM t LEFT JOIN r ON r.category = t.category
               UNION ALL
               SELECT r.category, 0, r.rated, r.mean FROM r WHERE r.category NOT IN (SELECT category FROM t)
               ORDER BY 2 DESC, 1""",
            period,
        )

        per_day = await fetch_all(
            c,
            """SELECT d.day, x.topic, COALESCE(x.n, 0) AS n FROM days d
               LEFT JOIN (SELECT day, topic, COUNT(*) AS n FROM rtm GROUP BY day, topic) x ON x.day = d.day
               ORDER BY d.s, x.topic""",
        )
        day_medians = await fetch_all(
            c,
            """WITH v AS (
                   SELECT day, first_cm AS x,
                          ROW_NUMBER() OVER (PARTITION BY day ORDER BY first_cm) AS rn,
                          COUNT(*) OVER (PARTITION BY day) AS n
                   FROM rtm WHERE first_cm IS NOT NULL
               )
               SELECT day, AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END) AS median
               FROM v GROUP BY day""",
        )
        medians = {r["day"]: r["median"] for r in day_medians}
        by_day: dict[str, list[tuple[Topic, int]]] = {}
        for r in per_day:
            row = by_day.setdefault(r["day"], [])
            if r["topic"] is not None:
                row.append((Topic(r["topic"]), int(r["n"])))

        return ReportFigures(
            tickets=int(total["n"]),
            closed=int(total["closed"]),
            by_role=tuple((Role(k), n) for k, n in await counts("role")),
            by_topic=tuple((Topic(k), n) for k, n in await counts("topic")),
            by_category=tuple((Category(k), n) for k, n in await counts("category")),
            first_response=_as_durations(first),
            resolution=_as_durations(resolution),
            kb_helped=int(kb["yes"]),
            kb_not_helped=int(kb["no"]),
            kb_offered_tickets=int(offered["n"]),
            ratings_asked=int(rated["asked"]),
            ratings_given=int(rated["given"]),
            rating_counts=(int(rated["s1"]), int(rated["s2"]), int(rated["s3"]), int(rated["s4"]), int(rated["s5"])),
            rating_mean=rated["mean"],
            comments=tuple((int(r["score"]), str(r["comment"])) for r in comments),
            vendor_handoffs=int(vendor["handed"]),
            vendor_closed=int(vendor["closed"]),
            vendor_median_hours=vendor["median"],
            conduct=tuple((r["kind"], int(r["n"])) for r in conduct),
            load=load,
            weekdays=tuple(weekdays),
            hours=tuple(hours),
            categories=tuple(
                CategoryFigures(Category(r[0]), int(r[1]), int(r[2]), r[3]) for r in categories
            ),
            days=tuple(
                DayFigures(date.fromisoformat(day), tuple(topics), medians.get(day))
                for day, topics in by_day.items()
            ),
        )

    async def _load(self, names: dict[int, str]) -> tuple[SpecialistLoad, ...]:
        """Per specialist: taken (claimed), answered (wrote to the user in), median first response of taken."""
        rows = await fetch_all(
            self.conn,
            """WITH taken AS (
                   SELECT claimed_by_id AS sid, MAX(claimed_by_name) AS name, COUNT(*) AS n
                   FROM rtm WHERE claimed_by_id IS NOT NULL GROUP BY claimed_by_id
               ),
               answered AS (
                   SELECT m.author_id AS sid, MAX(m.author_name) AS name, COUNT(DISTINCT m.ticket_id) AS n
                   FROM rtm JOIN messages m ON m.ticket_id = rtm.id
                   WHERE m.direction = 'out' AND m.author_id IS NOT NULL GROUP BY m.author_id
               ),
               v AS (
                   SELECT claimed_by_id AS sid, first_cm AS x,
                          ROW_NUMBER() OVER (PARTITION BY claimed_by_id ORDER BY first_cm) AS rn,
                          COUNT(*) OVER (PARTITION BY claimed_by_id) AS n
                   FROM rtm WHERE claimed_by_id IS NOT NULL AND first_cm IS NOT NULL
               ),
               med AS (
                   SELECT sid, AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END) AS median
                   FROM v GROUP BY sid
               ),
               who AS (SELECT sid FROM taken UNION SELECT sid FROM answered)
               SELECT who.sid, COALESCE(taken.name, answered.name, '') AS name,
                      COALESCE(taken.n, 0) AS taken, COALESCE(answered.n, 0) AS answered, med.median
               FROM who LEFT JOIN taken ON taken.sid = who.sid LEFT JOIN answered ON answered.sid = who.sid
               LEFT JOIN med ON med.sid = who.sid
               ORDER BY taken DESC, answered DESC, who.sid""",
        )
        return tuple(
            SpecialistLoad(names.get(int(r["sid"]), r["name"]), int(r["taken"]), int(r["answered"]), r["median"])
            for r in rows
        )

    async def export(
        self,
        *,
        start: datetime,
        end: datetime,
        calendar: Sequence[Stretch],
        days: Sequence[LocalDay],
        closed_by_user: str,
    ) -> list[ExportRow]:
        """One row per ticket opened in ``[start, end)``, oldest first. ``closed_by_user``: the name a
        ticket closed by its user is closed by."""
        await self._prepare(start, end, calendar, days)
        rows = await fetch_all(self.conn, "SELECT * FROM rtm ORDER BY c, id")
        result = []
        for r in rows:
            if r["status"] != "closed":
                how = ""
            elif r["conduct_end"]:
                how = "conduct"
            else:
                how = "user" if r["closed_by"] == closed_by_user else "staff"
            result.append(
                ExportRow(
                    id=r["id"],
                    created_at=datetime.fromisoformat(r["created_iso"]),
                    role=r["role"],
                    topic=r["topic"],
                    category=r["category"],
                    status=r["status"],
                    specialist_id=r["claimed_by_id"],
                    specialist_name=r["claimed_by_name"],
                    first_response_minutes=r["first_cm"],
                    resolution_minutes=r["resolve_cm"],
                    vendor_at=datetime.fromisoformat(r["vendor_iso"]) if r["vendor_iso"] else None,
                    closed_at=datetime.fromisoformat(r["closed_iso"]) if r["closed_iso"] else None,
                    closed_how=how,
                    rating=r["rating"],
                )
            )
        return result


def _as_durations(row: aiosqlite.Row) -> Durations:
    return Durations(
        count=int(row["n"]),
        median=row["median"],
        p90=row["p90"],
        within=int(row["within"]),
    )
