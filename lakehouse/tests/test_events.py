"""Conversion of real Debezium records to the §2.1 event, and every §8.2 rule to the dead-letter topic."""
import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path

import jsonschema
import pytest

from cdc_lakehouse.debezium import parse_record
from cdc_lakehouse.event import to_event, validate
from conftest import NOW
from debezium_records import CUSTOMERS, ORDERS, PRODUCTS, T0, Builder, as_record, captured, customer, pg_source, product, mariadb_source, sqlserver_record

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schema" / "cdc-event.schema.json").read_text())


def convert(doc_or_record, before_image="full"):
    record = as_record(doc_or_record) if isinstance(doc_or_record, dict) else doc_or_record
    env = parse_record(record)
    return None if env is None else to_event(env, record, before_image=before_image, now=NOW)


@pytest.mark.parametrize("topic,before_image", [(CUSTOMERS, "key"), (ORDERS, "key"), (PRODUCTS, "full")])
def test_every_captured_record_converts_and_validates(topic, before_image):
    for doc in captured(topic):
        event = convert(doc, before_image)
        if doc["value"] is None:
            assert event is None  # tombstone
            continue
        assert validate(event) is None, (doc["offset"], validate(event))
        jsonschema.validate(event.to_json(), SCHEMA)


def test_postgres_events_in_detail():
    docs = {}
    for d in captured(CUSTOMERS):
        if d["value"]:
            docs.setdefault(json.loads(d["value"])["payload"]["op"], d)
    snap = convert(docs["r"], "key")
    assert (snap.system, snap.database, snap.schema, snap.table, snap.operation, snap.snapshot) == ("postgres", "shop", "public", "customers", "INSERT", True)
    assert snap.after["lifetime_value"] == 0 and snap.after["registration_date"].tzinfo is not None
    assert snap.primary_key == ["customer_id"] and snap.lsn == "0/1991B18" and snap.position == "0000000001991b18"
    upd = convert(docs["u"], "key")
    # REPLICA IDENTITY DEFAULT: Debezium sends before=null; the event keeps the key it knows
    assert upd.operation == "UPDATE" and upd.before == {"customer_id": upd.after["customer_id"]}
    assert json.loads(docs["u"]["value"])["payload"]["before"] is None
    dele = convert(docs["d"], "key")
    assert dele.operation == "DELETE" and dele.after is None and dele.before == {"customer_id": 55}
    assert dele.transaction_id == "766" and dele.source_ts < dele.capture_ts < dele.process_ts


def test_full_before_images_without_the_key_option_break_the_update_rule():
    upd = next(d for d in captured(CUSTOMERS) if d["value"] and json.loads(d["value"])["payload"]["op"] == "u")
    assert validate(convert(upd, "full")).rule == "update_missing_image"


def test_mariadb_event_carries_binlog_coordinates():
    doc = next(d for d in captured(PRODUCTS) if d["value"] and json.loads(d["value"])["payload"]["op"] == "u")
    e = convert(doc)
    assert (e.system, e.database, e.schema, e.table) == ("mariadb", "inventory", None, "products")
    assert (e.binlog_file, e.binlog_position, e.lsn) == ("mariadb-bin.000001", 53744, "mariadb-bin.000001:53744:0")
    assert e.transaction_id == "0-1-11" and e.before["quantity_in_stock"] == 86 and e.after["quantity_in_stock"] == 272
    assert str(e.after["price"]) == "65.01"


def test_sqlserver_source_block():
    r = sqlserver_record("u", {"id": 1, "name": "a"}, {"id": 1, "name": "b"}, commit_lsn="00000027:00000758:0005", change_lsn="00000027:00000758:0003", serial=2, ts=T0)
    e = convert(r)
    assert (e.system, e.database, e.schema, e.table, e.operation) == ("sqlserver", "testDB", "dbo", "customers", "UPDATE")
    assert e.position == "00000027:00000758:0005/00000027:00000758:0003/0000000002" and e.transaction_id == "00000027:00000758:0005"
    assert validate(e) is None
    jsonschema.validate(e.to_json(), SCHEMA)


