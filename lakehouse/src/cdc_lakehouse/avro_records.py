"""Reads Debezium change records written by the Avro converter (Apicurio's AvroConverter with as-confluent=true:
magic byte 0, the 4-byte big-endian schema id, the Avro binary datum) into the same Envelope as the JSON path.

The converter builds its Avro schema from the Connect schema and keeps what Avro has no word for as properties
(`connect.name`, `connect.parameters`, `connect.type`, `connect.default`, the fork of Confluent's AvroData
it ships). `connect_schema` turns the writer schema back into the Connect schema JsonConverter would have
embedded, so column types, value decoders and the schema fingerprint come from the same functions as for
JSON (debezium.row_shape), and an Avro record and its JSON twin give equal envelopes
(tests/test_avro_records.py)."""
from __future__ import annotations

import base64
import io
import json
import struct
from typing import Any, Callable

import fastavro

from .debezium import (
    Envelope,
    KafkaRecord,
    MalformedRecord,
    RowShape,
    _decimal,
    _envelope,
    _require_change_event,
    row_shape,
    value_decoder,
)
from .registry import RegistryClient, UnknownSchema

MAGIC = 0
_HEADER = struct.Struct(">bI")

_AVRO_TO_CONNECT = {"int": "int32", "long": "int64", "float": "float32", "double": "float64", "boolean": "boolean", "string": "string", "bytes": "bytes", "fixed": "bytes", "enum": "string"}


def split_frame(raw: bytes) -> tuple[int, memoryview]:
    """(schema id, Avro datum) of a Confluent-framed value."""
    if len(raw) < _HEADER.size or raw[0] != MAGIC:
        head = raw[:8].hex(" ")
        raise MalformedRecord(f"not Confluent-framed Avro (magic byte 0 and a 4-byte schema id; the record starts {head or 'empty'}): serialization is avro in the config")
    return _HEADER.unpack_from(raw)[1], memoryview(raw)[_HEADER.size :]


def connect_schema(avro: Any, named: dict[str, Any] | None = None, namespace: str = "") -> dict:
    """The Connect schema (JsonConverter's JSON form) an Avro schema written by AvroData stands for."""
    named = {} if named is None else named
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise ValueError(f"a union other than [null, T] ({json.dumps(avro)[:80]}): not written by the Connect Avro converter")
        return {**connect_schema(branches[0], named, namespace), "optional": True}
    if isinstance(avro, str):
        if avro in _AVRO_TO_CONNECT:
            return {"type": _AVRO_TO_CONNECT[avro], "optional": False}
        full = avro if "." in avro or not namespace else f"{namespace}.{avro}"
        if full not in named and avro not in named:
            raise ValueError(f"reference to the unknown named type {avro}")
        return {**(named.get(full) or named[avro]), "optional": False}
    kind = avro["type"]
    if isinstance(kind, (dict, list)):
        return connect_schema(kind, named, namespace)
    out: dict[str, Any] = {"type": avro.get("connect.type") or _AVRO_TO_CONNECT.get(kind, kind), "optional": False}
    if "connect.name" in avro:
        out["name"] = avro["connect.name"]
    if "connect.parameters" in avro:
        out["parameters"] = dict(avro["connect.parameters"])
    if "connect.default" in avro:
        out["default"] = avro["connect.default"]
    if kind == "record":
        ns = avro.get("namespace", namespace)
        out["type"] = "struct"
        out["fields"] = []
        full = avro["name"] if "." in avro["name"] else f"{ns}.{avro['name']}" if ns else avro["name"]
        named[full] = out
        for f in avro["fields"]:
            out["fields"].append({**connect_schema(f["type"], named, ns), "field": f["name"]})
    elif kind == "array":
        out["items"] = connect_schema(avro["items"], named, namespace)
    elif kind == "map":
        out["keys"] = {"type": "string", "optional": False}
        out["values"] = connect_schema(avro["values"], named, namespace)
    elif kind in ("enum", "fixed"):
        named[avro["name"] if "." in avro["name"] else f"{avro.get('namespace', namespace)}.{avro['name']}"] = out
    return out


def _without_logical_types(avro: Any) -> Any:
    """The schema with `logicalType` removed, so fastavro hands over the stored ints and bytes and the Connect
    decoders (debezium.value_decoder's) turn them into values exactly as they do JSON's."""
    if isinstance(avro, list):
        return [_without_logical_types(a) for a in avro]
    if isinstance(avro, dict):
        return {k: _without_logical_types(v) for k, v in avro.items() if k != "logicalType"}
    return avro


def _json_default(v: Any) -> Any:
    """JsonConverter writes bytes inside a struct, array or map as base64."""
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    raise TypeError(f"{type(v).__name__} is not JSON")


