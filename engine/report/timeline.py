"""A clue's timeline as SVG: what happened when, one lane per dataset of its evidence.

The evidence rows say it themselves: a custody spell (``admitted_on`` → ``released_on``), a licence's
validity (``issued_on`` → ``valid_until``), a compulsory measure, a deposit until its refund are drawn
as bars (an open end runs to the as-of date, dashed); monthly payments (``pay_month``) as ticks; every
other date (death, judgment, drug finding, complaint, penalty) as a marked point. A prosecutor sees at
once that the payments go on inside the custody spell or after the death.

Pure: evidence (the JSON of a clue) in, SVG text out; every text is escaped; no ID number is drawn
(only dates, dataset titles and column labels). Used by the review service's clue page.

Example::

    svg = timeline_svg(json.loads(clue["evidence"]), labels={("death_records", "death_date"): "死亡日期"})
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

# (start column, end column, what the bar is): intervals a source row can carry
INTERVALS = (
    ("admitted_on", "released_on", "羁押期间"),
    ("measure_start", "measure_end", "管控措施期间"),
    ("issued_on", "valid_until", "有效期"),
    ("permit_date", "completion_filed_on", "施工期间"),
    ("deposited_on", "refunded_on", "保证金存续"),
)
MONTH_COLUMNS = ("pay_month",)
NOT_EVENTS = ("birth_date",)  # a date of the person, not of the case: it would stretch the axis

WIDTH, LABEL_WIDTH, LANE_HEIGHT, AXIS_HEIGHT = 760, 170, 30, 28


@dataclass(frozen=True)
class Bar:
    start: dt.date
    end: dt.date
    label: str
    open_end: bool = False


@dataclass(frozen=True)
class Point:
    on: dt.date
    label: str


@dataclass
class Lane:
    title: str
    bars: list[Bar] = field(default_factory=list)
    months: set[dt.date] = field(default_factory=set)
    points: list[Point] = field(default_factory=list)

    def dates(self) -> list[dt.date]:
        return [d for b in self.bars for d in (b.start, b.end)] + sorted(self.months) + [p.on for p in self.points]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value) -> dt.date | None:
    """A date written as a date (``2023-11-04``, or a date value); never a number that parses as one
    (Python reads ``51010619…`` — an ID number — as the basic ISO date 5101-06-19)."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _row_events(lane: Lane, dataset: str, fields: dict, as_of: dt.date, labels: dict) -> None:
    used = set()
    for start_col, end_col, what in INTERVALS:
        start = _date(fields.get(start_col))
        if start is None or end_col not in fields:
            continue
        end = _date(fields.get(end_col))
        bar = Bar(start, end or max(as_of, start), what, open_end=end is None)
        if bar not in lane.bars:
            lane.bars.append(bar)
        used |= {start_col, end_col}
    for column, value in fields.items():
        when = _date(value)
        if when is None or column in used or column in NOT_EVENTS:
            continue
        if column in MONTH_COLUMNS:
            lane.months.add(when)
            continue
        point = Point(when, labels.get((dataset, column), column))
        if point not in lane.points:
            lane.points.append(point)


def lanes_of(evidence: dict, labels: dict | None = None) -> list[Lane]:
    """The lanes of a clue's timeline: one per dataset of its source rows, in their order."""
    labels = labels or {}
    as_of = _date(evidence.get("as_of")) or dt.date.today()
    titles = evidence.get("datasets") or {}
    lanes: dict[str, Lane] = {}
    for source in evidence.get("sources") or []:
        dataset = str(source.get("dataset", ""))
        lane = lanes.setdefault(dataset, Lane(str(titles.get(dataset, dataset))))
        _row_events(lane, dataset, source.get("fields") or {}, as_of, labels)
    periods = (evidence.get("values") or {}).get("custody_periods")
    if isinstance(periods, list) and periods:  # merged custody spells (M01): drawn as the model saw them
        merged = Lane("合并后的羁押期间")
        for p in periods:
            start, end = _date((p or {}).get("start")), _date((p or {}).get("end"))
            if start is not None:
                merged.bars.append(Bar(start, end or max(as_of, start), "羁押期间", open_end=end is None))
        lanes["__custody"] = merged
    return [lane for lane in lanes.values() if lane.dates()]


def timeline_svg(evidence: dict, labels: dict | None = None) -> str:
    """The SVG text of the timeline ('' when the evidence holds no dates)."""
    lanes = lanes_of(evidence, labels)
    if not lanes:
        return ""
    dates = [d for lane in lanes for d in lane.dates()]
    first, last = min(dates), max(dates)
    first, last = dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1)
    span = (last - first).days
    plot = WIDTH - LABEL_WIDTH - 16

    def x(day: dt.date) -> float:
        return round(LABEL_WIDTH + plot * (day - first).days / span, 1)

    height = AXIS_HEIGHT + LANE_HEIGHT * len(lanes) + 8
    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="时间线 / timeline">']
    for year in range(first.year, last.year + 1):
        at = x(dt.date(year, 1, 1))
        parts.append(f'<line class="grid" x1="{at}" y1="14" x2="{at}" y2="{height - 4}" stroke="#ddd"/>')
        if year < last.year:  # the right edge closes the last year: no label there
            parts.append(f'<text class="year" x="{at + 2}" y="12" font-size="11" fill="#666">{year}</text>')
    for i, lane in enumerate(lanes):
        top = AXIS_HEIGHT + i * LANE_HEIGHT
        mid = top + LANE_HEIGHT / 2
        parts.append(f'<text class="lane" x="4" y="{mid + 4}" font-size="12">{e(lane.title)}</text>')
        for bar in lane.bars:
            dash = ' stroke-dasharray="4 3"' if bar.open_end else ""
            until = "至今" if bar.open_end else bar.end.isoformat()
            parts.append(f'<rect class="bar" x="{x(bar.start)}" y="{top + 7}" width="{max(x(bar.end) - x(bar.start), 2)}" '
                         f'height="{LANE_HEIGHT - 14}" fill="#9ec5e8" stroke="#3b7dbf"{dash}>'
                         f'<title>{e(bar.label)} {bar.start.isoformat()} – {until}</title></rect>')
        for month in sorted(lane.months):
            parts.append(f'<rect class="month" x="{x(month)}" y="{top + 9}" width="3" height="{LANE_HEIGHT - 18}" '
                         f'fill="#e07b39"><title>{month.strftime("%Y-%m")}</title></rect>')
        for point in lane.points:
            px = x(point.on)
            parts.append(f'<path class="point" d="M{px} {mid - 6} L{px + 6} {mid} L{px} {mid + 6} L{px - 6} {mid} Z" '
                         f'fill="#c0392b"><title>{e(point.label)} {point.on.isoformat()}</title></path>')
    parts.append("</svg>")
    return "".join(parts)