def test_event_id_is_the_same_for_a_replay_and_differs_between_changes():
    doc = captured(CUSTOMERS)[2]
    first, replay = convert(doc), convert(as_record(doc, offset=999))
    assert first.event_id == replay.event_id
    ids = {convert(d).event_id for d in captured(CUSTOMERS) if d["value"]}
    assert len(ids) == len([d for d in captured(CUSTOMERS) if d["value"]])


def test_event_ids_are_rfc_4122_version_5_uuids_of_the_event_namespace():
    """event_uuid spares the UUID objects; the ids stay what uuid.uuid5 gives, so tables written before keep theirs."""
    from cdc_lakehouse.event import EVENT_NAMESPACE, event_uuid

    for name in ("", "shop|000000000198e418|shop.public.customers|{\"customer_id\":1}|c", "ünïcødé|x" * 40):
        assert event_uuid(name) == str(uuid.uuid5(EVENT_NAMESPACE, name))
    doc = captured(CUSTOMERS)[2]
    event = convert(doc)
    assert uuid.UUID(event.event_id).version == 5 and event.event_id == str(uuid.UUID(event.event_id))


def _violations():
    c = Builder(CUSTOMERS)
    src = pg_source(5000, T0)
    late = pg_source(5001, T0 + dt.timedelta(seconds=5))
    ts = int(T0.timestamp() * 1000) + 100
    return {
        "malformed_record": c.change("c", None, customer(1), source=src, ts_ms=ts).__class__(CUSTOMERS, 0, 0, b'{"k":1}', b"not json"),
        "operation": c.change("t", None, None, source=src, ts_ms=ts, key={"customer_id": 1}),
        "timestamp_order": c.change("c", None, customer(1), source=late, ts_ms=ts),
        "insert_has_before": c.change("c", customer(1), customer(1), source=src, ts_ms=ts),
        "delete_has_after": c.change("d", customer(1), customer(1), source=src, ts_ms=ts),
        "update_missing_image": c.change("u", None, customer(1), source=src, ts_ms=ts),
        "primary_key_changed": c.change("u", customer(1), customer(2), source=src, ts_ms=ts),
        "source_required": c.change("c", None, customer(1), source={**src, "table": ""}, ts_ms=ts),
        "primary_key_missing": c.change("c", None, {**customer(1), "customer_id": None}, source=src, ts_ms=ts, key={"customer_id": None}),
    }


@pytest.mark.parametrize("rule", sorted(_violations()))
def test_each_rule_goes_to_the_dead_letter_topic_counted_and_the_stream_goes_on(shop, rule):
    bad = _violations()[rule]
    good = Builder(CUSTOMERS).change("c", None, customer(7), source=pg_source(6000, T0), ts_ms=int(T0.timestamp() * 1000) + 100)
    shop.broker.produce(bad, good)
    # full before images, so update_missing_image is not answered by the key-only normalization
    shop.runner.pipeline = dataclasses.replace(shop.pipeline, before_image="full")
    shop.run()
    assert shop.dlq.rules() == [rule] * (len(shop.dlq.sent))
    assert len(shop.dlq.sent) >= 1
    key, doc, headers = shop.dlq.sent[0]
    assert headers["cdc.rule"] == rule and headers["cdc.source.offset"] == "0" and doc["source"]["topic"] == CUSTOMERS
    assert doc["record_value"] is not None
    assert shop.metrics.failed.labels("shop", rule)._value.get() == len(shop.dlq.sent)
    # the good record behind it was written
    from reader import delta_rows

    rows = delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id FROM t")
    assert rows == [{"customer_id": 7}]


def test_a_value_the_column_cannot_hold_is_dead_lettered_as_schema_mismatch(inventory, root):
    p = Builder(PRODUCTS)
    ts = int(T0.timestamp() * 1000) + 500
    too_big = p.change("c", None, product(1, price="123456789.00"), source=mariadb_source(100, T0), ts_ms=ts)
    ok = p.change("c", None, product(2), source=mariadb_source(200, T0), ts_ms=ts)
    inventory.broker.produce(too_big, ok)
    inventory.run()
    assert inventory.dlq.rules() == ["schema_mismatch"]
    assert "column price (decimal(10,2)) cannot hold" in inventory.dlq.sent[0][1]["detail"]
    from reader import iceberg_rows

    assert iceberg_rows(root / "iceberg", "lakehouse", "products_cdc", "SELECT product_id FROM t") == [{"product_id": 2}]
