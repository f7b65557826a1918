"""Dashboard charts: whole-number ticks at a sensible spacing, month labels, an empty state."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from ccinspect.web.dashboard.views import count_axis, month_axis

from .conftest import deficient_with_finding, login_client


@pytest.mark.parametrize(("largest", "step"), [(0, 1), (1, 1), (3, 1), (6, 1), (7, 2), (12, 2), (29, 5),
                                               (45, 10), (250, 50)])
def test_count_axis_whole_numbers_about_six_intervals(largest, step):
    axis = count_axis(largest)
    assert axis["dtick"] == step and axis["tick0"] == 0 and axis["tickformat"] == "d"
    lo, hi = axis["range"]
    assert lo == 0 and hi > max(largest, 1)  # headroom for the bar's label
    assert 1 <= hi // step <= 7


def test_month_axis():
    one = month_axis([dt.date(2025, 5, 31)])
    assert one["dtick"] == "M1" and one["range"][0] < "2025-05-01" and one["range"][1] > "2025-06-30"
    year = month_axis([dt.date(2025, 1, 31), dt.date(2025, 12, 31)])
    assert year["dtick"] == "M2" and year["tickformat"] == "%Y-%m"
    assert month_axis([dt.date(2023, 1, 31), dt.date(2025, 12, 31)])["dtick"] == "M6"


def _figures(html: str):
    out = {}
    for name in ("bar-data", "line-data"):
        raw = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)[1]
        out[name] = json.loads(json.loads(raw))
    return out


def test_dashboard_charts(client, world):
    login_client(client, world.officer)
    empty = _figures(client.get("/dashboard/").content.decode())
    assert empty["bar-data"]["layout"]["annotations"][0]["text"] == "No open findings"
    deficient_with_finding(world)
    figs = _figures(client.get("/dashboard/").content.decode())
    bar = figs["bar-data"]
    assert bar["layout"]["yaxis"]["dtick"] == 1 and bar["layout"]["yaxis"]["tickformat"] == "d"
    assert bar["data"][0]["y"] == [1] and "annotations" not in bar["layout"]
