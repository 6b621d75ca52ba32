"""The standardized CDC event of seed 004 §2.1, built from a Debezium envelope, and the §8.2 rules.

`event_id` is a name-based UUID (v5) of the change's source position, not a random v4: a replay of
the same change (Debezium restarting from its last committed source offset, the writer re-reading a
Kafka range) must get the same id, or the id could never deduplicate anything."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .debezium import UTC, Envelope, KafkaRecord

# Fixed namespace for event ids: uuid5(NAMESPACE_URL, "urn:cdc-pipeline:lakehouse:event").
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cdc-pipeline:lakehouse:event")
_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes
_V5_TEXT = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def event_uuid(name: str) -> str:
    """str(uuid.uuid5(EVENT_NAMESPACE, name)) without the two UUID objects per event (RFC 4122 §4.3: SHA-1 of
    namespace and name, version 5 and the variant in their bits)."""
    d = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

OPERATIONS = {"c": "INSERT", "r": "INSERT", "u": "UPDATE", "d": "DELETE"}
SYSTEMS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mariadb", "sqlserver": "sqlserver"}

# error_type label values of cdc_events_failed_total, one per rule (README "Validation rules").
RULES = (
    "malformed_record",
    "event_id",
    "source_required",
    "operation",
    "timestamp_order",
    "insert_has_before",
    "delete_has_after",
    "update_missing_image",
    "primary_key_changed",
    "primary_key_missing",
    "schema_mismatch",
)


@dataclass
class Violation:
    rule: str
    detail: str


@dataclass
class CdcEvent:
    event_id: str
    system: str
    database: str | None
    schema: str | None
    table: str | None
    operation: str | None
    source_ts: dt.datetime | None
    capture_ts: dt.datetime | None
    process_ts: dt.datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    primary_key: list[str]
    position: str
    snapshot: bool
    transaction_id: str | None
    lsn: str | None
    schema_version: str
    binlog_file: str | None = None
    binlog_position: int | None = None
    kafka: dict[str, Any] = field(default_factory=dict)
    raw_op: str = ""

    @property
    def row(self) -> dict[str, Any]:
        """The row image a table stores: the new state, or for a delete the old one (its key)."""
        return self.after if self.after is not None else (self.before or {})

    def key(self, columns: list[str]) -> tuple:
        row = self.row
        return tuple(row.get(c) for c in columns)

    def to_json(self) -> dict[str, Any]:
        """The §2.1 document (cdc-event.schema.json), values in JSON form."""
        return {
            "event_id": self.event_id,
            "source": {
                "system": self.system,
                "database": self.database,
                "schema": self.schema,
                "table": self.table,
                "connector": "debezium",
            },
            "operation": self.operation,
            "timestamp": {
                "source_ts": _iso(self.source_ts),
                "capture_ts": _iso(self.capture_ts),
                "process_ts": _iso(self.process_ts),
            },
            "before": _json_row(self.before),
            "after": _json_row(self.after),
            "metadata": {
                "transaction_id": self.transaction_id,
                "lsn": self.lsn,
                "schema_version": self.schema_version,
                "primary_key": self.primary_key,
                "position": self.position,
                "snapshot": self.snapshot,
                "kafka": self.kafka,
            },
        }


def to_event(
    env: Envelope,
    record: KafkaRecord,
    *,
    before_image: str,
    now: dt.datetime | None = None,
) -> CdcEvent:
    """`before_image="key"` is for PostgreSQL tables with REPLICA IDENTITY DEFAULT: Debezium then
    sends no before image on updates and only the key (other NOT NULL columns as "" or 0) on
    deletes, so the event keeps just the key, which is all the source really said."""
    src = env.source
    system = SYSTEMS.get(str(src.get("connector", "")), str(src.get("connector") or ""))
    primary_key = list(env.key.keys()) if env.key else []
    before, after = env.before, env.after
    if before_image == "key" and primary_key:
        if env.op == "u" and before is None and after is not None:
            before = {k: after.get(k) for k in primary_key}
        elif env.op == "d" and before is not None:
            before = {k: before.get(k) for k in primary_key}
    position, lsn, binlog_file, binlog_pos = source_position(system, src)
    snapshot = str(src.get("snapshot", "false")) not in ("false", "")
    key_json = json.dumps(_json_row(env.key or {}), sort_keys=True, separators=(",", ":"))
    table_ref = ".".join(str(p) for p in (src.get("db"), src.get("schema"), src.get("table")) if p)
    event_id = event_uuid(f"{src.get('name')}|{position}|{table_ref}|{key_json}|{env.op}")
    src_us = src.get("ts_us") if isinstance(src.get("ts_us"), int) else (src["ts_ms"] * 1000 if isinstance(src.get("ts_ms"), int) else None)
    return CdcEvent(
        event_id=event_id,
        system=system,
        database=src.get("db"),
        schema=src.get("schema"),
        table=src.get("table"),
        operation=OPERATIONS.get(env.op),
        source_ts=_from_us(src_us),
        capture_ts=_from_us(env.ts_us),
        process_ts=now or dt.datetime.now(UTC),
        before=before,
        after=after,
        primary_key=primary_key,
        position=position,
        snapshot=snapshot,
        transaction_id=_transaction_id(system, src, env.transaction),
        lsn=lsn,
        schema_version=env.schema_fingerprint,
        binlog_file=binlog_file,
        binlog_position=binlog_pos,
        kafka={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        raw_op=env.op,
    )


def source_position(system: str, src: dict[str, Any]) -> tuple[str, str | None, str | None, int | None]:
    """(sortable position, LSN as the source spells it, binlog file, binlog position).

    The sortable form compares as a string in source order *for the same row*: PostgreSQL's change
    LSN (a row's changes are serialized by its row lock, so their LSNs follow commit order), the
    MySQL/MariaDB binlog coordinates, SQL Server's commit LSN, change LSN and serial number."""
    if system == "postgres":
        lsn = int(src.get("lsn") or 0)
        return f"{lsn:016x}", f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}", None, None
    if system in ("mysql", "mariadb"):
        file, pos, row = str(src.get("file") or ""), int(src.get("pos") or 0), int(src.get("row") or 0)
        return f"{file}/{pos:020d}/{row:010d}", f"{file}:{pos}:{row}", file or None, pos
    if system == "sqlserver":
        commit, change, serial = src.get("commit_lsn") or "", src.get("change_lsn") or "", int(src.get("event_serial_no") or 0)
        return f"{commit}/{change}/{serial:010d}", change or commit or None, None, None
    return "", None, None, None