# Connect logical types whose stored value JsonConverter and Avro share (an int, a long, a string) and that
# debezium.value_decoder turns into dates and times.
_CONVERTED_AS_STORED = frozenset(
    (
        "io.debezium.time.Timestamp",
        "org.apache.kafka.connect.data.Timestamp",
        "io.debezium.time.MicroTimestamp",
        "io.debezium.time.NanoTimestamp",
        "io.debezium.time.ZonedTimestamp",
        "io.debezium.time.Date",
        "org.apache.kafka.connect.data.Date",
        "io.debezium.time.Time",
        "org.apache.kafka.connect.data.Time",
        "io.debezium.time.NanoTime",
    )
)


def avro_value_decoder(field: dict) -> Callable[[Any], Any] | None:
    """How a field's Avro value (after fastavro, without logical types) becomes the same Python value as the
    JSON path's; None when the stored value already is (Avro's types are checked by the datum itself)."""
    name = field.get("name")
    kind = field.get("type")
    if name == "org.apache.kafka.connect.data.Decimal":
        scale = int((field.get("parameters") or {}).get("scale", 0))
        return lambda v: _decimal(v, scale)
    if name == "io.debezium.data.VariableScaleDecimal":
        return lambda v: str(_decimal(v["value"], int(v["scale"])))
    if name in _CONVERTED_AS_STORED:
        return value_decoder(field)
    if kind in ("array", "map", "struct"):
        return lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), default=_json_default)
    return None


class _Schema:
    """One writer schema, parsed once: the fastavro reader's schema and what the envelope needs of it."""

    def __init__(self, avro: Any, is_key: bool):
        parsed = fastavro.parse_schema(_without_logical_types(avro))
        self.read: Callable[[io.BytesIO], Any] = lambda buf: fastavro.schemaless_reader(buf, parsed, None)
        connect = connect_schema(avro)
        if is_key:
            self.shape = None
            self.key_decoders = _decoders(connect.get("fields", []))
        else:
            base = row_shape(connect)
            row = next(f for f in connect["fields"] if f["field"] in ("after", "before"))
            # only the fields whose Avro value differs from the JSON path's: a datum holds every field of its schema
            # with a value of the field's type, which is all the JSON path's per-field checks establish
            self.shape = RowShape(base.fields, _decoders(row["fields"]), base.fingerprint)
            self.key_decoders = {}


def _convert_row(row: Any, decoders: dict[str, Callable[[Any], Any]]) -> dict[str, Any] | None:
    """A decoded Avro row with the fields that need it converted, in place (the datum is this record's own)."""
    if row is None:
        return None
    try:
        for name, decode in decoders.items():
            value = row[name]
            if value is not None:
                row[name] = decode(value)
    except (ValueError, TypeError, KeyError, ArithmeticError) as e:
        raise ValueError(f"field {name!r}: {e}") from e
    return row


def _decoders(fields: list[dict]) -> dict[str, Callable[[Any], Any]]:
    return {f["field"]: d for f in fields if (d := avro_value_decoder(f)) is not None}


class AvroEnvelopeReader:
    """EnvelopeReader's counterpart for Avro records: the schema of each id is fetched and prepared once."""

    def __init__(self, registry: RegistryClient):
        self._registry = registry
        self._schemas: dict[tuple[int, bool], _Schema] = {}

    def _schema(self, schema_id: int, is_key: bool) -> _Schema:
        prepared = self._schemas.get((schema_id, is_key))
        if prepared is None:
            try:
                avro = self._registry.schema(schema_id)
            except UnknownSchema as e:
                raise MalformedRecord(str(e)) from e
            try:
                prepared = _Schema(avro, is_key)
            except (ValueError, KeyError, TypeError, StopIteration, fastavro.schema.SchemaParseException) as e:
                raise MalformedRecord(f"schema {schema_id} of {self._registry.url} is not a Connect {'key' if is_key else 'change event'} schema: {type(e).__name__} {e}") from e
            self._schemas[(schema_id, is_key)] = prepared
        return prepared

    def _datum(self, raw: bytes, is_key: bool) -> tuple[Any, _Schema]:
        schema_id, body = split_frame(raw)
        schema = self._schema(schema_id, is_key)
        try:
            return schema.read(io.BytesIO(body)), schema
        except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, struct.error) as e:
            raise MalformedRecord(f"the Avro datum does not decode with schema {schema_id}: {type(e).__name__} {e}") from e

    def parse(self, record: KafkaRecord) -> Envelope | None:
        if record.value is None:
            return None
        payload, schema = self._datum(record.value, False)
        if not isinstance(payload, dict):
            raise MalformedRecord("the Avro value is not a record")
        _require_change_event(payload)
        assert schema.shape is not None
        return _envelope(payload, schema.shape, record, self._decode_key, _convert_row)

    def _decode_key(self, record: KafkaRecord) -> dict[str, Any] | None:
        if record.key is None:
            return None
        row, schema = self._datum(record.key, True)
        if not isinstance(row, dict):
            return None
        return _convert_row(row, schema.key_decoders)
