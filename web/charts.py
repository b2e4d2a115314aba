"""Chart layout for the mixing analytics: where bars and cells go, their
colours (every text colour chosen for a WCAG contrast of at least 4.5:1
against its background) and the sentences that describe each chart. Plain
data in (:mod:`matcher.analytics`), plain data out for the templates."""

from __future__ import annotations

import math

from matcher.analytics import (
    Analytics,
    Coverage,
    Heatmap,
    Participation,
    RoundTies,
)
from matcher.evaluation import Network

__all__ = ["HEAT", "chart_view", "contrast", "network_view", "useful_view"]

# -- colours -----------------------------------------------------------------------------

#: Text on light and on dark backgrounds.
INK, PAPER = "#1a1a1a", "#ffffff"
#: Meetings per heatmap cell, few to many (ColorBrewer "Blues", darker steps
#: adjusted so that white text on them keeps 4.5:1).
HEAT = ("#dbe9f6", "#a6cbe6", "#6baed6", "#2171b5", "#08519c")
#: Lines and strokes that must stand out from white (3:1 or more).
STROKE = "#595959"
#: Series colours (each ≥ 3:1 against white, the page's background).
SERIES = {
    "new_ties": "#0b5394", "ties": "#a61c00",
    "met_yes": "#1b7837", "met_no": "#a61c00", "met_unanswered": "#767676",
    "sitting_out": "#ffffff", "in_groups": "#0b5394", "share": "#0b5394",
}


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g_, b = (channel(colour[k:k + 2]) for k in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g_ + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    a, b = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _ink_on(background: str) -> str:
    """Whichever of dark and white text reads better on ``background``."""
    return INK if contrast(INK, background) >= contrast(PAPER, background) else PAPER


def _nice_top(largest: int, ticks: int = 4) -> tuple[int, int]:
    """An axis from 0: (top, step) with a step of 1, 2 or 5 × 10ᵏ and top ≥ largest."""
    if largest <= 0:
        return 1, 1
    rough = largest / ticks
    power = 10 ** max(0, math.floor(math.log10(rough))) if rough >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    return step * math.ceil(largest / step), step


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# -- chart layouts -------------------------------------------------------------------------

CHAR_WIDTH = 7.2  # px per character of 12px text, roughly


def _heatmap(h: Heatmap) -> dict[str, object]:
    size = len(h.departments)
    cell = 44
    labels = [_short(d.label) for d in h.departments]
    longest = max((len(label) for label in labels), default=0)
    left = round(longest * CHAR_WIDTH) + 16
    top = round(longest * CHAR_WIDTH * 0.72) + 16
    largest = h.largest
    step = max(1, math.ceil(largest / len(HEAT)))
    cells = []
    for i, row in enumerate(h.meetings):
        for j, count in enumerate(row):
            fill = PAPER if count == 0 else HEAT[min(len(HEAT) - 1, (count - 1) // step)]
            cells.append({
                "x": left + j * cell, "y": top + i * cell, "count": count, "fill": fill,
                "ink": _ink_on(fill),
                "title": f"{h.departments[i].label} × {h.departments[j].label}: "
                         f"{_plural(count, 'meeting')}"})
    legend = [{"fill": PAPER, "ink": _ink_on(PAPER), "text": "0"}]
    for k, fill in enumerate(HEAT):
        low, high = k * step + 1, min((k + 1) * step, largest)
        if low > largest:
            break
        legend.append({"fill": fill, "ink": _ink_on(fill),
                       "text": str(low) if low == high else f"{low}–{high}"})
    grid = size * cell
    legend_y = top + grid + 24
    return {
        "cell": cell, "left": left, "top": top, "grid": grid, "cells": cells,
        "rows": [{"y": top + i * cell + cell / 2, "text": label,
                  "x": left + i * cell + cell / 2} for i, label in enumerate(labels)],
        "legend": [dict(item, x=left + k * 70) for k, item in enumerate(legend)],
        "legend_y": legend_y,
        "width": max(left + grid + top, left + len(legend) * 70) + 8,
        "height": legend_y + 44,
    }


def _axis(largest: int, height: int, top: int) -> tuple[int, list[dict[str, object]]]:
    high, step = _nice_top(largest)
    ticks = [{"value": v, "y": top + height - height * v / high}
             for v in range(0, high + 1, step)]
    return high, ticks


def _ties(ties: tuple[RoundTies, ...]) -> dict[str, object]:
    left, top, height, band = 48, 40, 200, 64
    high, ticks = _axis(max((t.ties for t in ties), default=0), height, top)
    bars, points = [], []
    for k, one in enumerate(ties):
        x = left + k * band + 12
        bar = height * one.new_ties / high
        bars.append({"x": x, "y": top + height - bar, "width": band - 24, "height": bar,
                     "value": one.new_ties, "label": f"Round {one.round}",
                     "title": f"Round {one.round}: {_plural(one.new_ties, 'new tie')}"})
        points.append({"x": x + (band - 24) / 2, "y": top + height - height * one.ties / high,
                       "value": one.ties,
                       "title": f"After round {one.round}: {_plural(one.ties, 'tie')} in all"})
    width = left + max(1, len(ties)) * band + 16
    return {"left": left, "top": top, "height": height, "bars": bars, "points": points,
            "path": " ".join(f"{'M' if k == 0 else 'L'}{p['x']:.1f},{p['y']:.1f}"
                             for k, p in enumerate(points)),
            "ticks": ticks, "width": max(width, 380), "axis_right": left + len(ties) * band,
            "height_all": top + height + 72, "legend_y": top + height + 48}


def _coverage(c: Coverage) -> dict[str, object]:
    left, width = 16, 560
    rows = []
    for k, (text, count, total, share) in enumerate((
            ("Participants who have met someone outside their department",
             c.met_outside, c.participants, c.met_outside_share),
            ("Pairs of departments that have met", c.department_pairs_met,
             c.department_pairs, c.department_pairs_share))):
        y = 28 + k * 76
        rows.append({"text": text, "y": y, "bar_y": y + 10, "fill_width": width * (share or 0),
                     "value": f"{count} of {total} ({_percent(share)})"})
    return {"left": left, "width": width, "rows": rows, "width_all": left + width + 24,
            "height_all": 28 + 2 * 76}


def _participation(p: Participation, kind: str) -> dict[str, object]:
    left, top, height, band = 48, 40, 200, 64
    if kind == "trial":
        series = [("met_yes", "said they met"), ("met_no", "said it did not happen"),
                  ("met_unanswered", "yet to say"), ("sitting_out", "sat out")]
    else:
        series = [("in_groups", "at a table"), ("sitting_out", "sat out")]
    high, ticks = _axis(max((r.in_groups + r.sitting_out for r in p.rounds), default=0),
                        height, top)
    bars = []
    for k, one in enumerate(p.rounds):
        x, base = left + k * band + 12, top + height
        for name, words in series:
            value = getattr(one, name)
            size = height * value / high
            base -= size
            if value:
                bars.append({"x": x, "y": base, "width": band - 24, "height": size,
                             "fill": SERIES[name], "ink": _ink_on(SERIES[name]),
                             "value": value, "title": f"Round {one.round}: {value} {words}"})
    labels = [{"x": left + k * band + band / 2, "text": f"Round {one.round}"}
              for k, one in enumerate(p.rounds)]
    legend, x = [], left
    for name, words in series:
        legend.append({"x": x, "fill": SERIES[name], "text": words})
        x += 20 + round(len(words) * CHAR_WIDTH) + 24
    return {"left": left, "top": top, "height": height, "bars": bars, "labels": labels,
            "ticks": ticks, "legend": legend, "legend_y": top + height + 48,
            "width": max(left + max(1, len(p.rounds)) * band + 16, x),
            "axis_right": left + len(p.rounds) * band, "height_all": top + height + 72}


def _describe(analytics: Analytics, chart: str) -> tuple[str, str]:
    """The title and a one-paragraph description of a chart, in words."""
    h, c, p = analytics.heatmap, analytics.coverage, analytics.participation
    if chart == "heatmap":
        text = (f"Meetings so far between {_plural(len(h.departments), 'department')}: "
                f"{_plural(h.total, 'meeting')}, {h.cross_department} across departments.")
        if h.largest:
            i, j = next((i, j) for i, row in enumerate(h.meetings)
                        for j, count in enumerate(row) if count == h.largest)
            text += (f" The most: {h.departments[i].label} × {h.departments[j].label} "
                     f"({h.largest}).")
        return "Meetings between departments", text
    if chart == "ties":
        total = analytics.ties[-1].ties if analytics.ties else 0
        per_round = "; ".join(f"round {t.round}: {t.new_ties}" for t in analytics.ties)
        return ("New cross-department ties per round",
                f"{_plural(total, 'pair')} of people from different departments have met; "
                f"new ones per round: {per_round or 'no rounds yet'}.")
    if chart == "coverage":
        return ("Coverage",
                f"{c.met_outside} of {c.participants} participants "
                f"({_percent(c.met_outside_share)}) have met someone outside their "
                f"department; {c.department_pairs_met} of {c.department_pairs} pairs of "
                f"departments ({_percent(c.department_pairs_share)}) have met.")
    if chart == "participation":
        who = (f"{p.participants} signed up, {p.active} active, {p.paused} paused"
               if analytics.kind == "trial" else
               f"{p.participants} joined, {p.active} still here, {p.left} left")
        answers = (f"; answers to “did you meet?”: {p.met_yes} yes, {p.met_no} no, "
                   f"{p.met_unanswered} yet to say" if analytics.kind == "trial" else "")
        return ("Participation per round",
                f"{who}; {_plural(len(p.rounds), 'round')}, "
                f"{_plural(p.groups, 'group' if analytics.kind == 'trial' else 'table')}"
                f"{answers}.")
    return "People who have not yet mixed", (
        f"{len(analytics.not_yet_mixed)} of {c.participants} participants have not yet met "
        "anyone outside their department.")


def chart_view(analytics: Analytics, chart: str) -> dict[str, object]:
    """Everything a template needs to draw ``chart`` of ``analytics``."""
    title, desc = _describe(analytics, chart)
    layout = {
        "heatmap": lambda: _heatmap(analytics.heatmap),
        "ties": lambda: _ties(analytics.ties),
        "coverage": lambda: _coverage(analytics.coverage),
        "participation": lambda: _participation(analytics.participation, analytics.kind),
    }.get(chart, dict)()
    return {"name": chart, "title": title, "desc": desc, "layout": layout,
            "series": SERIES, "stroke": STROKE, "ink": INK, "paper": PAPER}


# -- pages ---------------------------------------------------------------------------------


# -- the evaluation's pictures ------------------------------------------------------------

def network_view(network: Network, title: str, largest_ties: int, key: str) -> dict[str, object]:
    """The department network of an evaluation (matcher.evaluation.Network) as a
    picture: departments round a circle (the same places before and after),
    sized by their people, joined by lines as thick as the pairs of their
    people who have met (``largest_ties``: the thickest line of both pictures,
    so they compare). ``key`` makes the SVG's ids unique in a page."""
    departments = network.departments
    count = len(departments)
    radius = 90 + 12 * max(0, count - 6)
    longest = max((len(_short(label, 22)) for label, _ in departments), default=0)
    margin = round(longest * CHAR_WIDTH) + 24  # the labels' room, either side
    centre, middle = margin + radius, 24 + radius
    largest_people = max((n for _, n in departments), default=1)
    places = {}
    nodes = []
    for k, (label, people) in enumerate(departments):
        angle = -math.pi / 2 + 2 * math.pi * k / max(1, count)
        x, y = centre + radius * math.cos(angle), middle + radius * math.sin(angle)
        places[label] = (x, y)
        size = 5 + 11 * math.sqrt(people / largest_people)
        right = math.cos(angle) >= -1e-9
        nodes.append({
            "x": round(x, 1), "y": round(y, 1), "r": round(size, 1),
            "label": _short(label, 22),
            "label_x": round(x + (size + 6) * (1 if right else -1), 1),
            "label_y": round(y + 4, 1), "anchor": "start" if right else "end",
            "title": f"{label}: {_plural(people, 'person', 'people')}"})
    lines = []
    for tie in network.links:
        (x1, y1), (x2, y2) = places[tie.one], places[tie.other]
        lines.append({"x1": round(x1, 1), "y1": round(y1, 1), "x2": round(x2, 1),
                      "y2": round(y2, 1),
                      "width": round(1 + 7 * tie.ties / max(1, largest_ties), 1),
                      "title": f"{tie.one} × {tie.other}: {_plural(tie.ties, 'pair')} met"})
    desc = (f"{_plural(count, 'department')}; {network.department_pairs_connected} of "
            f"{network.department_pairs} pairs of departments connected; "
            f"{network.met_outside} of {network.people} people have met someone outside "
            f"their department.")
    return {"name": f"network-{key}", "title": title, "desc": desc, "nodes": nodes,
            "lines": lines, "width": 2 * centre, "height": 2 * middle, "stroke": STROKE, "ink": INK,
            "paper": PAPER, "node": SERIES["share"], "line": HEAT[3]}


def useful_view(counts: tuple[int, ...]) -> dict[str, object]:
    """How useful people found their meetings: one bar per answer, 1 to 5."""
    left, top, width, band = 120, 16, 360, 30
    largest = max(counts, default=0) or 1
    bars = [{"y": top + k * band, "width": round(width * n / largest, 1), "value": n,
             "label": f"{score} — {words}"}
            for k, (score, words, n) in enumerate(zip(
                range(1, 6), ("not useful", "a little", "quite", "useful", "very useful"),
                counts, strict=True))]
    total = sum(counts)
    desc = ("How useful, from 1 (not) to 5 (very): "
            + ", ".join(f"{score}: {n}" for score, n in enumerate(counts, start=1))
            + f" ({_plural(total, 'answer')}).")
    return {"name": "useful", "title": "How useful people found it", "desc": desc,
            "bars": bars, "left": left, "band": band, "width": left + width + 48,
            "height": top + 5 * band + 8, "ink": INK, "paper": PAPER,
            "fill": SERIES["share"]}
