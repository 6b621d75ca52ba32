"""The seed's tables (§3), both write modes, ordering, deletes, exactly once across crashes, schema
evolution (§6), metrics, quality results and maintenance: all read back with DuckDB."""
import datetime as dt
import json
import os
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from deltalake import DeltaTable
from fsspec.implementations.memory import MemoryFileSystem
from pyarrow.fs import FSSpecHandler, PyFileSystem, S3FileSystem
from pyiceberg.io.pyarrow import PyArrowFileIO

from cdc_lakehouse.metrics import serve
from cdc_lakehouse.quality import results_table, run_checks, write_results
from cdc_lakehouse import maintenance
from cdc_lakehouse.maintenance import maintain
from debezium_records import CUSTOMERS, ORDERS, PRODUCTS, T0, Builder, customer, mariadb_source, order, pg_source, product
from reader import delta_rows, iceberg_rows

TS = int(T0.timestamp() * 1000) + 100


def pg(b, op, before, after, lsn, **kw):
    return b.change(op, before, after, source=pg_source(lsn, T0), ts_ms=TS, **kw)


def test_delta_tables_have_the_seed_layout(shop, root):
    shop.runner.start()
    t = DeltaTable(str(root / "delta" / "customers_cdc"))
    fields = {f.name: (f.type.type, f.metadata) for f in t.schema().fields}
    assert list(fields)[:15] == ["customer_id", "email", "first_name", "last_name", "phone", "address_line1", "city", "state", "postal_code", "country", "registration_date", "last_updated", "is_active", "customer_tier", "lifetime_value"]
    assert fields["customer_id"][0] == "long" and fields["lifetime_value"][0] == "decimal(12,2)" and fields["last_updated"][0] == "timestamp"
    assert [n for n in fields][15:] == ["_cdc_operation", "_cdc_timestamp", "_cdc_source_lsn", "last_updated_date"]
    assert fields["last_updated_date"][1] == {"delta.generationExpression": "CAST(last_updated AS DATE)"}
    assert t.metadata().partition_columns == ["last_updated_date"]
    assert t.metadata().configuration["delta.enableChangeDataFeed"] == "true"
    orders = DeltaTable(str(root / "delta" / "orders_cdc"))
    assert orders.metadata().partition_columns == ["order_date_date"]


def test_iceberg_tables_have_the_seed_layout(inventory, shop):
    inventory.runner.start()
    shop.runner.start()
    products = inventory.runner.writers[0].table.table()
    assert products.metadata.format_version == 2 and products.properties["write.metadata.metrics.default"] == "full"
    assert str(products.spec()) == "[\n  1000: updated_at_month: month(11)\n]"
    assert [(f.source_id, f.direction.value) for f in products.sort_order().fields] == [(1, "asc"), (11, "asc")]
    schema = products.schema()
    assert [(f.name, str(f.field_type), f.required) for f in schema.fields][-4:] == [
        ("_cdc_operation", "string", True), ("_cdc_timestamp", "timestamp", True), ("_cdc_binlog_file", "string", False), ("_cdc_binlog_position", "long", False)]
    analytics = next(w for w in shop.runner.writers if w.dest.name == "customers_analytics").table.table()
    assert str(analytics.spec()) == "[\n  1000: registration_date_year: year(7)\n]"
    assert [(f.source_id, f.direction.value) for f in analytics.sort_order().fields] == [(5, "asc"), (6, "desc")]


def test_append_is_one_row_per_change_in_source_order_and_replays_add_nothing(shop, root):
    c = Builder(CUSTOMERS)
    changes = [
        pg(c, "c", None, customer(1), 100),
        pg(c, "u", None, customer(1, tier="Platinum"), 110),
        pg(c, "c", None, customer(2), 120),
        pg(c, "d", customer(1), None, 130),
    ]
    changes.append(c.tombstone({"customer_id": 1}))
    # Debezium restarting from an older source offset re-sends the last two changes
    changes += [pg(c, "c", None, customer(2), 120), pg(c, "d", customer(1), None, 130)]
    shop.broker.produce(*changes)
    shop.run()
    rows = delta_rows(root / "delta" / "customers_cdc", "SELECT customer_id, customer_tier, _cdc_operation, _cdc_source_lsn FROM t ORDER BY _cdc_source_lsn")
    assert [(r["customer_id"], r["_cdc_operation"]) for r in rows] == [(1, "INSERT"), (1, "UPDATE"), (2, "INSERT"), (1, "DELETE")]
    assert rows[1]["customer_tier"] == "Platinum"
    assert shop.metrics.skipped.labels("shop", "customers_cdc")._value.get() == 2


