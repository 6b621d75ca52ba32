"""Debezium records for tests: the captured ones (fixtures/debezium), and new ones built on the
captured records' own Connect schemas, so a synthetic change has exactly the real shape."""
from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from cdc_lakehouse.debezium import KafkaRecord

FIXTURES = Path(__file__).parent / "fixtures" / "debezium"
CUSTOMERS = "shop.public.customers"
ORDERS = "shop.public.orders"
PRODUCTS = "inventory.inventory.products"


def captured(topic: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{topic}.jsonl").read_text().splitlines()]


def as_record(doc: dict, offset: int | None = None) -> KafkaRecord:
    return KafkaRecord(
        doc["topic"],
        doc["partition"],
        doc["offset"] if offset is None else offset,
        doc["key"].encode() if doc["key"] is not None else None,
        doc["value"].encode() if doc["value"] is not None else None,
        doc.get("timestamp"),
    )


def dec(value: str | Decimal, scale: int = 2) -> str:
    unscaled = int(Decimal(value).scaleb(scale))
    n = max(1, (unscaled.bit_length() + 8) // 8)
    return base64.b64encode(unscaled.to_bytes(n, "big", signed=True)).decode()


def micros(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.timezone.utc).timestamp() * 1_000_000)


def millis(t: dt.datetime) -> int:
    return micros(t) // 1000


class Builder:
    """Builds change records for one topic from a captured record of it."""

    def __init__(self, topic: str):
        docs = [d for d in captured(topic) if d["value"] is not None]
        self.topic = topic
        self.key_doc = json.loads(docs[0]["key"])
        self.value_doc = json.loads(docs[0]["value"])
        self.offset = 0

    def row_fields(self) -> list[dict]:
        return next(f for f in self.value_doc["schema"]["fields"] if f["field"] == "after")["fields"]

    def with_row_fields(self, fields: list[dict]) -> "Builder":
        """Schema evolution: the same envelope with another row schema."""
        other = copy.copy(self)
        other.value_doc = copy.deepcopy(self.value_doc)
        for f in other.value_doc["schema"]["fields"]:
            if f["field"] in ("before", "after"):
                f["fields"] = fields
        return other

    def change(self, op: str, before: dict | None, after: dict | None, *, source: dict, ts_ms: int, key: dict | None = None, offset: int | None = None, partition: int = 0) -> KafkaRecord:
        value = copy.deepcopy(self.value_doc)
        p = value["payload"]
        p.update(op=op, before=before, after=after, ts_ms=ts_ms, ts_us=ts_ms * 1000, ts_ns=ts_ms * 1_000_000)
        p["source"].update(source)
        row = after if after is not None else before
        key_fields = [f["field"] for f in self.key_doc["schema"]["fields"]]
        key_doc = {"schema": self.key_doc["schema"], "payload": key or {k: row[k] for k in key_fields}}
        if offset is None:
            offset, self.offset = self.offset, self.offset + 1
        return KafkaRecord(self.topic, partition, offset, json.dumps(key_doc).encode(), json.dumps(value).encode(), ts_ms)

    def tombstone(self, key: dict, offset: int | None = None) -> KafkaRecord:
        if offset is None:
            offset, self.offset = self.offset, self.offset + 1
        return KafkaRecord(self.topic, 0, offset, json.dumps({"schema": self.key_doc["schema"], "payload": key}).encode(), None)


T0 = dt.datetime(2026, 11, 30, 10, 0, 0)


def pg_source(lsn: int, ts: dt.datetime, *, snapshot: str = "false", tx: int = 900) -> dict:
    ms = millis(ts)
    return {"ts_ms": ms, "ts_us": ms * 1000, "ts_ns": ms * 1_000_000, "snapshot": snapshot, "sequence": json.dumps([None, str(lsn)]), "lsn": lsn, "txId": tx}


def mariadb_source(pos: int, ts: dt.datetime, *, row: int = 0, snapshot: str = "false") -> dict:
    ms = millis(ts)
    return {"ts_ms": ms, "ts_us": ms * 1000, "ts_ns": ms * 1_000_000, "snapshot": snapshot, "file": "mariadb-bin.000002", "pos": pos, "row": row, "gtid": f"0-1-{pos}"}


def customer(cid: int, *, email: str | None = None, first: str = "Ada", last: str = "Lovelace", tier: str = "Gold", value: str = "100.00", city: str | None = "Springfield", updated: dt.datetime = T0) -> dict:
    return {
        "customer_id": cid,
        "email": email or f"c{cid}@example.com",
        "first_name": first,
        "last_name": last,
        "phone": None,
        "address_line1": None,
        "city": city,
        "state": "IL",
        "postal_code": None,
        "country": "USA",
        "registration_date": micros(dt.datetime(2024, 3, 15, 10, 30)),
        "last_updated": micros(updated),
        "is_active": True,
        "customer_tier": tier,
        "lifetime_value": dec(value),
    }


def order(oid: int, cid: int, *, status: str = "pending", amount: str = "25.00", ordered: dt.datetime = T0) -> dict:
    return {
        "order_id": oid,
        "customer_id": cid,
        "order_date": micros(ordered),
        "order_status": status,
        "total_amount": dec(amount),
        "shipping_address": json.dumps({"city": "Springfield"}),
        "payment_method": "paypal",
        "order_notes": None,
        "last_updated": micros(ordered),
    }


def product(pid: int, *, price: str = "10.00", qty: int = 5, updated: dt.datetime = T0) -> dict:
    return {
        "product_id": pid,
        "sku": f"SKU-{pid:06d}",
        "product_name": f"Product {pid}",
        "description": None,
        "category": "Books",
        "price": dec(price),
        "cost": dec("6.00"),
        "quantity_in_stock": qty,
        "supplier_id": 7,
        "created_at": millis(dt.datetime(2025, 1, 10, 9, 0)),
        "updated_at": millis(updated),
        "is_discontinued": 0,
    }


def sqlserver_record(op: str, before: dict | None, after: dict | None, *, commit_lsn: str, change_lsn: str, serial: int, ts: dt.datetime, offset: int = 0) -> KafkaRecord:
    """The SQL Server connector's envelope as documented for Debezium 3.x (source block: change_lsn,
    commit_lsn, event_serial_no); no SQL Server runs here."""
    row_fields = [
        {"type": "int32", "optional": False, "field": "id"},
        {"type": "string", "optional": True, "field": "name"},
    ]
    source_fields = [
        {"type": "string", "optional": False, "field": f}
        for f in ("version", "connector", "name", "db", "schema", "table")
    ] + [
        {"type": "int64", "optional": False, "field": "ts_ms"},
        {"type": "string", "optional": True, "field": "snapshot"},
        {"type": "string", "optional": True, "field": "change_lsn"},
        {"type": "string", "optional": True, "field": "commit_lsn"},
        {"type": "int64", "optional": True, "field": "event_serial_no"},
    ]
    ms = millis(ts)
    value = {
        "schema": {
            "type": "struct",
            "name": "server1.testDB.dbo.customers.Envelope",
            "fields": [
                {"type": "struct", "fields": row_fields, "optional": True, "name": "server1.testDB.dbo.customers.Value", "field": "before"},
                {"type": "struct", "fields": row_fields, "optional": True, "name": "server1.testDB.dbo.customers.Value", "field": "after"},
                {"type": "struct", "fields": source_fields, "optional": False, "name": "io.debezium.connector.sqlserver.Source", "field": "source"},
                {"type": "string", "optional": False, "field": "op"},
                {"type": "int64", "optional": True, "field": "ts_ms"},
            ],
        },
        "payload": {
            "before": before,
            "after": after,
            "source": {
                "version": "3.6.1.Final",
                "connector": "sqlserver",
                "name": "server1",
                "ts_ms": ms,
                "snapshot": "false",
                "db": "testDB",
                "schema": "dbo",
                "table": "customers",
                "change_lsn": change_lsn,
                "commit_lsn": commit_lsn,
                "event_serial_no": serial,
            },
            "op": op,
            "ts_ms": ms + 40,
        },
    }
    key = {"schema": {"type": "struct", "fields": [row_fields[0]], "optional": False, "name": "server1.testDB.dbo.customers.Key"}, "payload": {"id": (after or before)["id"]}}
    return KafkaRecord("server1.testDB.dbo.customers", 0, offset, json.dumps(key).encode(), json.dumps(value).encode(), ms + 50)
