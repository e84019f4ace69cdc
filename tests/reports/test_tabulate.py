"""Tabulation rules: columns by path, exact money, grouping in first-seen order, totals over all rows."""

from __future__ import annotations

from decimal import Decimal

from subgraphs.reports.service.tabulate import aggregate, tabulate, totals_row, value_at

COLUMNS = [
    {"path": "agent.name", "label": "Agent", "format": "text"},
    {"path": "status", "label": "Status", "format": "text"},
    {"path": "quote.total", "label": "Total", "format": "money"},
    {"path": "passengers", "label": "Passengers", "format": "number"},
]


def rows() -> list[dict[str, object]]:
    # 0.10 + 0.20 as floats is 0.30000000000000004: money must come out exact.
    return [
        {
            "agent": {"name": "Ann"},
            "status": "BOOKED",
            "quote": {"total": "0.10"},
            "passengers": 10,
        },
        {
            "agent": {"name": "Bob"},
            "status": "BOOKED",
            "quote": {"total": "1000.05"},
            "passengers": 3,
        },
        {
            "agent": {"name": "Ann"},
            "status": "QUOTE",
            "quote": {"total": "0.20"},
            "passengers": None,
        },
        {"agent": None, "status": "BOOKED", "quote": None, "passengers": 7},
        {"agent": {"name": "Bob"}, "status": "BOOKED", "quote": {"total": "0.01"}},
    ]


def test_columns_by_path_missing_is_none() -> None:
    table = tabulate(rows(), COLUMNS)
    assert [c.key for c in table.columns] == ["agent.name", "status", "quote.total", "passengers"]
    assert table.rows[0] == ["Ann", "BOOKED", "0.10", 10]
    assert table.rows[3] == [None, "BOOKED", None, 7]
    assert table.rows[4] == ["Bob", "BOOKED", "0.01", None]
    assert table.totals == {}


def test_list_on_the_path_maps_over_items() -> None:
    row = {"vehicles": [{"capacity": 56}, {"capacity": 28}, {}]}
    assert value_at(row, "vehicles.capacity") == [56, 28, None]
    assert value_at({"a": 5}, "a.b") is None


def test_ungrouped_totals_exact_over_all_rows() -> None:
    table = tabulate(
        rows(),
        COLUMNS,
        aggregations=[
            {"column": "quote.total", "function": "SUM"},
            {"column": "quote.total", "function": "average"},
            {"column": "quote.total", "function": "min"},
            {"column": "quote.total", "function": "max"},
            {"column": "quote.total", "function": "count"},
            {"column": "passengers", "function": "sum"},
        ],
    )
    assert len(table.rows) == 5
    assert table.totals == {
        "sum(quote.total)": "1000.36",
        # 1000.36 / 4 = 250.09
        "average(quote.total)": "250.09",
        "min(quote.total)": "0.01",
        "max(quote.total)": "1000.05",
        "count(quote.total)": 4,
        "sum(passengers)": 20,
    }


def test_grouped_rows_are_the_groups_in_first_seen_order() -> None:
    table = tabulate(
        rows(),
        COLUMNS,
        group_by=["agent.name"],
        aggregations=[
            {"column": "quote.total", "function": "sum"},
            {"column": "quote.total", "function": "count"},
            {"column": "quote.total", "function": "average"},
        ],
    )
    assert [c.key for c in table.columns] == [
        "agent.name",
        "sum(quote.total)",
        "count(quote.total)",
        "average(quote.total)",
    ]
    assert [c.format for c in table.columns] == ["text", "money", "number", "money"]
    assert table.rows == [
        ["Ann", "0.30", 2, "0.15"],
        ["Bob", "1000.06", 2, "500.03"],
        [None, "0.00", 0, None],
    ]
    # Totals are over every row, not over the groups' figures.
    assert table.totals == {
        "sum(quote.total)": "1000.36",
        "count(quote.total)": 4,
        "average(quote.total)": "250.09",
    }


def test_group_by_two_columns() -> None:
    table = tabulate(
        rows(),
        COLUMNS,
        group_by=["agent.name", "status"],
        aggregations=[{"column": "passengers", "function": "sum"}],
    )
    assert table.rows == [
        ["Ann", "BOOKED", 10],
        ["Bob", "BOOKED", 3],
        ["Ann", "QUOTE", 0],
        [None, "BOOKED", 7],
    ]


def test_money_average_rounds_half_up_to_cents() -> None:
    # 0.025 tells half-up (0.03) from half-even (0.02)
    assert aggregate("average", ["0.01", "0.02"], money=True) == "0.02"
    assert aggregate("average", ["0.01", "0.04"], money=True) == "0.03"  # 0.025 -> 0.03
    assert aggregate("sum", ["0.1"] * 3, money=True) == "0.30"
    assert aggregate("sum", [0.1, 0.2], money=False) == 0.3
    assert aggregate("sum", [], money=True) == "0.00"
    assert aggregate("max", [], money=True) is None
    assert aggregate("average", [1, 2], money=False) == 1.5


def test_sum_of_many_cents_stays_exact() -> None:
    total = aggregate("sum", ["0.07"] * 1000 + ["1234567.89"], money=True)
    assert total == "1234637.89"
    assert Decimal(total) == Decimal("0.07") * 1000 + Decimal("1234567.89")


def test_totals_row_under_the_columns() -> None:
    grouped = tabulate(
        rows(),
        COLUMNS,
        group_by=["agent.name"],
        aggregations=[{"column": "quote.total", "function": "sum"}],
    )
    columns = [c.as_json() for c in grouped.columns]
    assert totals_row(columns, grouped.totals) == ["Total", "1000.36"]
    plain = tabulate(
        rows(),
        COLUMNS,
        aggregations=[
            {"column": "quote.total", "function": "sum"},
            {"column": "passengers", "function": "sum"},
            {"column": "passengers", "function": "max"},
        ],
    )
    columns = [c.as_json() for c in plain.columns]
    assert totals_row(columns, plain.totals) == ["Total", None, "1000.36", "sum 20; max 10"]