def test_upsert_merges_by_key_and_late_events_never_regress(shop, root):
    c = Builder(CUSTOMERS)
    shop.broker.produce(pg(c, "c", None, customer(1, value="10.00"), 100), pg(c, "c", None, customer(2), 101), pg(c, "c", None, customer(3), 102))
    shop.run()
    shop.broker.produce(
        pg(c, "u", None, customer(1, value="30.00"), 300),
        pg(c, "u", None, customer(1, value="20.00"), 200),  # late: older than what the table has
        pg(c, "d", customer(2), None, 301),
        pg(c, "c", None, customer(2), 101),  # replay of the insert the delete already superseded
    )
    shop.run()
    rows = iceberg_rows(root / "iceberg", "lakehouse", "customers_analytics", "SELECT customer_id, lifetime_value, full_name, location FROM t ORDER BY customer_id")
    assert rows == [
        {"customer_id": 1, "lifetime_value": Decimal("30.00"), "full_name": "Ada Lovelace", "location": "Springfield, IL, USA"},
        {"customer_id": 3, "lifetime_value": Decimal("10.00") * 10, "full_name": "Ada Lovelace", "location": "Springfield, IL, USA"},
    ]


def test_delta_upsert_merge(root):
    import conftest

    raw = conftest.seed_raw(root)
    raw["pipelines"][1]["destinations"].append({
        "name": "products_current", "format": "deltalake", "topic": PRODUCTS, "location": str(root / "delta" / "products_current"),
        "write_mode": "upsert", "primary_key": ["product_id"],
    })
    h = conftest.Harness(raw, "inventory")
    p = Builder(PRODUCTS)
    h.broker.produce(
        p.change("c", None, product(1, qty=1), source=mariadb_source(100, T0), ts_ms=TS + 1000),
        p.change("c", None, product(2, qty=1), source=mariadb_source(110, T0), ts_ms=TS + 1000),
        p.change("u", product(1, qty=1), product(1, qty=9), source=mariadb_source(120, T0), ts_ms=TS + 1000),
        p.change("d", product(2, qty=1), None, source=mariadb_source(130, T0), ts_ms=TS + 1000),
    )
    h.run()
    h.broker.produce(p.change("u", product(1, qty=1), product(1, qty=5), source=mariadb_source(115, T0), ts_ms=TS + 1000))
    h.run()
    assert delta_rows(root / "delta" / "products_current", "SELECT product_id, quantity_in_stock FROM t") == [{"product_id": 1, "quantity_in_stock": 9}]


def test_total_orders_comes_from_the_orders_change_log(shop, root):
    c, o = Builder(CUSTOMERS), Builder(ORDERS)
    shop.broker.produce(pg(c, "c", None, customer(1), 100), pg(c, "c", None, customer(2), 101))
    shop.broker.produce(pg(o, "c", None, order(10, 1), 102), pg(o, "c", None, order(11, 1), 103), pg(o, "c", None, order(12, 2), 104))
    shop.run()
    shop.broker.produce(pg(o, "d", order(11, 1), None, 200), pg(o, "u", None, order(12, 1), 201))
    shop.run()
    got = iceberg_rows(root / "iceberg", "lakehouse", "customers_analytics", "SELECT customer_id, total_orders, _source_system FROM t ORDER BY customer_id")
    assert got == [{"customer_id": 1, "total_orders": 2, "_source_system": "postgres_cdc"}, {"customer_id": 2, "total_orders": 0, "_source_system": "postgres_cdc"}]


class Crash(Exception):
    pass


