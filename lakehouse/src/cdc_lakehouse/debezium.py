"""Reads Debezium change records as the stack's Kafka Connect workers write them: JsonConverter with
schemas enabled, the full envelope (no ExtractNewRecordState on the sources), a tombstone after each
delete. Values are decoded by their Connect schema (Decimal bytes, MicroTimestamp, ...) into Python
values, and each field's schema yields the column type it needs in a table."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

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


@dataclass(frozen=True)
class RowShape:
    """What a row schema alone decides: each field's column type and value decoder, and its fingerprint.
    Computed once per distinct schema (see EnvelopeReader)."""

    fields: dict[str, tuple[ColumnType, bool]]
    # every field's: a value needing decoding (Decimal bytes, timestamps, ...) is decoded, a plain one type-checked
    decoders: dict[str, Callable[[Any], Any]]
    fingerprint: str


def parse_record(record: KafkaRecord) -> Envelope | None:
    """None for a tombstone (it repeats the preceding delete for log compaction only)."""
    if record.value is None:
        return None
    payload, shape = _parse_value(record.value)
    return _envelope(payload, shape, record)


def _parse_value(raw: bytes) -> tuple[dict, RowShape]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedRecord(f"value is not JSON: {e}") from e
    if not isinstance(doc, dict) or "payload" not in doc or "schema" not in doc:
        raise MalformedRecord('value is not a JsonConverter envelope with "schema" and "payload" (schemas.enable=true)')
    payload, schema = doc["payload"], doc["schema"]
    if not isinstance(payload, dict) or not isinstance(schema, dict):
        raise MalformedRecord("payload or schema is not an object")
    _require_change_event(payload)
    return payload, row_shape(schema)


def _require_change_event(payload: dict) -> None:
    if "op" not in payload or "source" not in payload:
        raise MalformedRecord('payload has no "op" or "source": not a Debezium change event (a schema change or heartbeat topic?)')


def row_shape(schema: dict) -> RowShape:
    """The row shape of an envelope schema (the before/after struct)."""
    fields_by_name = {f.get("field"): f for f in schema.get("fields", []) if isinstance(f, dict)}
    row_schema = fields_by_name.get("after") or fields_by_name.get("before")
    if row_schema is None or row_schema.get("type") != "struct":
        raise MalformedRecord("envelope schema has no before/after struct")
    try:
        row_fields = {f["field"]: f for f in row_schema.get("fields", [])}
        unknown = sorted(f"{name} ({f.get('type')!r})" for name, f in row_fields.items() if f.get("type") not in CONNECT_TYPES)
        if unknown:
            raise ValueError(f"fields of no Connect type: {', '.join(unknown)}")
        fields = {name: (column_type(f), bool(f.get("optional", False))) for name, f in row_fields.items()}
        decoders = {name: d for name, f in row_fields.items() if (d := value_decoder(f)) is not None}
    except (ValueError, TypeError, KeyError) as e:
        raise MalformedRecord(f"the row schema is not a Connect struct of named, typed fields: {type(e).__name__} {e}") from e
    return RowShape(fields, decoders, _fingerprint(row_schema))


def _envelope(
    payload: dict,
    shape: RowShape,
    record: KafkaRecord,
    decode_key: Callable[[KafkaRecord], dict[str, Any] | None] = lambda r: _decode_key(r.key),
    decode_row: Callable[[Any, dict[str, Callable[[Any], Any]]], dict[str, Any] | None] | None = None,
) -> Envelope:
    """The change event of a payload whose envelope schema has `shape`; `decode_row` turns a row of the payload
    into Python values with the shape's decoders (JSON's by default)."""
    decode_row = decode_row or _decode_row
    try:
        before = _complete(decode_row(payload.get("before"), shape.decoders), shape.fields)
        after = _complete(decode_row(payload.get("after"), shape.decoders), shape.fields)
        source = payload["source"] if isinstance(payload["source"], dict) else {}
        key = decode_key(record)
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
        fields=shape.fields,
        schema_fingerprint=shape.fingerprint,
    )


class EnvelopeReader:
    """parse_record for a stream of records. JsonConverter writes `{"schema":...,"payload":...}` and the
    records of a topic repeat a few schemas byte for byte, so a value or key that starts with the schema
    part of one already read has only its payload parsed, and that schema's shape is reused: the schema
    is most of each record's bytes and of its parsing. Everything else goes parse_record's way, with the
    same results and errors."""

    SCHEMAS_PER_TOPIC = 16

    def __init__(self) -> None:
        self._values: dict[str, list[tuple[bytes, RowShape]]] = {}
        self._keys: dict[str, list[tuple[bytes, dict[str, Callable[[Any], Any]]]]] = {}

    def parse(self, record: KafkaRecord) -> Envelope | None:
        if record.value is None:
            return None
        known = self._values.setdefault(record.topic, [])
        hit = _known_payload(record.value, known)
        if hit is None:
            payload, shape = _parse_value(record.value)
            _remember(known, record.value, shape, self.SCHEMAS_PER_TOPIC)
        else:
            payload, shape = hit
            if not isinstance(payload, dict):
                raise MalformedRecord("payload or schema is not an object")
            _require_change_event(payload)
        return _envelope(payload, shape, record, self._decode_key)

    def _decode_key(self, record: KafkaRecord) -> dict[str, Any] | None:
        if record.key is None:
            return None
        known = self._keys.setdefault(record.topic, [])
        hit = _known_payload(record.key, known)
        if hit is not None:
            return _decode_row(hit[0], hit[1])
        doc = json.loads(record.key)
        if isinstance(doc, dict) and "payload" in doc and isinstance(doc.get("schema"), dict):
            decoders = _key_decoders(doc["schema"])
            _remember(known, record.key, decoders, self.SCHEMAS_PER_TOPIC)
            return _decode_row(doc["payload"], decoders)
        return doc if isinstance(doc, dict) else None


_JSON_WS = "[ \t\n\r]*"
_SCHEMA_HEAD = re.compile("{" + _JSON_WS + '"schema"' + _JSON_WS + ":" + _JSON_WS)
_PAYLOAD_HEAD = re.compile(_JSON_WS + "," + _JSON_WS + '"payload"' + _JSON_WS + ":" + _JSON_WS)
_TAIL = re.compile(_JSON_WS + "}" + _JSON_WS + "$")
_DECODER = json.JSONDecoder()


def _known_payload(raw: bytes, known: list[tuple[bytes, Any]]) -> tuple[Any, Any] | None:
    """(payload, what was derived from the schema) when `raw` is `prefix payload }` for a known prefix."""
    for prefix, derived in known:
        if raw.startswith(prefix):
            tail = raw[len(prefix) :].rstrip(b" \t\n\r")
            if not tail.endswith(b"}"):
                return None
            try:
                return json.loads(tail[:-1]), derived
            except ValueError:
                return None
    return None


def _remember(known: list[tuple[bytes, Any]], raw: bytes, derived: Any, limit: int) -> None:
    """Keeps `{"schema": S, "payload":` of a document that is exactly {schema, payload} (no other or repeated key)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    head = _SCHEMA_HEAD.match(text)
    if head is None:
        return
    try:
        _, end = _DECODER.raw_decode(text, head.end())
        middle = _PAYLOAD_HEAD.match(text, end)
        if middle is None:
            return
        _, end = _DECODER.raw_decode(text, middle.end())
    except ValueError:
        return
    if _TAIL.match(text, end) is None:
        return
    known.insert(0, (text[: middle.end()].encode("utf-8"), derived))
    del known[limit:]


