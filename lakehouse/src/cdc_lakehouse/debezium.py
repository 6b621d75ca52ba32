"""Reads Debezium change records as the stack's Kafka Connect workers write them: JsonConverter with
schemas enabled, the full envelope (no ExtractNewRecordState on the sources), a tombstone after each
delete. Values are decoded by their Connect schema (Decimal bytes, MicroTimestamp, ...) into Python
values, and each field's schema yields the column type it needs in a table."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .types import ColumnType

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = dt.date(1970, 1, 1)


class MalformedRecord(Exception):
    """A record that is not a Debezium change envelope (the rule `malformed_record`)."""


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None


@dataclass
class Envelope:
    """One Debezium change event with its rows already decoded to Python values."""

    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: dict[str, Any]
    ts_us: int | None
    transaction: dict[str, Any] | None
    key: dict[str, Any] | None
    # name -> column type and whether the source column is optional, from the row schema
    fields: dict[str, tuple[ColumnType, bool]]
    # a fingerprint of the row schema, so a schema change is visible in metadata.schema_version
    schema_fingerprint: str


def parse_record(record: KafkaRecord) -> Envelope | None:
    """None for a tombstone (it repeats the preceding delete for log compaction only)."""
    if record.value is None:
        return None
    try:
        doc = json.loads(record.value)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedRecord(f"value is not JSON: {e}") from e
    if not isinstance(doc, dict) or "payload" not in doc or "schema" not in doc:
        raise MalformedRecord('value is not a JsonConverter envelope with "schema" and "payload" (schemas.enable=true)')
    payload, schema = doc["payload"], doc["schema"]
    if not isinstance(payload, dict) or not isinstance(schema, dict):
        raise MalformedRecord("payload or schema is not an object")
    if "op" not in payload or "source" not in payload:
        raise MalformedRecord('payload has no "op" or "source": not a Debezium change event (a schema change or heartbeat topic?)')
    fields_by_name = {f.get("field"): f for f in schema.get("fields", []) if isinstance(f, dict)}
    row_schema = fields_by_name.get("after") or fields_by_name.get("before")
    if row_schema is None or row_schema.get("type") != "struct":
        raise MalformedRecord("envelope schema has no before/after struct")
    row_fields = {f["field"]: f for f in row_schema.get("fields", [])}
    try:
        before = _decode_row(payload.get("before"), row_fields)
        after = _decode_row(payload.get("after"), row_fields)
        source = payload["source"] if isinstance(payload["source"], dict) else {}
        key = _decode_key(record.key)
        fields = {name: (column_type(f), bool(f.get("optional", False))) for name, f in row_fields.items()}
    except (ValueError, TypeError, KeyError) as e:
        raise MalformedRecord(f"cannot decode row values: {e}") from e
    ts_us = payload.get("ts_us")
    if ts_us is None and isinstance(payload.get("ts_ms"), int):
        ts_us = payload["ts_ms"] * 1000
    return Envelope(
        op=str(payload["op"]),
        before=before,
        after=after,
        source=source,
        ts_us=ts_us,
        transaction=payload.get("transaction"),
        key=key,
        fields=fields,
        schema_fingerprint=_fingerprint(row_schema),
    )


def _decode_key(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    doc = json.loads(raw)
    if isinstance(doc, dict) and "payload" in doc and isinstance(doc.get("schema"), dict):
        fields = {f["field"]: f for f in doc["schema"].get("fields", [])}
        return _decode_row(doc["payload"], fields)
    return doc if isinstance(doc, dict) else None


def _decode_row(row: Any, fields: dict[str, dict]) -> dict[str, Any] | None:
    if row is None:
        return None
    if not isinstance(row, dict):
        raise ValueError("row is not an object")
    return {name: decode_value(value, fields.get(name, {})) for name, value in row.items()}


def _fingerprint(row_schema: dict) -> str:
    shape = [(f.get("field"), f.get("type"), f.get("name"), f.get("optional"), (f.get("parameters") or {}).get("scale")) for f in row_schema.get("fields", [])]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:12]


def decode_value(value: Any, schema: dict) -> Any:
    if value is None:
        return None
    name = schema.get("name")
    kind = schema.get("type")
    params = schema.get("parameters") or {}
    if name == "org.apache.kafka.connect.data.Decimal":
        return _decimal(base64.b64decode(value), int(params.get("scale", 0)))
    if name == "io.debezium.data.VariableScaleDecimal":
        return str(_decimal(base64.b64decode(value["value"]), int(value["scale"])))
    if name in ("io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp"):
        return EPOCH + dt.timedelta(milliseconds=value)
    if name == "io.debezium.time.MicroTimestamp":
        return EPOCH + dt.timedelta(microseconds=value)
    if name == "io.debezium.time.NanoTimestamp":
        return EPOCH + dt.timedelta(microseconds=value // 1000)
    if name == "io.debezium.time.ZonedTimestamp":
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    if name in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        return EPOCH_DATE + dt.timedelta(days=value)
    if name in ("io.debezium.time.Time", "org.apache.kafka.connect.data.Time"):
        return int(value) * 1000
    if name == "io.debezium.time.NanoTime":
        return int(value) // 1000
    if kind == "bytes":
        return base64.b64decode(value)
    if kind in ("array", "map", "struct"):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _decimal(raw: bytes, scale: int) -> Decimal:
    return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)


def column_type(field: dict) -> ColumnType:
    """The table column a Connect field needs. Integers below 64 bits stay `int` here; a Delta table
    stores them as `long` (see tables.delta) because delta-rs cannot widen a column later."""
    name = field.get("name")
    kind = field.get("type")
    params = field.get("parameters") or {}
    if name == "org.apache.kafka.connect.data.Decimal":
        scale = int(params.get("scale", 0))
        precision = int(params.get("connect.decimal.precision") or params.get("__debezium.source.column.length") or 38)
        return ColumnType("decimal", min(max(precision, scale, 1), 38), scale)
    if name in (
        "io.debezium.time.Timestamp",
        "org.apache.kafka.connect.data.Timestamp",
        "io.debezium.time.MicroTimestamp",
        "io.debezium.time.NanoTimestamp",
        "io.debezium.time.ZonedTimestamp",
    ):
        return ColumnType("timestamp")
    if name in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        return ColumnType("date")
    if name in ("io.debezium.time.Time", "org.apache.kafka.connect.data.Time", "io.debezium.time.MicroTime", "io.debezium.time.NanoTime"):
        return ColumnType("long")
    return ColumnType(
        {
            "int8": "int",
            "int16": "int",
            "int32": "int",
            "int64": "long",
            "float32": "float",
            "float64": "double",
            "boolean": "boolean",
            "bytes": "binary",
        }.get(kind, "string")
    )
