"""Inline SVG charts, drawn in Python: no script, no network, escaped text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

BAR_HEIGHT = 22
LABEL_WIDTH = 330
CHART_WIDTH = 820
COLUMN_AREA = 220


def _svg(chart_id: str, title: str, width: int, height: int, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" '
        f'role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, cls: str = "label", anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(chart_id: str, title: str, items: Sequence[tuple[str, int]], color: str) -> str:
    """Horizontal bars, one per (label, value), longest first as given."""
    top = max((value for _, value in items), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 60
    rows = []
    for n, (label, value) in enumerate(items):
        y = n * BAR_HEIGHT
        width = max(1.0, span * value / top)
        rows.append(
            _text(LABEL_WIDTH - 8, y + 15, _short(label), anchor="end")
            + f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}"'
            f' fill="{color}"><title>{escape(label)}: {value}</title></rect>'
            + _text(LABEL_WIDTH + width + 6, y + 15, str(value), "value")
        )
    height = max(BAR_HEIGHT, len(items) * BAR_HEIGHT)
    return _svg(chart_id, title, CHART_WIDTH, height, "".join(rows))


def stacked_columns(
    chart_id: str,
    title: str,
    columns: Sequence[str],
    series: Mapping[str, Sequence[int]],
    colors: Mapping[str, str],
) -> str:
    """One column per label in ``columns``, stacked by series (bottom first), with a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    top = max(totals, default=0) or 1
    step = (CHART_WIDTH - 60) / max(1, len(columns))
    parts = []
    for i, column in enumerate(columns):
        base = COLUMN_AREA + 10.0
        for name, values in series.items():
            height = COLUMN_AREA * values[i] / top
            base -= height
            if values[i]:
                parts.append(
                    f'<rect x="{40 + i * step + 2:.1f}" y="{base:.1f}" width="{step - 4:.1f}" '
                    f'height="{height:.1f}" fill="{colors[name]}">'
                    f"<title>{escape(column)} {escape(name)}: {values[i]}</title></rect>"
                )
        parts.append(
            _text(40 + i * step + step / 2, COLUMN_AREA + 26, column[5:], "axis", "middle")
        )
    parts.append(_text(34, 18, str(top), "axis", "end"))
    legend = [
        f'<rect x="{40 + n * 110}" y="{COLUMN_AREA + 38}" width="12" height="12" '
        f'fill="{colors[name]}"/>' + _text(56 + n * 110, COLUMN_AREA + 49, name)
        for n, name in enumerate(series)
    ]
    return _svg(chart_id, title, CHART_WIDTH, COLUMN_AREA + 60, "".join(parts + legend))