def _transaction_id(system: str, src: dict[str, Any], transaction: dict[str, Any] | None) -> str | None:
    if isinstance(transaction, dict) and transaction.get("id"):
        return str(transaction["id"])
    if system == "postgres" and src.get("txId") is not None:
        return str(src["txId"])
    if system in ("mysql", "mariadb") and src.get("gtid"):
        return str(src["gtid"])
    if system == "sqlserver" and src.get("commit_lsn"):
        return str(src["commit_lsn"])
    return None


def validate(event: CdcEvent) -> Violation | None:
    """The first §8.2 rule the event breaks, or None. A repeated event_id is the same change seen
    twice (a replay), not a broken rule: the writer skips it by source position."""
    try:
        if _V5_TEXT.fullmatch(event.event_id) is None and uuid.UUID(event.event_id).version != 5:
            return Violation("event_id", "event_id is not a name-based UUID")
    except ValueError:
        return Violation("event_id", f"event_id {event.event_id!r} is not a UUID")
    if not event.system or not event.table:
        return Violation("source_required", "source.system and source.table must be present")
    if event.operation is None:
        return Violation("operation", f'operation must be INSERT, UPDATE or DELETE; Debezium op "{event.raw_op}" has none')
    if event.source_ts is None or event.capture_ts is None:
        return Violation("timestamp_order", "source_ts and capture_ts must be present")
    if not (event.source_ts <= event.capture_ts <= event.process_ts):
        return Violation(
            "timestamp_order",
            f"source_ts {_iso(event.source_ts)} <= capture_ts {_iso(event.capture_ts)} <= process_ts {_iso(event.process_ts)} does not hold",
        )
    if event.operation == "INSERT" and event.before is not None:
        return Violation("insert_has_before", "before must be null for INSERT")
    if event.operation == "DELETE" and event.after is not None:
        return Violation("delete_has_after", "after must be null for DELETE")
    if event.operation == "UPDATE" and (event.before is None or event.after is None):
        return Violation("update_missing_image", "before and after must both be present for UPDATE")
    if event.operation == "DELETE" and event.before is None:
        return Violation("update_missing_image", "before must be present for DELETE")
    if not event.primary_key or any(event.row.get(k) is None for k in event.primary_key):
        return Violation("primary_key_missing", f"primary key {event.primary_key} must be present in the row")
    if event.operation == "UPDATE":
        changed = [k for k in event.primary_key if event.before.get(k) != event.after.get(k)]
        if changed:
            return Violation("primary_key_changed", f"primary key fields {changed} differ between before and after")
    return None


def topic_mismatch(event: CdcEvent, topic: str) -> Violation | None:
    """The stack's data topics end in `<schema or database>.<table>` of the one table they carry (Debezium
    replaces characters a topic name cannot hold with `_`); a change of another table on it would land in
    the wrong table (rule `unknown_table`)."""
    namespace = event.schema or event.database
    expected = re.sub(r"[^A-Za-z0-9._-]", "_", f"{namespace}.{event.table}")
    if topic == expected or topic.endswith(f".{expected}"):
        return None
    return Violation("unknown_table", f"a change of {namespace}.{event.table} on topic {topic}, which carries another table")


def _from_us(us: int | None) -> dt.datetime | None:
    return None if us is None else dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=us)


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        return _iso(v if v.tzinfo else v.replace(tzinfo=UTC))
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return v


def _json_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: json_value(v) for k, v in row.items()}
