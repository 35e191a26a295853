from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.modules.tracking.event_doc import TrackedEvent
from mercato.modules.tracking.ga4 import (
    ExportFileRefused,
    GA4ReadReport,
    GA4RowError,
    ReadLimits,
    ga4_export_files,
    map_ga4_row,
    read_ga4_export,
)
from mercato.simulation import (
    generate_catalog,
    generate_locations,
    simulate,
    summarize,
    write_ga4_export,
)

END = datetime(2025, 3, 4, tzinfo=UTC)
LIMITS = ReadLimits(total=1 << 30, line=1 << 20)


@pytest.fixture(scope="module")
def simulated() -> tuple[TrackedEvent, ...]:
    catalog = generate_catalog(products=200, seed=8, until=END)
    return tuple(
        simulate(
            catalog=catalog,
            locations=generate_locations(8),
            days=3,
            users=1500,
            seed=8,
            end=END,
        )
    )


def _read_all(directory: Path, report: GA4ReadReport | None = None) -> list[TrackedEvent]:
    return [
        e
        for path in ga4_export_files(directory)
        for e in read_ga4_export(path, limits=LIMITS, report=report)
    ]


def _param(key: str, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _purchase_row(**overrides: Any) -> dict[str, Any]:
    """A purchase row as `bq extract` writes it (INT64 values as strings)."""
    row: dict[str, Any] = {
        "event_date": "20250303",
        "event_timestamp": "1740999600123456",
        "event_name": "purchase",
        "event_params": [
            _param("ga_session_id", int_value="1740999000"),
            _param("ga_session_number", int_value="3"),
            _param("currency", string_value="EUR"),
            _param("location_id", string_value="BER-01"),
            _param("page_location", string_value="https://shop.example/checkout/done"),
            _param("engagement_time_msec", int_value="5120"),
        ],
        "user_id": None,
        "user_pseudo_id": "1843920584.1740999000",
        "device": {"category": "mobile", "operating_system": "Android", "language": "de-de"},
        "geo": {"country": "Germany", "region": "Berlin", "city": "Berlin"},
        "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
        "ecommerce": {
            "transaction_id": "T-1001",
            "purchase_revenue": 105.0,
            "shipping_value": 4.9,
            "total_item_quantity": "3",
            "unique_items": "2",
        },
        "items": [
            {"item_id": "SKU-1", "item_name": "Lamp", "price": 33.33, "quantity": "2",
             "item_revenue": 66.66, "item_category": "Lighting"},
            {"item_id": "SKU-2", "item_name": "Bulb", "price": 33.34, "quantity": "1",
             "item_revenue": None},
        ],
    }  # fmt: skip
    return row | overrides


class TestRoundTrip:
    @pytest.mark.parametrize("compress", [True, False])
    def test_export_then_import_keeps_counts_revenue_and_sessions(
        self, simulated: tuple[TrackedEvent, ...], tmp_path: Path, compress: bool
    ) -> None:
        files = write_ga4_export(simulated, tmp_path, compress=compress)
        assert [f.name for f in files] == [
            f"events_2025030{day}.json{'.gz' if compress else ''}" for day in (1, 2, 3)
        ]
        report = GA4ReadReport()
        back = _read_all(tmp_path, report)
        assert report.errors == []
        assert report.events == len(back) == len(simulated)
        assert report.rows < len(simulated)  # orders and impression lists share rows
        original, imported = summarize(simulated), summarize(back)
        assert imported.by_type == original.by_type
        assert imported.revenue == original.revenue > 0
        assert (imported.users, imported.sessions, imported.orders) == (
            original.users,
            original.sessions,
            original.orders,
        )
        assert imported.zero_result_searches == original.zero_result_searches

    def test_each_event_comes_back_with_its_session_time_product_and_money(
        self, simulated: tuple[TrackedEvent, ...], tmp_path: Path
    ) -> None:
        write_ga4_export(simulated, tmp_path)
        fields = ("type", "user_id", "session_id", "timestamp", "product_id", "quantity",
                  "price", "revenue", "query", "results_count", "location_code", "placement",
                  "strategy", "experiment_id", "variant")  # fmt: skip

        def keys(events: Any) -> Counter[tuple[Any, ...]]:
            return Counter(tuple(e.get(f) for f in fields) for e in events)

        assert keys(_read_all(tmp_path)) == keys(simulated)

    def test_item_details_come_from_the_catalog(
        self, simulated: tuple[TrackedEvent, ...], tmp_path: Path
    ) -> None:
        catalog = generate_catalog(products=200, seed=8, until=END)
        by_id = {p["product_id"]: p for p in catalog.products}
        write_ga4_export(simulated[:500], tmp_path, products=by_id)
        for event in _read_all(tmp_path):
            if "product_id" in event:
                product = by_id[event["product_id"]]
                assert event["properties"]["item_name"] == product["name"]
                assert event["properties"]["item_category"] == product["category"].split(" > ")[0]

    def test_importing_twice_gives_the_same_unique_event_ids(
        self, simulated: tuple[TrackedEvent, ...], tmp_path: Path
    ) -> None:
        write_ga4_export(simulated, tmp_path)
        first = [e["event_id"] for e in _read_all(tmp_path)]
        assert first == [e["event_id"] for e in _read_all(tmp_path)]
        assert len(set(first)) == len(first)

    def test_gzip_export_is_byte_identical_when_written_again(
        self, simulated: tuple[TrackedEvent, ...], tmp_path: Path
    ) -> None:
        first = write_ga4_export(simulated, tmp_path / "a")
        second = write_ga4_export(simulated, tmp_path / "b")
        assert [f.read_bytes() for f in first] == [f.read_bytes() for f in second]


class TestRowMapping:
    def test_purchase_lines_share_the_order_revenue_exactly(self) -> None:
        events = map_ga4_row(_purchase_row())
        assert [e["product_id"] for e in events] == ["SKU-1", "SKU-2"]
        assert [e["quantity"] for e in events] == [2, 1]
        assert [e["price"] for e in events] == ["33.33", "33.34"]
        # 105.00 (incl. shipping) over lines worth 66.66 and 33.34: 69.993 and 35.007
        assert sum(Decimal(e["revenue"]) for e in events) == Decimal("105.00")
        assert [e["revenue"] for e in events] == ["69.99", "35.01"]
        for event in events:
            assert event["properties"]["order_id"] == "T-1001"
            assert event["properties"]["order_revenue"] == "105.00"
            assert event["currency"] == "EUR"

    def test_row_fields_map_to_user_session_location_time_and_properties(self) -> None:
        event = map_ga4_row(_purchase_row())[0]
        assert event["user_id"] == "1843920584.1740999000"
        assert event["session_id"] == "1843920584.1740999000-1740999000"
        assert event["location_code"] == "BER-01"
        assert event["timestamp"] == "2025-03-03T11:00:00.123456Z"
        properties = event["properties"]
        assert properties["device"] == "mobile"
        assert properties["geo_country"] == "Germany"
        assert properties["traffic_source_medium"] == "(none)"
        assert properties["ga_session_number"] == 3
        assert properties["item_name"] == "Lamp"
        assert properties["ga4_event_name"] == "purchase"

    def test_user_id_wins_over_the_pseudo_id(self) -> None:
        event = map_ga4_row(_purchase_row(user_id="customer-7"))[0]
        assert event["user_id"] == "customer-7"
        assert event["session_id"] == "1843920584.1740999000-1740999000"

    def test_purchase_without_items_keeps_its_revenue_on_one_event(self) -> None:
        [event] = map_ga4_row(_purchase_row(items=[]))
        assert event["revenue"] == "105.00"
        assert "product_id" not in event

    def test_item_lists_become_one_impression_per_item(self) -> None:
        row = _purchase_row(
            event_name="view_item_list",
            ecommerce=None,
            items=[
                {"item_id": f"SKU-{i}", "item_list_name": "home", "item_list_index": str(i)}
                for i in range(3)
            ],
        )
        events = map_ga4_row(row)
        assert [e["type"] for e in events] == ["impression"] * 3
        assert [e["placement"] for e in events] == ["home"] * 3
        assert [e["properties"]["position"] for e in events] == [0, 1, 2]
        assert len({e["event_id"] for e in events}) == 3

    @pytest.mark.parametrize(
        ("name", "kind"),
        [("select_promotion", "click"), ("view_promotion", "impression"), ("select_item", "click")],
    )
    def test_promotion_and_selection_names_map_to_ours(self, name: str, kind: str) -> None:
        events = map_ga4_row(_purchase_row(event_name=name, items=[{"item_id": "SKU-9"}]))
        assert [e["type"] for e in events] == [kind]

    @pytest.mark.parametrize("name", ["search", "view_search_results"])
    def test_searches_take_the_search_term(self, name: str) -> None:
        row = _purchase_row(event_name=name, items=None)
        row["event_params"].append(_param("search_term", string_value="sofe"))
        [event] = map_ga4_row(row)
        assert (event["type"], event["query"]) == ("search", "sofe")

    def test_events_without_a_counterpart_map_to_nothing(self) -> None:
        assert map_ga4_row(_purchase_row(event_name="session_start")) == []

    @pytest.mark.parametrize(
        ("overrides", "reason"),
        [
            ({"event_name": None}, "event_name"),
            ({"event_timestamp": "soon"}, "event_timestamp"),
            ({"event_timestamp": 12}, "between 2000 and 2100"),
            ({"user_pseudo_id": None}, "neither user_id nor user_pseudo_id"),
            ({"event_params": {"currency": "EUR"}}, "event_params is not a list"),
            ({"items": [{"item_name": "no id"}]}, r"items\[0\] has no item_id"),
            ({"items": [{"item_id": "A", "price": "cheap"}]}, r"items\[0\].price"),
            ({"ecommerce": {}, "items": [{"item_id": "A"}]}, "no purchase_revenue"),
            ({"event_name": "view_item", "items": []}, "view_item has no items"),
        ],
    )
    def test_malformed_rows_raise_a_row_error_saying_why(
        self, overrides: dict[str, Any], reason: str
    ) -> None:
        with pytest.raises(GA4RowError, match=reason):
            map_ga4_row(_purchase_row(**overrides))

    def test_purchase_without_currency_needs_a_default(self) -> None:
        row = _purchase_row()
        row["event_params"] = [p for p in row["event_params"] if p["key"] != "currency"]
        with pytest.raises(GA4RowError, match="currency"):
            map_ga4_row(row)
        assert map_ga4_row(row, default_currency="CHF")[0]["currency"] == "CHF"


class TestFiles:
    def _write(self, path: Path, lines: list[str], compress: bool) -> None:
        data = "".join(line + "\n" for line in lines).encode()
        path.write_bytes(gzip.compress(data, mtime=0) if compress else data)

    @pytest.mark.parametrize("compress", [True, False])
    def test_bad_rows_are_reported_with_their_line_number(
        self, tmp_path: Path, compress: bool
    ) -> None:
        good = json.dumps(_purchase_row())
        lines = [
            good,
            "{not json",
            json.dumps(_purchase_row(ecommerce=None, items=[{"item_id": "A"}])),
            "",
            "[1, 2]",
            json.dumps(_purchase_row(event_name="scroll")),
            good.replace("T-1001", "T-1002"),
        ]
        path = tmp_path / "events_20250303.json"
        self._write(path, lines, compress)
        report = GA4ReadReport()
        events = list(read_ga4_export(path, limits=LIMITS, report=report))
        assert [(e.row, e.source) for e in report.errors] == [
            (2, path.name),
            (3, path.name),
            (5, path.name),
        ]
        assert "not JSON" in report.errors[0].reason
        assert "purchase_revenue" in report.errors[1].reason
        assert "not a JSON object" in report.errors[2].reason
        assert report.rows == 6
        assert report.skipped == Counter({"scroll": 1})
        assert {e["properties"]["order_id"] for e in events} == {"T-1001", "T-1002"}
        assert report.events == len(events) == 4

    def test_truncated_gzip_keeps_earlier_rows_and_reports_the_damage(self, tmp_path: Path) -> None:
        path = tmp_path / "events_20250303.json.gz"
        rows = [json.dumps(_purchase_row(event_timestamp=1740999600000000 + i)) for i in range(400)]
        self._write(path, rows, compress=True)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        report = GA4ReadReport()
        events = list(read_ga4_export(path, limits=LIMITS, report=report))
        assert 0 < len(events) < 800
        assert len(report.errors) == 1
        assert "unreadable file" in report.errors[0].reason

    def test_a_decompression_bomb_is_refused_after_the_limit_not_read_whole(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "events_20250303.json.gz"
        row = json.dumps(_purchase_row(event_name="scroll"))
        self._write(path, [row] * 40_000, compress=True)
        assert path.stat().st_size < 1 << 20 < 40_000 * len(row)  # small on disk only
        report = GA4ReadReport()
        with pytest.raises(ExportFileRefused, match="larger than 1048576 bytes once decompressed"):
            list(
                read_ga4_export(path, limits=ReadLimits(total=1 << 20, line=1 << 20), report=report)
            )
        assert report.rows * (len(row) + 1) <= 1 << 20  # it stopped at the limit

    @pytest.mark.parametrize("compress", [True, False])
    def test_a_line_past_the_limit_is_refused(self, tmp_path: Path, compress: bool) -> None:
        path = tmp_path / "events_20250303.json"
        self._write(path, [json.dumps(_purchase_row()), "[" + "1," * 50_000 + "1]"], compress)
        report = GA4ReadReport()
        with pytest.raises(ExportFileRefused, match="line longer than 4096 bytes"):
            list(read_ga4_export(path, limits=ReadLimits(total=1 << 30, line=4096), report=report))
        assert report.rows == 1

    def test_a_line_at_the_limit_is_read(self, tmp_path: Path) -> None:
        path = tmp_path / "events_20250303.json"
        line = json.dumps(_purchase_row())
        self._write(path, [line], compress=False)
        events = list(read_ga4_export(path, limits=ReadLimits(total=1 << 20, line=len(line))))
        assert len(events) == 2

    def test_export_files_are_listed_by_date_range(self, tmp_path: Path) -> None:
        for name in ("events_20250301.json.gz", "events_20250302.json", "events_20250303.json",
                     "events_intraday_20250304.json", "events_2025030.json", "notes.txt",
                     "events_20251340.json"):  # fmt: skip
            (tmp_path / name).write_text("")
        names = [p.name for p in ga4_export_files(tmp_path, date(2025, 3, 2), date(2025, 3, 4))]
        assert names == [
            "events_20250302.json",
            "events_20250303.json",
            "events_intraday_20250304.json",
        ]
        assert len(ga4_export_files(tmp_path)) == 4


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Plausible values most of the time, any JSON value now and then."""
    return st.one_of(valid, valid, valid, json_values)


# Rows with a valid envelope (name, time, user) and plausible-or-junk contents, so the
# mapping of parameters, items and revenue is exercised, not only the envelope checks.
ga4_shaped = st.fixed_dictionaries(
    {
        "event_name": st.sampled_from(["purchase", "view_item", "search", "select_item",
                                       "view_item_list", "begin_checkout", "page_view",
                                       "add_to_cart"]),
        "event_timestamp": st.integers(946_684_800_000_000, 4_102_444_799_999_999).flatmap(
            lambda micros: st.sampled_from([micros, str(micros)])
        ),
        "user_pseudo_id": st.text(min_size=1, max_size=10),
        "event_params": st.lists(
            st.fixed_dictionaries(
                {"key": st.sampled_from(["ga_session_id", "currency", "search_term", "value",
                                         "location_id", "results_count", "item_list_name"])},
                optional={"value": _mostly(
                    st.fixed_dictionaries({"string_value": st.text(max_size=8)})
                    | st.fixed_dictionaries({"int_value": st.integers() | st.integers().map(str)})
                    | st.fixed_dictionaries({"double_value": st.floats()})
                )},
            ),
            max_size=6,
        ),
    },
    optional={
        "user_id": _mostly(st.text(max_size=6)),
        "ecommerce": _mostly(st.fixed_dictionaries(
            {}, optional={"purchase_revenue": _mostly(st.floats(-1e6, 1e6)),
                          "transaction_id": _mostly(st.text(max_size=6))}
        )),
        "items": st.lists(
            st.fixed_dictionaries(
                {"item_id": _mostly(st.text(min_size=1, max_size=6))},
                optional={key: _mostly(st.integers(0, 10**6) | st.floats(0, 10**4))
                          for key in ("price", "quantity", "item_revenue", "item_list_index")},
            ),
            max_size=4,
        ),
        "device": _mostly(st.fixed_dictionaries({"category": st.text(max_size=6)})),
        "geo": json_values,
    },
)  # fmt: skip


def _events_or_row_error(row: Any) -> None:
    try:
        events = map_ga4_row(row, default_currency="EUR")
    except GA4RowError:
        return
    for event in events:
        json.dumps(event)
        if event["type"] == "purchase":
            Decimal(event["revenue"])


@settings(max_examples=150, deadline=None)
@given(row=json_values)
def test_any_json_value_maps_to_events_or_a_row_error(row: Any) -> None:
    _events_or_row_error(row)


@settings(max_examples=300, deadline=None)
@given(row=ga4_shaped)
def test_any_ga4_shaped_row_maps_to_events_or_a_row_error(row: Any) -> None:
    _events_or_row_error(row)


@settings(max_examples=150, deadline=None)
@given(
    total=st.integers(-(10**9), 10**9),
    lines=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 20)), min_size=1, max_size=8),
)
def test_purchase_revenue_is_split_over_lines_to_the_cent(
    total: int, lines: list[tuple[int, int]]
) -> None:
    items = [
        {"item_id": f"P{i}", "price": cents / 100, "quantity": quantity}
        for i, (cents, quantity) in enumerate(lines)
    ]
    row = _purchase_row(items=items, ecommerce={"purchase_revenue": total / 100})
    events = map_ga4_row(row)
    shares = [Decimal(e["revenue"]) * 100 for e in events]
    assert sum(shares) == total
    weights = [cents * quantity for cents, quantity in lines]
    if sum(weights):
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share - Decimal(total) * weight / sum(weights)) < 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.binary(max_size=60) | json_values.map(json.dumps), max_size=8))
def test_reading_arbitrary_lines_never_raises(tmp_path: Path, lines: list[Any]) -> None:
    path = tmp_path / "events_20250303.json"
    content = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    path.write_bytes(content)
    report = GA4ReadReport()
    events = list(read_ga4_export(path, limits=LIMITS, report=report))
    assert report.events == len(events)
    physical_lines = content.count(b"\n") + 1  # a binary "line" may hold newlines itself
    assert all(1 <= error.row <= physical_lines + 1 for error in report.errors)
