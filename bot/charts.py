"""The report's chart, drawn on the server without a display (matplotlib's Agg canvas, no pyplot).

One PNG, portrait, 1080 × 1350 pixels (a phone's screen width): above, the questions per day stacked by
topic (ЭЖ, ЭД) with the median first response (consultation minutes) as a line on its own axis; below,
the ratings 5★…1★. Labels in the school's language, in DejaVu Sans (shipped with matplotlib: Cyrillic
renders on any server). The same figures give the same bytes: no timestamps or version in the file.

matplotlib is imported when the first chart is drawn, not when the bot starts.
"""

from __future__ import annotations

import io
from typing import Any

from helpdesk.domain import ReportFigures, Topic
from helpdesk.rules.reports import Period
from helpdesk.texts import Tr

WIDTH_PX = 1080
HEIGHT_PX = 1350
DPI = 150
# Topic colours: colour-blind safe (Okabe–Ito), the median line dark.
COLOURS = {Topic.JOURNAL: "#0072B2", Topic.DIARY: "#E69F00"}
LINE = "#222222"
RATING_COLOURS = ("#D55E00", "#E69F00", "#999999", "#56B4E9", "#009E73")  # 1★ … 5★


class MatplotlibCharts:
    """:class:`helpdesk.reports.Charts` with matplotlib."""

    def render(self, figures: ReportFigures, period: Period, tr: Tr) -> bytes:
        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        style: dict[str, Any] = {
            "font.family": "DejaVu Sans",
            "font.size": 11,
            "axes.titlesize": 14,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "svg.hashsalt": "report",
        }
        with rc_context(style):  # type: ignore[arg-type]
            fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
            FigureCanvasAgg(fig)
            top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
            _days(top, figures, period, tr)
            _ratings(bottom, figures, tr)
            fig.suptitle(tr("report.title", period=period.label()), fontsize=13)
            # Fixed margins (no tight_layout: it draws the whole figure once more to measure it).
            fig.subplots_adjust(left=0.09, right=0.89, top=0.92, bottom=0.06, hspace=0.38)
            out = io.BytesIO()
            fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
        return out.getvalue()


def _days(ax: Any, figures: ReportFigures, period: Period, tr: Tr) -> None:
    days = figures.days
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    xs = list(range(len(days)))
    bottom = [0] * len(days)
    legend: list[Any] = []
    half = 0.375
    for topic in (Topic.JOURNAL, Topic.DIARY):
        counts = [dict(d.by_topic).get(topic, 0) for d in days]
        # One collection of rectangles per topic: a year of days costs as little as a week.
        boxes = [
            ((x - half, b), (x + half, b), (x + half, b + n), (x - half, b + n))
            for x, b, n in zip(xs, bottom, counts, strict=True)
            if n
        ]
        ax.add_collection(PolyCollection(boxes, facecolors=COLOURS[topic], edgecolors="none"))
        legend.append(Patch(color=COLOURS[topic], label=tr(f"topic.short.{topic.value}")))
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_title(tr("report.chart.days_title"))
    ax.set_ylabel(tr("report.chart.tickets_axis"))
    ax.set_ylim(0, max([*bottom, 1]) * 1.35)  # room for the legend above the bars
    ax.yaxis.get_major_locator().set_params(integer=True)
    step = max(1, -(-len(days) // 10))  # at most ten labels
    ticks = xs[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels(
        [f"{tr(f'report.weekday.{days[i].day.weekday()}')}\n{days[i].day:%d.%m}" for i in ticks], fontsize=9
    )
    ax.set_xlim(-0.6, max(len(days), 1) - 0.4)
    medians = [(x, d.median_first) for x, d in zip(xs, days, strict=True) if d.median_first is not None]
    handles, labels = legend, [h.get_label() for h in legend]
    if medians:
        twin = ax.twinx()
        twin.spines["top"].set_visible(False)
        line = twin.plot(
            [x for x, _ in medians],
            [m for _, m in medians],
            color=LINE,
            marker="o",
            markersize=4,
            linewidth=1.8,
            label=tr("report.chart.median_label"),
        )
        twin.set_ylabel(tr("report.chart.median_axis"), fontsize=9)
        twin.set_ylim(0, max(m for _, m in medians) * 1.2 + 1)
        handles += line
        labels.append(tr("report.chart.median_label"))
    ax.legend(handles, labels, loc="upper left", fontsize=9, frameon=False)


def _ratings(ax: Any, figures: ReportFigures, tr: Tr) -> None:
    counts = figures.rating_counts
    scores = [5, 4, 3, 2, 1]
    values = [counts[s - 1] for s in scores]
    bars = ax.barh(
        [f"{s}★" for s in scores], values, color=[RATING_COLOURS[s - 1] for s in scores], height=0.65
    )
    ax.invert_yaxis()
    ax.set_title(tr("report.chart.ratings_title"))
    ax.set_xlabel(tr("report.chart.ratings_axis"))
    ax.spines["right"].set_visible(False)
    top = max([*values, 1])
    ax.set_xlim(0, top * 1.15)
    ax.xaxis.get_major_locator().set_params(integer=True)
    if not any(values):
        ax.text(0.5, 0.5, tr("report.chart.no_ratings"), transform=ax.transAxes, ha="center", va="center")
        return
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, str(value), va="center")