@pytest.mark.parametrize("when", ["before_table_commit", "after_table_commit"])
def test_exactly_once_across_a_crash(shop, root, when):
    c = Builder(CUSTOMERS)
    shop.broker.produce(*[pg(c, "c", None, customer(i), 100 + i) for i in range(1, 6)])
    shop.run()
    shop.broker.produce(*[pg(c, "c", None, customer(i), 100 + i) for i in range(6, 11)])
    runner = shop.runner
    delta = runner.writers[0].table
    real_append = delta.append

    def crashing_append(rows, state, touched=None):
        if when == "after_table_commit":
            real_append(rows, state, touched)
        raise Crash(when)

    delta.append = crashing_append
    with pytest.raises(Crash):
        runner.step()
    # the consumer group never saw this batch; a new process resumes from the table itself
    assert shop.broker.group_offsets[(CUSTOMERS, 0)] == 5
    shop.restart()
    shop.runner.start()
    # customers_analytics had not committed the batch: the consumer starts where it stopped, and
    # customers_cdc, which had, passes over what its own commit already holds
    assert shop.source.assigned_from[(CUSTOMERS, 0)] == 5
    assert shop.runner.writers[0].next_offset(CUSTOMERS, 0) == (10 if when == "after_table_commit" else 5)
    shop.run()
    rows = delta_rows(root / "delta" / "customers_cdc", "SELECT customer_id FROM t ORDER BY customer_id")
    assert [r["customer_id"] for r in rows] == list(range(1, 11))
    analytics = iceberg_rows(root / "iceberg", "lakehouse", "customers_analytics", "SELECT count(*) AS n FROM t")
    assert analytics == [{"n": 10}]


def test_recorded_offsets_are_in_the_commits(shop, root):
    c = Builder(CUSTOMERS)
    shop.broker.produce(*[pg(c, "c", None, customer(i), 100 + i) for i in range(1, 4)])
    shop.run()
    t = DeltaTable(str(root / "delta" / "customers_cdc"))
    assert t.transaction_version(f"cdc-lakehouse:shop:customers_cdc:{CUSTOMERS}:0") == 3
    analytics = next(w for w in shop.runner.writers if w.dest.name == "customers_analytics").table.table()
    state = json.loads(analytics.current_snapshot().summary.additional_properties["cdc.writer.state"])
    assert state["offsets"] == {f"{CUSTOMERS}:0": 3} and state["rows_expected"] == 3


def _evolution_fields(b):
    return [dict(f) for f in b.row_fields()]


def test_schema_evolution_steps_on_delta_and_iceberg(shop, inventory, root):
    """Seed §6 on the sources' real Connect schemas: add, drop, widen, rename; no row lost."""
    c = Builder(CUSTOMERS)
    base = _evolution_fields(c)
    shop.broker.produce(pg(c, "c", None, customer(1), 100))
    added = c.with_row_fields(base + [{"type": "string", "optional": True, "field": "new_column_added"}])
    shop.broker.produce(pg(added, "c", None, {**customer(2), "new_column_added": "v1"}, 110))
    dropped_fields = [f for f in base if f["field"] != "phone"] + [{"type": "string", "optional": True, "field": "new_column_added"}]
    dropped = c.with_row_fields(dropped_fields)
    shop.broker.produce(pg(dropped, "c", None, {k: v for k, v in {**customer(3), "new_column_added": "v2"}.items() if k != "phone"}, 120))
    renamed = c.with_row_fields([f for f in base if f["field"] != "phone"] + [{"type": "string", "optional": True, "field": "renamed_column"}])
    shop.broker.produce(pg(renamed, "c", None, {k: v for k, v in {**customer(4), "renamed_column": "v3"}.items() if k != "phone"}, 130))
    shop.run()
    rows = delta_rows(root / "delta" / "customers_cdc", "SELECT customer_id, new_column_added, renamed_column FROM t ORDER BY customer_id")
    assert rows == [
        {"customer_id": 1, "new_column_added": None, "renamed_column": None},
        {"customer_id": 2, "new_column_added": "v1", "renamed_column": None},
        {"customer_id": 3, "new_column_added": "v2", "renamed_column": None},
        {"customer_id": 4, "new_column_added": None, "renamed_column": "v3"},
    ]
    # Iceberg: a required column the source drops becomes optional; an INT that becomes BIGINT widens
    p = Builder(PRODUCTS)
    fields = _evolution_fields(p)
    inventory.broker.produce(p.change("c", None, product(1), source=mariadb_source(100, T0), ts_ms=TS + 1000))
    wide = [dict(f, type="int64") if f["field"] == "quantity_in_stock" else f for f in fields if f["field"] != "category"]
    pw = p.with_row_fields(wide)
    inventory.broker.produce(pw.change("c", None, {**{k: v for k, v in product(2).items() if k != "category"}, "quantity_in_stock": 2**40}, source=mariadb_source(200, T0), ts_ms=TS + 1000))
    inventory.run()
    assert inventory.dlq.sent == []
    schema = inventory.runner.writers[0].table.table().schema()
    assert str(schema.find_field("quantity_in_stock").field_type) == "long" and not schema.find_field("category").required
    got = iceberg_rows(root / "iceberg", "lakehouse", "products_cdc", "SELECT product_id, category, quantity_in_stock FROM t ORDER BY product_id")
    assert got == [{"product_id": 1, "category": "Books", "quantity_in_stock": 5}, {"product_id": 2, "category": None, "quantity_in_stock": 2**40}]


