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
nearest rank (the value at rank ⌈0.9·n⌉). They are read by position, not by window functions (several
times slower in SQLite): the values are copied into a temporary table in order (group, value), so that the
k-th value of a group is the row ``first rowid of the group + k - 1`` (see :meth:`ReportRepo._ranked`). A
report is a few dozen statements on its connection, each a trip to the database thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
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


@dataclass(frozen=True)
class Series:
    """Values to rank (median, p90, how many within ``target``): ``value`` over the rows of ``rtm`` where it
    is not NULL and ``where`` holds, per ``group`` (SQL expressions of our own, never user input)."""

    name: str
    group: str
    value: str
    where: str = "1"
    target: float = 0.0


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
        # The report's temporary tables in memory (a few MiB for a year of a school's tickets).
        await own.execute("PRAGMA temp_store=MEMORY")
        yield own
    finally:
        await own.close()


class ReportRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def prepare(
        self, start: datetime, end: datetime, calendar: Sequence[Stretch], days: Sequence[LocalDay]
    ) -> None:
        """The period's tickets with their consultation minutes, local day and hour (``rtm``). A few trips
        to the database thread: the statements go as scripts (the period's bounds are our own numbers)."""
        c = self.conn
        # WITHOUT ROWID: a look-up by ``s`` reads the row from the index itself. Tickets whose session was
        # ended for misconduct have no resolution time (conduct_events has no index by ticket, and needs
        # none but here).
        await c.executescript(
            """
            DROP TABLE IF EXISTS temp.cal; DROP TABLE IF EXISTS temp.days;
            DROP TABLE IF EXISTS temp.ended; DROP TABLE IF EXISTS temp.rtm;
            CREATE TEMP TABLE cal (s REAL PRIMARY KEY, e REAL NOT NULL, before REAL NOT NULL) WITHOUT ROWID;
            CREATE TEMP TABLE days (s REAL PRIMARY KEY, e REAL NOT NULL, day TEXT NOT NULL, wd INTEGER NOT NULL)
                WITHOUT ROWID;
            CREATE TEMP TABLE ended AS SELECT DISTINCT ticket_id AS id FROM conduct_events
                WHERE kind = 'session_end' AND ticket_id IS NOT NULL;
            CREATE UNIQUE INDEX temp.ended_id ON ended (id);
            """
        )
        await c.executemany("INSERT INTO cal VALUES (?, ?, ?)", calendar)
        await c.executemany("INSERT INTO days VALUES (?, ?, ?, ?)", days)
        # Two steps: the moments as Unix seconds once per ticket, then what is counted from them.
        lo, hi = float(start.timestamp()), float(end.timestamp())
        await c.executescript(
            f"""
            CREATE TEMP TABLE rt AS
                SELECT t.id, t.role, t.topic, t.category, t.status, t.rating,
                       t.claimed_by_id, t.claimed_by_name, t.offered_articles != '' AS offered,
                       unixepoch(t.created_at) AS c, unixepoch(t.answered_at) AS a,
                       unixepoch(t.closed_at) AS z, unixepoch(t.vendor_at) AS v,
                       (t.conduct_ended_at IS NOT NULL OR t.id IN (SELECT id FROM ended)) AS conduct_end
                FROM tickets t
                WHERE unixepoch(t.created_at) >= {lo!r} AND unixepoch(t.created_at) < {hi!r};
            CREATE TEMP TABLE rtm AS
            WITH k AS MATERIALIZED (
                SELECT rt.*, {_counted("rt.c")} AS kc,
                       CASE WHEN rt.a >= rt.c THEN {_counted("rt.a")} END AS ka,
                       CASE WHEN rt.status = 'closed' AND rt.z >= rt.c AND NOT rt.conduct_end
                            THEN {_counted("rt.z")} END AS kz,
                       (SELECT MAX(s) FROM days WHERE s <= rt.c) AS ds
                FROM rt
            )
            SELECT k.id, k.role, k.topic, k.category, k.status, k.rating, k.claimed_by_id, k.claimed_by_name,
                   k.offered, k.c, k.a, k.z, k.v, k.conduct_end,
                   d.day AS day, d.wd AS wd, CAST((k.c - d.s) / 3600 AS INTEGER) AS hour,
                   (k.ka - k.kc) / 60.0 AS first_cm, (k.kz - k.kc) / 60.0 AS resolve_cm
            FROM k LEFT JOIN days d ON d.s = k.ds;
            DROP TABLE temp.rt;
            CREATE UNIQUE INDEX temp.rtm_id ON rtm (id);
            """
        )

    async def _ranked(self, series: Sequence[Series]) -> dict[tuple[str, object], Durations]:
        """For each series and each of its groups: count, median, p90 and how many are at most the series'
        target — all series in one sorted temporary table (two statements whatever their number).
        Keyed by (series name, group)."""
        c = self.conn
        parts = [
            f"SELECT '{s.name}', {s.group}, {s.value} FROM rtm WHERE {s.value} IS NOT NULL AND ({s.where})"
            for s in series
        ]
        targets = " ".join(f"WHEN '{s.name}' THEN {float(s.target)!r}" for s in series)
        await c.executescript(
            "DROP TABLE IF EXISTS temp.srt; CREATE TEMP TABLE srt (series, g, x); "
            f"INSERT INTO srt (series, g, x) {' UNION ALL '.join(parts)} ORDER BY 1, 2, 3;"
        )
        rows = await fetch_all(
            c,
            f"""SELECT b.series, b.g, b.n, b.within, (lo.x + hi.x) / 2.0 AS median, p.x AS p90
                FROM (SELECT series, g, MIN(rowid) AS first, COUNT(*) AS n,
                             SUM(x <= CASE series {targets} ELSE 0 END) AS within
                      FROM srt GROUP BY series, g) b
                JOIN srt lo ON lo.rowid = b.first + (b.n - 1) / 2
                JOIN srt hi ON hi.rowid = b.first + b.n / 2
                JOIN srt p ON p.rowid = b.first + (9 * b.n + 9) / 10 - 1""",
        )
        return {
            (r["series"], r["g"]): Durations(int(r["n"]), r["median"], r["p90"], int(r["within"])) for r in rows
        }

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
        drawn: ReportFigures | None = None,
    ) -> ReportFigures:
        """Everything a report says of ``[start, end)``. ``names``: a specialist's name by Telegram id
        (linked specialists), else the name they claimed with. ``drawn``: what :meth:`chart_figures` gave
        after :meth:`prepare` (the chart is drawn meanwhile); without it, the period is prepared here."""
        if drawn is None:
            await self.prepare(start, end, calendar, days)
            drawn = await self.chart_figures(start=start, end=end, days=days)
        c = self.conn
        # Ratings are written in UTC (storage/ratings.py): their index serves a range of ISO strings.
        period = {
            "start": start.astimezone(UTC).isoformat(),
            "end": end.astimezone(UTC).isoformat(),
            "s": start.timestamp(),
            "e": end.timestamp(),
        }

        total = await fetch_one(
            c,
            """SELECT COUNT(*) AS n, COALESCE(SUM(status = 'closed'), 0) AS closed,
                      COALESCE(SUM(offered), 0) AS offered, COALESCE(SUM(v IS NOT NULL), 0) AS handed FROM rtm""",
        )
        assert total is not None

        # Tickets by role, topic and category (one trip), most first.
        counts: dict[str, list[tuple[str, int]]] = {"role": [], "topic": [], "category": []}
        for r in await fetch_all(
            c,
            """SELECT * FROM (
                   SELECT 'role' AS what, role AS k, COUNT(*) AS n FROM rtm GROUP BY role
                   UNION ALL SELECT 'topic', topic, COUNT(*) FROM rtm GROUP BY topic
                   UNION ALL SELECT 'category', category, COUNT(*) FROM rtm GROUP BY category
               ) ORDER BY what, n DESC, k""",
        ):
            counts[r["what"]].append((r["k"], int(r["n"])))

        ranked = await self._ranked(
            (
                Series("first", "0", "first_cm", target=sla_first),
                Series("resolve", "0", "resolve_cm", target=sla_resolution),
                Series("vendor", "0", "(z - v) / 3600.0", "v IS NOT NULL AND status = 'closed' AND z >= v"),
                Series("specialist", "claimed_by_id", "first_cm", "claimed_by_id IS NOT NULL"),
            )
        )
        first = ranked.get(("first", 0), Durations())
        resolution = ranked.get(("resolve", 0), Durations())
        vendor = ranked.get(("vendor", 0), Durations())

        kb = await fetch_one(
            c,
            """SELECT COALESCE(SUM(helped), 0) AS yes, COALESCE(SUM(1 - helped), 0) AS no,
                      (SELECT COUNT(*) FROM kb_events WHERE event = 'offered'
                       AND unixepoch(created_at) >= :s AND unixepoch(created_at) < :e) AS offers
               FROM kb_feedback WHERE unixepoch(created_at) >= :s AND unixepoch(created_at) < :e""",
            period,
        )
        assert kb is not None

        # Per category; the totals are the sums of these few rows.
        rated_rows = await fetch_all(
            c,
            """SELECT category, COUNT(*) AS asked, COUNT(score) AS given, COALESCE(SUM(score), 0) AS total,
                      SUM(score = 1) AS s1, SUM(score = 2) AS s2, SUM(score = 3) AS s3, SUM(score = 4) AS s4,
                      SUM(score = 5) AS s5
               FROM ratings WHERE asked_at >= :start AND asked_at < :end GROUP BY category""",
            period,
        )
        asked = sum(int(r["asked"]) for r in rated_rows)
        given = sum(int(r["given"]) for r in rated_rows)
        scores = tuple(sum(int(r[f"s{k}"] or 0) for r in rated_rows) for k in range(1, 6))
        mean = sum(int(r["total"]) for r in rated_rows) / given if given else None
        rated_by_category = {
            r["category"]: (int(r["given"]), int(r["total"]) / int(r["given"]) if r["given"] else None)
            for r in rated_rows
        }
        comments = await fetch_all(
            c,
            """SELECT score, comment FROM ratings
               WHERE asked_at >= :start AND asked_at < :end AND comment IS NOT NULL
               ORDER BY rated_at DESC, id DESC LIMIT :limit""",
            {**period, "limit": MAX_COMMENTS},
        )


        conduct = await fetch_all(
            c,
            """SELECT kind, COUNT(*) AS n FROM conduct_events
               WHERE unixepoch(at) >= :s AND unixepoch(at) < :e GROUP BY kind ORDER BY n DESC, kind""",
            period,
        )

        load = await self._load(names or {}, {g: d for (name, g), d in ranked.items() if name == "specialist"})

        weekdays = [0] * 7
        hours = [0] * 24
        for r in await fetch_all(
            c,
            """SELECT 'wd' AS what, wd AS k, COUNT(*) AS n FROM rtm WHERE wd IS NOT NULL GROUP BY wd
               UNION ALL
               SELECT 'hour', hour, COUNT(*) FROM rtm WHERE hour IS NOT NULL GROUP BY hour""",
        ):
            if r["what"] == "wd":
                weekdays[int(r["k"])] = int(r["n"])
            else:
                hours[min(23, max(0, int(r["k"])))] += int(r["n"])

        by_category = counts["category"]
        # Categories by tickets, then those only rated in the period (asked about tickets opened before).
        categories = [(k, n, *rated_by_category.get(k, (0, None))) for k, n in by_category]
        seen = {k for k, _ in by_category}
        categories += sorted((k, 0, *v) for k, v in rated_by_category.items() if k not in seen)

        return ReportFigures(
            tickets=int(total["n"]),
            closed=int(total["closed"]),
            by_role=tuple((Role(k), n) for k, n in counts["role"]),
            by_topic=tuple((Topic(k), n) for k, n in counts["topic"]),
            by_category=tuple((Category(k), n) for k, n in by_category),
            first_response=first,
            resolution=resolution,
            kb_offers=int(kb["offers"]),
            kb_helped=int(kb["yes"]),
            kb_not_helped=int(kb["no"]),
            kb_offered_tickets=int(total["offered"]),
            ratings_asked=asked,
            ratings_given=given,
            rating_counts=(scores[0], scores[1], scores[2], scores[3], scores[4]),
            rating_mean=mean,
            comments=tuple((int(r["score"]), str(r["comment"])) for r in comments),
            vendor_handoffs=int(total["handed"]),
            vendor_closed=vendor.count,
            vendor_median_hours=vendor.median,
            conduct=tuple((r["kind"], int(r["n"])) for r in conduct),
            load=load,
            weekdays=tuple(weekdays),
            hours=tuple(hours),
            categories=tuple(CategoryFigures(Category(k), n, rated, mean) for k, n, rated, mean in categories),
            days=drawn.days,
        )

    async def chart_figures(self, *, start: datetime, end: datetime, days: Sequence[LocalDay]) -> ReportFigures:
        """After :meth:`prepare`: what the chart shows (the days, the ratings 1..5), the rest left empty."""
        c = self.conn
        per_day = await fetch_all(
            c, "SELECT day, topic, COUNT(*) AS n FROM rtm WHERE day IS NOT NULL GROUP BY day, topic ORDER BY day, topic"
        )
        medians = {g: d.median for (_, g), d in (await self._ranked((Series("day", "day", "first_cm"),))).items()}
        by_day: dict[str, list[tuple[Topic, int]]] = {day[2]: [] for day in days}
        for r in per_day:
            by_day[r["day"]].append((Topic(r["topic"]), int(r["n"])))
        rated = await fetch_one(
            c,
            """SELECT SUM(score = 1) AS s1, SUM(score = 2) AS s2, SUM(score = 3) AS s3, SUM(score = 4) AS s4,
                      SUM(score = 5) AS s5
               FROM ratings WHERE asked_at >= :start AND asked_at < :end""",
            {"start": start.astimezone(UTC).isoformat(), "end": end.astimezone(UTC).isoformat()},
        )
        assert rated is not None
        return ReportFigures(
            rating_counts=(
                int(rated["s1"] or 0),
                int(rated["s2"] or 0),
                int(rated["s3"] or 0),
                int(rated["s4"] or 0),
                int(rated["s5"] or 0),
            ),
            days=tuple(
                DayFigures(date.fromisoformat(day), tuple(topics), medians.get(day)) for day, topics in by_day.items()
            ),
        )

    async def _load(self, names: dict[int, str], medians: dict[object, Durations]) -> tuple[SpecialistLoad, ...]:
        """Per specialist: taken (claimed), answered (wrote to the user in), median first response of taken."""
        rows = await fetch_all(
            self.conn,
            """WITH taken AS (
                   SELECT claimed_by_id AS sid, MAX(claimed_by_name) AS name, COUNT(*) AS n
                   FROM rtm WHERE claimed_by_id IS NOT NULL GROUP BY claimed_by_id
               ),
               answered AS (
                   SELECT m.author_id AS sid, MAX(m.author_name) AS name, COUNT(DISTINCT m.ticket_id) AS n
                   FROM messages m
                   WHERE m.direction = 'out' AND m.author_id IS NOT NULL AND m.ticket_id IN (SELECT id FROM rtm)
                   GROUP BY m.author_id
               ),
               who AS (SELECT sid FROM taken UNION SELECT sid FROM answered)
               SELECT who.sid, COALESCE(taken.name, answered.name, '') AS name,
                      COALESCE(taken.n, 0) AS taken, COALESCE(answered.n, 0) AS answered
               FROM who LEFT JOIN taken ON taken.sid = who.sid LEFT JOIN answered ON answered.sid = who.sid
               ORDER BY taken DESC, answered DESC, who.sid""",
        )
        return tuple(
            SpecialistLoad(
                names.get(int(r["sid"]), r["name"]),
                int(r["taken"]),
                int(r["answered"]),
                medians[r["sid"]].median if r["sid"] in medians else None,
            )
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
        await self.prepare(start, end, calendar, days)
        rows = await fetch_all(
            self.conn,
            """SELECT rtm.*, t.closed_by, t.created_at AS created_iso,
                      t.closed_at AS closed_iso, t.vendor_at AS vendor_iso
               FROM rtm JOIN tickets t ON t.id = rtm.id ORDER BY rtm.c, rtm.id""",
        )
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
