"""Variable values of a run: defaults, given parameters, relative dates in the operator's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from subgraphs.kit.errors import ServiceError
from subgraphs.reports.service import variables as V

CHICAGO = "America/Chicago"
#: 03:00 UTC on 1 March is still 28 February in Chicago (UTC-6).
NOW = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"relative": "today"}, "2026-02-28"),
        ({"relative": "month_start"}, "2026-02-01"),
        ({"relative": "year_start"}, "2026-01-01"),
        ({"relative": "days_ago", "days": 30}, "2026-01-29"),
        ({"relative": "days_ago", "days": 0}, "2026-02-28"),
        # local midnight, answered in UTC: CST is UTC-6
        ({"relative": "month_start_instant"}, "2026-02-01T06:00:00Z"),
        ({"relative": "today_instant"}, "2026-02-28T06:00:00Z"),
        # the end of a window that holds today whole: 1 March's local midnight
        ({"relative": "tomorrow"}, "2026-03-01"),
        ({"relative": "tomorrow_instant"}, "2026-03-01T06:00:00Z"),
    ],
)
def test_relative_dates_are_the_operators_calendar(spec: dict[str, object], value: str) -> None:
    assert V.resolve({"d": spec}, {}, NOW, CHICAGO) == {"d": value}


def test_local_midnight_follows_daylight_saving() -> None:
    # 15 April (CDT, UTC-5): the month began on 1 April at 05:00 UTC
    now = datetime(2026, 4, 15, 12, tzinfo=UTC)
    assert V.resolve({"d": {"relative": "month_start_instant"}}, {}, now, CHICAGO) == {
        "d": "2026-04-01T05:00:00Z"
    }
    # the same instant is already 1 March in UTC's own calendar
    assert V.resolve({"d": {"relative": "month_start"}}, {}, NOW, "UTC") == {"d": "2026-03-01"}


def test_given_parameters_override_defaults_and_may_be_relative() -> None:
    defaults = {"from": {"relative": "month_start"}, "status": ["BOOKED"]}
    given = {"from": {"relative": "year_start"}, "first": 5}
    assert V.resolve(defaults, given, NOW, CHICAGO, declared={"from", "status", "first"}) == {
        "from": "2026-01-01",
        "status": ["BOOKED"],
        "first": 5,
    }


def test_given_parameters_must_be_declared() -> None:
    with pytest.raises(ServiceError) as caught:
        V.resolve({}, {"status": "X", "region": "north"}, NOW, CHICAGO, declared={"status"})
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == ("parameters", "INVALID")
    assert "$region" in problem.message


@pytest.mark.parametrize(
    "spec",
    [
        {"relative": "week_start"},
        {"relative": "days_ago"},
        {"relative": "days_ago", "days": -1},
        {"relative": "days_ago", "days": True},
        {"relative": "today", "days": 3},
        {"relative": "today", "zone": "UTC"},
    ],
)
def test_malformed_relative_dates_are_refused(spec: dict[str, object]) -> None:
    [problem] = V.default_problems({"d": spec}, {"d"})
    assert (problem.field, problem.code) == ("variables", "INVALID")
    with pytest.raises(ServiceError):
        V.resolve({}, {"d": spec}, NOW, CHICAGO, declared={"d"})


def test_defaults_must_be_an_object_of_declared_names() -> None:
    assert [p.field for p in V.default_problems(["x"], {"d"})] == ["variables"]  # type: ignore[arg-type]
    assert [p.message for p in V.default_problems({"e": 1}, {"d"})] == [
        "$e is not a variable the operation declares (it declares $d)."
    ]