def test_metrics_and_health_over_http(shop):
    c = Builder(CUSTOMERS)
    shop.broker.produce(pg(c, "c", None, customer(1), 100), pg(c, "u", None, customer(1, tier="Silver"), 101), pg(c, "d", customer(1), None, 102))
    shop.broker.produce(pg(c, "c", customer(1), customer(1), 103))
    shop.run()
    server = serve(shop.metrics, 0, "127.0.0.1")
    try:
        port = server.server_address[1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
        assert health.status == 200
    finally:
        server.shutdown()
    for line in [
        # counted per table write: customers_cdc logs all three, customers_analytics applies the last
        'cdc_events_processed_total{operation="INSERT",pipeline_id="shop"} 1.0',
        'cdc_events_processed_total{operation="UPDATE",pipeline_id="shop"} 1.0',
        'cdc_events_processed_total{operation="DELETE",pipeline_id="shop"} 2.0',
        'cdc_events_failed_total{error_type="insert_has_before",pipeline_id="shop"} 1.0',
        'cdc_pipeline_health{pipeline_id="shop"} 1.0',
    ]:
        assert line in text, line
    assert 'cdc_lag_seconds{destination_table="customers_cdc",pipeline_id="shop",source_table="public.customers"}' in text
    assert 'cdc_throughput_events_per_second{pipeline_id="shop"}' in text


def test_quality_checks_write_validation_results_and_catch_a_lost_file(shop, root):
    c = Builder(CUSTOMERS)
    shop.broker.produce(*[pg(c, "c", None, customer(i), 100 + i) for i in range(1, 21)])
    shop.run()
    writer = shop.runner.writers[0]
    results = run_checks("shop", writer, lag_seconds=1.5)
    assert [(r.validation_type, r.status) for r in results] == [("row_count", "PASS"), ("checksum", "PASS"), ("lag", "PASS")]
    table = results_table(shop.pipeline, {})
    write_results(table, "shop", results)
    rows = delta_rows(root / "delta" / "validation_results", "SELECT pipeline_id, validation_type, status, expected_value, actual_value, duration_ms FROM t ORDER BY validation_type")
    assert [(r["validation_type"], r["status"], r["expected_value"]) for r in rows] == [("checksum", "PASS", results[1].expected), ("lag", "PASS", "<= 5 s"), ("row_count", "PASS", "20 rows")]
    # a row removed behind the writer's back fails both checks
    DeltaTable(str(root / "delta" / "customers_cdc")).delete("customer_id = 3")
    # 19 of 20 rows is 5 % off, over the seed's 1 % tolerance
    assert [r.status for r in run_checks("shop", writer, lag_seconds=9)] == ["FAIL", "FAIL", "FAIL"]


def test_maintenance_vacuums_and_expires(shop, root):
    c = Builder(CUSTOMERS)
    for i in range(1, 4):
        shop.broker.produce(pg(c, "u" if i > 1 else "c", None, customer(1, tier=f"T{i}"), 100 + i))
        shop.run()
    report = maintain(shop.config, shop.pipeline, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))
    by_table = {r["table"]: r for r in report}
    assert by_table["customers_analytics"]["expired_snapshots"] >= 2
    assert by_table["customers_cdc"]["format"] == "deltalake"
    assert iceberg_rows(root / "iceberg", "lakehouse", "customers_analytics", "SELECT customer_tier FROM t") == [{"customer_tier": "T3"}]


class _TimedMemoryFS(MemoryFileSystem):
    """fsspec's in-memory store standing in for object storage; reports a modification time (its
    creation time) as S3 does, which fsspec's memory store leaves out."""

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        found = super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        if detail:
            for info in found.values():
                if info.get("created") is not None:
                    info["mtime"] = info["created"]
        return found


class _Recording(FSSpecHandler):
    def __init__(self, fs):
        super().__init__(fs)
        self.listed, self.deleted = [], []

    def get_file_info_selector(self, selector):
        self.listed.append(selector.base_dir)
        return super().get_file_info_selector(selector)

    def delete_file(self, path):
        self.deleted.append(path)
        return super().delete_file(path)