def _decode_key(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    doc = json.loads(raw)
    if isinstance(doc, dict) and "payload" in doc and isinstance(doc.get("schema"), dict):
        return _decode_row(doc["payload"], _key_decoders(doc["schema"]))
    return doc if isinstance(doc, dict) else None


def _key_decoders(schema: dict) -> dict[str, Callable[[Any], Any]]:
    return {f["field"]: d for f in schema.get("fields", []) if (d := value_decoder(f)) is not None}


def _decode_row(row: Any, decoders: dict[str, Callable[[Any], Any]]) -> dict[str, Any] | None:
    """Every field of a row has a decoder (see value_decoder), so a field without one is not in the schema."""
    if row is None:
        return None
    if not isinstance(row, dict):
        raise ValueError("row is not an object")
    try:
        return {name: value if value is None else decoders[name](value) for name, value in row.items()}
    except (ValueError, TypeError, KeyError, ArithmeticError) as e:
        raise ValueError(_field_problem(row, decoders)) from e


def _field_problem(row: dict, decoders: dict[str, Callable[[Any], Any]]) -> str:
    """The first field of a row that does not decode, and why."""
    for name, value in row.items():
        if name not in decoders:
            return f"field {name!r} is not in the record's schema"
        try:
            if value is not None:
                decoders[name](value)
        except (ValueError, TypeError, KeyError, ArithmeticError) as e:
            return f"field {name!r}: {e}"
    return "a field does not decode"


def _complete(row: dict[str, Any] | None, fields: dict[str, tuple[ColumnType, bool]]) -> dict[str, Any] | None:
    """A row with every schema field: a missing optional field is null, as JsonConverter reads it; a missing
    required one makes the record malformed."""
    if row is None or row.keys() == fields.keys():
        return row
    missing = [name for name in fields if name not in row]
    required = [name for name in missing if not fields[name][1]]
    if required:
        raise ValueError(f"required field(s) {', '.join(required)} missing from the row")
    return {**row, **{name: None for name in missing}}


def _fingerprint(row_schema: dict) -> str:
    shape = [(f.get("field"), f.get("type"), f.get("name"), f.get("optional"), (f.get("parameters") or {}).get("scale")) for f in row_schema.get("fields", [])]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:12]


