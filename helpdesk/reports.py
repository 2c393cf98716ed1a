"""Reports for the school's management: the figures of a period, the weekly report, the CSV export.

The figures are SQL aggregates (``storage/reports.py``) over the period's tickets, with durations in
consultation minutes (:mod:`helpdesk.rules.consultation`); the words are :func:`helpdesk.rules.reports.compose`;
the chart is drawn by a :class:`Charts` port (the adapter draws it with matplotlib; the core imports no
plotting library). No aiogram.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from helpdesk.clock import Clock
from helpdesk.domain import ReportFigures
from helpdesk.duty import Duty
from helpdesk.ports import Notices
from helpdesk.rules.consultation import calendar, local_days
from helpdesk.rules.reports import Period, compose, last_week, parse_period, weekly_due
from helpdesk.school import SchoolProfile
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.reports import LocalDay, Stretch

WEEKLY_MARK = "weekly_report"
# A ticket opened in the period may be answered or closed long after it: the consultation calendar runs
# from the period's start to now (and a day more, for a clock running a little ahead of the database).
CALENDAR_SLACK = timedelta(days=1)

EXPORT_COLUMNS = (
    "ticket",
    "created",
    "role",
    "topic",
    "category",
    "status",
    "specialist",
    "first_response_min",
    "resolution_min",
    "vendor_handed",
    "closed",
    "closed_how",
    "rating",
)


class Charts(Protocol):
    """Draws a report's chart: a PNG, the same bytes for the same figures. It reads only the figures'
    ``days`` and ``rating_counts``."""

    def render(self, figures: ReportFigures, period: Period, tr: Tr) -> bytes: ...


@dataclass(frozen=True)
class Report:
    period: Period
    figures: ReportFigures
    text: str
    chart: bytes | None


class Reports:
    def __init__(
        self,
        *,
        store: Store,
        school: SchoolProfile,
        duty: Duty,
        notices: Notices,
        texts: Texts,
        clock: Clock,
        charts: Charts | None,
        manager_chat_id: int | None,
    ) -> None:
        self.store = store
        self.school = school
        self.duty = duty
        self.notices = notices
        self.texts = texts
        self.clock = clock
        self.charts = charts
        self.manager_chat_id = manager_chat_id

    @property
    def tr(self) -> Tr:
        return self.texts.staff

    def period(self, arg: str) -> Period | None:
        """The period ``/report ARG`` means, or None."""
        return parse_period(arg, self.clock().astimezone(self.school.tz).date(), self.school)

    async def _names(self) -> dict[int, str]:
        """Linked specialists' names (as they sign) by Telegram id."""
        names = {}
        for link in await self.store.duty.links():
            spec = self.school.find_specialist(link.specialist_key)
            names[link.tg_user_id] = spec.short_name if spec else link.tg_name
        return names

    def _frame(self, period: Period) -> tuple[datetime, datetime, tuple[Stretch, ...], tuple[LocalDay, ...]]:
        """The period's bounds, its consultation calendar and its local days."""
        start, end = period.bounds(self.school)
        until = max(end, self.clock()) + CALENDAR_SLACK
        return start, end, calendar(self.school, start, until), local_days(self.school, period.first, period.last)

    async def figures(self, period: Period) -> ReportFigures:
        start, end, cal, days = self._frame(period)
        names = await self._names()
        settings = self.school.reports
        async with self.store.reports() as repo:
            return await repo.figures(
                start=start,
                end=end,
                calendar=cal,
                days=days,
                sla_first=settings.first_response_minutes,
                sla_resolution=settings.resolution_minutes,
                names=names,
            )

    def compose(self, figures: ReportFigures, period: Period, *, management: bool) -> str:
        settings = self.school.reports
        return compose(
            figures,
            period,
            self.tr,
            sla_first=settings.first_response_minutes,
            sla_resolution=settings.resolution_minutes,
            management=management,
        )

    async def build(self, period: Period, *, management: bool = True) -> Report:
        """The report of ``period``: figures, text and chart (None when no chart can be drawn here).

        The chart is drawn (in a thread: a few tenths of a second of CPU) from the figures it shows, while
        the database works out the rest: the two run side by side on two cores."""
        start, end, cal, days = self._frame(period)
        names = await self._names()
        settings = self.school.reports
        drawing: asyncio.Task[bytes] | None = None
        try:
            async with self.store.reports() as repo:
                await repo.prepare(start, end, cal, days)
                drawn = await repo.chart_figures(start=start, end=end, days=days)
                if self.charts is not None:
                    drawing = asyncio.create_task(asyncio.to_thread(self.charts.render, drawn, period, self.tr))
                figures = await repo.figures(
                    start=start,
                    end=end,
                    calendar=cal,
                    days=days,
                    sla_first=settings.first_response_minutes,
                    sla_resolution=settings.resolution_minutes,
                    names=names,
                    drawn=drawn,
                )
            chart = await drawing if drawing is not None else None
        finally:
            if drawing is not None and not drawing.done():
                drawing.cancel()
                with contextlib.suppress(BaseException):
                    await drawing
        return Report(period, figures, self.compose(figures, period, management=management), chart)

    async def weekly(self, now: datetime) -> None:
        """The scheduler's check: the previous week's report to the deputy director, once, from the profile's
        weekday and time on. A week with nothing to report (no tickets, ratings or answers to articles: a
        bot just installed) is passed over quietly."""
        settings = self.school.reports
        if settings.weekly_day is None:
            return
        local = now.astimezone(self.school.tz)
        sent = await self.store.duty.mark(WEEKLY_MARK)
        week = weekly_due(local, settings.weekly_day, settings.weekly_time, sent)
        if week is None:
            return
        key = week.first.isoformat()
        f = await self.figures(week)
        if not f.tickets and not f.ratings_asked and not (f.kb_helped + f.kb_not_helped):
            async with self.store.transaction():
                await self.store.duty.set_mark(WEEKLY_MARK, key)
            return
        # The manager chat is management's own; without one the report goes to the staff group, where
        # the load per specialist and the users' comments are not shown.
        text = self.compose(f, week, management=self.manager_chat_id is not None)
        chart = None
        if self.charts is not None:
            chart = await asyncio.to_thread(self.charts.render, f, week, self.tr)
        async with self.store.transaction():
            if await self.store.duty.mark(WEEKLY_MARK) == key:
                return
            await self.store.duty.set_mark(WEEKLY_MARK, key)
            await self.store.notice(self.duty.manager_dest, text, dedupe=f"weekly:{key}")
            if chart is not None:
                await self.store.notice(
                    self.duty.manager_dest,
                    self.tr("report.chart_caption", period=week.label()),
                    dedupe=f"weekly-chart:{key}",
                    photo=chart,
                )
        self.notices.kick()

    def last_week(self) -> Period:
        return last_week(self.clock().astimezone(self.school.tz).date())

    async def export_csv(self, period: Period) -> tuple[bytes, int]:
        """One row per ticket opened in ``period`` (UTF-8 with a BOM, so that Excel shows Cyrillic), no
        message texts: numbers, codes, times and the specialist who took it. Returns the file and its rows."""
        start, end, cal, days = self._frame(period)
        async with self.store.reports() as repo:
            rows = await repo.export(
                start=start,
                end=end,
                calendar=cal,
                days=days,
                closed_by_user=self.tr("staff.closed_by_user_name"),
            )
        names = await self._names()
        tz = self.school.tz

        def when(moment: datetime | None) -> str:
            return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

        def minutes(value: float | None) -> str:
            return "" if value is None else f"{value:.0f}"

        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for r in rows:
            specialist = ""
            if r.specialist_id is not None:
                specialist = names.get(r.specialist_id, r.specialist_name or "")
            writer.writerow(
                (
                    r.id,
                    when(r.created_at),
                    r.role,
                    r.topic,
                    r.category,
                    r.status,
                    specialist,
                    minutes(r.first_response_minutes),
                    minutes(r.resolution_minutes),
                    when(r.vendor_at),
                    when(r.closed_at),
                    r.closed_how,
                    "" if r.rating is None else r.rating,
                )
            )
        return ("\ufeff" + out.getvalue()).encode("utf-8"), len(rows)