def _analytics_with_history(shop):
    c = Builder(CUSTOMERS)
    for i in range(1, 4):
        shop.broker.produce(pg(c, "u" if i > 1 else "c", None, customer(1, tier=f"T{i}"), 100 + i))
        shop.run()
    return next(w for w in shop.runner.writers if w.dest.name == "customers_analytics").table


def test_orphan_removal_lists_and_deletes_only_through_the_filesystem(shop, root, monkeypatch):
    table = _analytics_with_history(shop)
    t = table.table()
    referenced = maintenance._referenced_paths(t)
    assert any(p.endswith(".parquet") for p in referenced) and any(p.endswith(".avro") for p in referenced)
    location = PyArrowFileIO.parse_location(t.location())[2]
    local_files = sorted(str(p) for p in Path(location).rglob("*") if p.is_file())
    assert set(referenced) <= set(local_files)
    # the table's files, copied into a non-local store at the same paths, plus two orphans
    store = _TimedMemoryFS()
    for p in local_files:
        store.pipe(p, Path(p).read_bytes())
    orphans = [f"{location}/data/orphan-00000.parquet", f"{location}/metadata/stale-m0.avro"]
    for p in orphans:
        store.pipe(p, b"orphan")
    store.pipe(f"{location}_sibling/data/x.parquet", b"another table's prefix")
    handler = _Recording(store)
    fs = PyFileSystem(handler)
    for name in ("walk", "remove", "unlink", "scandir", "listdir"):
        monkeypatch.setattr(os, name, lambda *a, **k: pytest.fail(f"local os.{name} on the filesystem path"))
    monkeypatch.setattr(os.path, "getmtime", lambda *a, **k: pytest.fail("local os.path.getmtime on the filesystem path"))
    now = dt.datetime.now(dt.timezone.utc)
    # within the retention nothing goes, referenced or not
    assert maintenance.remove_orphan_files(table, now - dt.timedelta(days=1), fs=fs) == 0
    assert handler.deleted == []
    # past it only the unreferenced files go, even though every file is older than the cutoff
    assert maintenance.remove_orphan_files(table, now + dt.timedelta(days=1), fs=fs) == 2
    monkeypatch.undo()
    assert handler.listed == [location, location]
    assert sorted(handler.deleted) == sorted(orphans)
    assert not set(handler.deleted) & referenced
    for p in referenced:
        assert store.exists(p), p
    assert not any(store.exists(p) for p in orphans)
    assert store.exists(f"{location}_sibling/data/x.parquet")
    # nothing local was touched
    assert sorted(str(p) for p in Path(location).rglob("*") if p.is_file()) == local_files
    store.rm(location, recursive=True)
    store.rm(f"{location}_sibling", recursive=True)


def test_orphan_removal_on_a_local_warehouse_keeps_the_table_readable(shop, root):
    table = _analytics_with_history(shop)
    t = table.table()
    referenced = maintenance._referenced_paths(t)
    location = Path(PyArrowFileIO.parse_location(t.location())[2])
    orphan = location / "data" / "orphan-00000.parquet"
    orphan.write_bytes(b"orphan")
    young = location / "data" / "young-00000.parquet"
    young.write_bytes(b"being written")
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)).timestamp()
    os.utime(orphan, (old, old))
    assert maintenance.remove_orphan_files(table, dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)) == 1
    assert not orphan.exists() and young.exists()
    for p in referenced:
        assert Path(p).exists(), p
    assert iceberg_rows(root / "iceberg", "lakehouse", "customers_analytics", "SELECT customer_tier FROM t") == [{"customer_tier": "T3"}]


def test_orphan_removal_on_s3_uses_the_tables_own_s3_filesystem():
    class FakeTable:
        io = PyArrowFileIO({"s3.region": "eu-west-1", "s3.endpoint": "http://minio.invalid:9000"})

        def location(self):
            return "s3://cdc-lakehouse-dev/warehouse/lakehouse.db/products"

    fs, root = maintenance._table_filesystem(FakeTable(), None)
    assert isinstance(fs, S3FileSystem) and fs.region == "eu-west-1"
    assert root == "cdc-lakehouse-dev/warehouse/lakehouse.db/products"
    assert maintenance._fs_path("s3://cdc-lakehouse-dev/warehouse/lakehouse.db/products/data/a.parquet") == "cdc-lakehouse-dev/warehouse/lakehouse.db/products/data/a.parquet"
    assert maintenance._fs_path("s3a://cdc-lakehouse-dev/x/m.avro") == "cdc-lakehouse-dev/x/m.avro"