CONNECT_TYPES = frozenset(("int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string", "bytes", "array", "map", "struct"))
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "int8": int,
    "int16": int,
    "int32": int,
    "int64": int,
    "float32": (int, float),
    "float64": (int, float),
    "boolean": bool,
    "string": str,
}


def _expect(kind: str) -> Callable[[Any], Any]:
    """The JSON value of a plain Connect field, refused when it is not of the field's type."""
    types = _JSON_TYPES[kind]

    def check(v: Any) -> Any:
        if isinstance(v, types) and (kind == "boolean" or not isinstance(v, bool)):
            return v
        raise TypeError(f"a {kind} field holds {json.dumps(v, default=str)[:60]}")

    return check


def value_decoder(schema: dict) -> Callable[[Any], Any] | None:
    """How a field's non-null JSON value becomes a Python value, by its Connect schema (a plain one is only
    checked for its type); None for a type Connect does not have."""
    name = schema.get("name")
    kind = schema.get("type")
    params = schema.get("parameters") or {}
    if name == "org.apache.kafka.connect.data.Decimal":
        scale = int(params.get("scale", 0))
        return lambda v: _decimal(base64.b64decode(v, validate=True), scale)
    if name == "io.debezium.data.VariableScaleDecimal":
        return lambda v: str(_decimal(base64.b64decode(v["value"], validate=True), int(v["scale"])))
    if name in ("io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp"):
        return lambda v: EPOCH + dt.timedelta(milliseconds=v)
    if name == "io.debezium.time.MicroTimestamp":
        return lambda v: EPOCH + dt.timedelta(microseconds=v)
    if name == "io.debezium.time.NanoTimestamp":
        return lambda v: EPOCH + dt.timedelta(microseconds=v // 1000)
    if name == "io.debezium.time.ZonedTimestamp":
        return lambda v: dt.datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC)
    if name in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        return lambda v: EPOCH_DATE + dt.timedelta(days=v)
    if name in ("io.debezium.time.Time", "org.apache.kafka.connect.data.Time"):
        return lambda v: int(v) * 1000
    if name == "io.debezium.time.NanoTime":
        return lambda v: int(v) // 1000
    if kind == "bytes":
        return lambda v: base64.b64decode(v, validate=True)
    if kind in ("array", "map", "struct"):
        return lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"))
    return _expect(kind) if kind in _JSON_TYPES else None


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
