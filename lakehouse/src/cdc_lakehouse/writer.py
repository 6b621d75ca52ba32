"""One destination table fed from one topic: per-key ordering by source position, schema evolution,
row building, and the commit that carries the Kafka position.

Ordering: the writer keeps, per primary key, the source position of the last change the table holds
(loaded from the table's `_cdc_source_lsn` at start). A change at or before it is a replay (Debezium
restarting from its last committed source offset re-sends changes) and is skipped, so duplicates and
late events never regress a row and the change log gets exactly one row per source change."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import pyarrow as pa
from pyiceberg.expressions import In

from .config import Column, Destination
from .debezium import UTC, KafkaRecord
from .event import CdcEvent, json_value
from .tables import DELETE_FLAG, METADATA_TYPES, DeltaLake, LakeTable, WriterState, partition_column_name
from .types import ColumnType

log = logging.getLogger(__name__)
MASK64 = (1 << 64) - 1


class SchemaMismatch(Exception):
    """A value the table's column cannot hold (the rule `schema_mismatch`)."""


@dataclass
class Item:
    """One Kafka record as the pipeline saw it: its event, or why it has none."""

    record: KafkaRecord
    event: CdcEvent | None = None
    fields: dict[str, tuple[ColumnType, bool]] = field(default_factory=dict)
    rule: str | None = None
    detail: str | None = None


@dataclass
class KeyState:
    position: str
    row_hash: int | None  # None: the key was deleted


@dataclass
class Prepared:
    rows: pa.Table | None
    state: WriterState
    touched: set[tuple[str, int]]
    written: list[CdcEvent]
    dead: list[Item]
    skipped: int
    index_updates: dict[tuple, KeyState]


def row_hash(values: list[Any]) -> int:
    canonical = json.dumps([json_value(v) for v in values], separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


class DestinationWriter:
    def __init__(self, pipeline_id: str, dest: Destination, table: LakeTable, orders: DeltaLake | None = None):
        self.pipeline_id = pipeline_id
        self.dest = dest
        self.table = table
        self.orders = orders
        self.state = WriterState()
        self.index: dict[tuple, KeyState] = {}
        checksum = next((q for q in dest.quality_checks if q.type == "checksum" and q.enabled), None)
        self.checksum_columns = list(checksum.columns) if checksum else list(dest.primary_key)
        # Tables without _cdc_source_lsn (seed products_cdc) order by their binlog file and position.
        self.by_binlog = "_cdc_source_lsn" not in dest.metadata_columns and "_cdc_binlog_position" in dest.metadata_columns

    def position_of(self, event: CdcEvent) -> str:
        if self.by_binlog:
            return binlog_position(event.binlog_file, event.binlog_position)
        return event.position

    # ---- start -------------------------------------------------------------------------------
    def open(self, partitions: list[tuple[str, int]]) -> None:
        """Reads where this table's stream stands from the table itself."""
        if self.dest.columns and not self.table.exists():
            self.table.create(self._initial_columns(self.dest.columns))
        state = self.table.recorded_state(partitions)
        self.state = state or WriterState()
        self.index = self._load_index() if self.table.exists() else {}

    def next_offset(self, topic: str, partition: int) -> int:
        return self.state.offsets.get((topic, partition), 0)

    def _initial_columns(self, columns: tuple[Column, ...] | list[Column]) -> list[Column]:
        meta = [Column(m, METADATA_TYPES[m][0], METADATA_TYPES[m][1]) for m in self.dest.metadata_columns]
        return list(columns) + meta

    def _load_index(self) -> dict[tuple, KeyState]:
        present = self.table.columns()
        position_columns = ["_cdc_binlog_file", "_cdc_binlog_position"] if self.by_binlog else ["_cdc_source_lsn"]
        if any(c not in present for c in position_columns):
            return {}
        pk = list(self.dest.primary_key)
        wanted = pk + position_columns + ["_cdc_operation"] + self.checksum_columns
        index: dict[tuple, KeyState] = {}
        for r in self.table.scan([c for c in dict.fromkeys(wanted) if c in present]).to_pylist():
            key = tuple(r[k] for k in pk)
            pos = binlog_position(r["_cdc_binlog_file"], r["_cdc_binlog_position"]) if self.by_binlog else (r.get("_cdc_source_lsn") or "")
            current = index.get(key)
            if current is None or pos > current.position:
                # a change log's last row for a key may be its DELETE: the key is gone, its position stays
                gone = r.get("_cdc_operation") == "DELETE"
                index[key] = KeyState(pos, None if gone else row_hash([r.get(c) for c in self.checksum_columns]))
        return index

    # ---- one batch ---------------------------------------------------------------------------
    def prepare(self, items: list[Item]) -> Prepared:
        offsets = dict(self.state.offsets)
        touched: set[tuple[str, int]] = set()
        accepted: list[Item] = []
        for it in items:
            tp = (it.record.topic, it.record.partition)
            if it.record.offset < offsets.get(tp, 0):
                continue
            offsets[tp] = it.record.offset + 1
            touched.add(tp)
            if it.event is not None and it.rule is None:
                accepted.append(it)

        seen: dict[tuple, str] = {}
        chosen: list[Item] = []
        skipped = 0
        for it in accepted:
            key = it.event.key(list(self.dest.primary_key))
            position = self.position_of(it.event)
            last = seen.get(key) or (self.index[key].position if key in self.index else None)
            if last is not None and position <= last:
                skipped += 1
                continue
            seen[key] = position
            chosen.append(it)
        if self.dest.write_mode == "upsert":
            winners: dict[tuple, Item] = {}
            for it in chosen:
                winners[it.event.key(list(self.dest.primary_key))] = it
            chosen = list(winners.values())

        dead: list[Item] = []
        if chosen and not self.dest.derive_orders_table:
            self._evolve(chosen)
        if chosen and not self.table.exists():
            self._create_from(chosen)
        columns = self.table.columns() if self.table.exists() else {}
        state = WriterState(offsets, self.state.rows_expected, self.state.checksum, self.state.orders_version)
        counts: dict[Any, int] = {}
        recounted: list[dict[str, Any]] = []
        if self.dest.derive_orders_table:
            counts, recounted = self._recount(state, {it.event.key(list(self.dest.primary_key))[0] for it in chosen})
        values, errors = self._build_columns([it.event for it in chosen], columns, counts)
        written: list[int] = []
        for i, it in enumerate(chosen):
            if errors[i] is None:
                written.append(i)
            else:
                dead.append(Item(it.record, it.event, it.fields, "schema_mismatch", errors[i]))
        if len(written) < len(chosen):
            values = {name: [column[i] for i in written] for name, column in values.items()}
        built = [chosen[i] for i in written]

        pk = list(self.dest.primary_key)
        hashed = [values[c] if c in values else [None] * len(built) for c in self.checksum_columns]
        index_updates: dict[tuple, KeyState] = {}
        deletes: list[bool] = []
        for n, it in enumerate(built):
            key = it.event.key(pk)
            deleting = it.event.operation == "DELETE"
            h = row_hash([column[n] for column in hashed])
            if self.dest.write_mode == "append":
                state.rows_expected += 1
                state.checksum = (state.checksum + h) & MASK64
            else:
                old = index_updates.get(key) or self.index.get(key)
                if old is not None and old.row_hash is not None:
                    state.checksum = (state.checksum - old.row_hash) & MASK64
                    state.rows_expected -= 1
                if not deleting:
                    state.checksum = (state.checksum + h) & MASK64
                    state.rows_expected += 1
                deletes.append(deleting)
            index_updates[key] = KeyState(self.position_of(it.event), None if deleting else h)

        schema = self._arrow_schema(columns)
        if self.dest.write_mode == "upsert":
            values[DELETE_FLAG] = deletes
        for row in recounted:
            for name in schema.names:
                values[name].append(row.get(name))
        rows = len(built) + len(recounted)
        table = pa.Table.from_arrays([pa.array(values[f.name], type=f.type) for f in schema], schema=schema) if rows else None
        return Prepared(table, state, touched, [it.event for it in built], dead, skipped, index_updates)

    def commit(self, prepared: Prepared) -> None:
        if prepared.rows is not None and prepared.rows.num_rows:
            if self.dest.write_mode == "append":
                self.table.append(prepared.rows, prepared.state, prepared.touched)
            else:
                self.table.upsert(prepared.rows, prepared.state, prepared.touched)
            self.state = prepared.state
            self.index.update(prepared.index_updates)
        else:
            # Nothing to write (replays, tombstones, dead letters only): the position advances with
            # the next commit; until then a restart re-reads these records and decides the same.
            self.state = WriterState(prepared.state.offsets, self.state.rows_expected, self.state.checksum, self.state.orders_version)

    # ---- schema ------------------------------------------------------------------------------
    def _source_fields(self, items: list[Item]) -> dict[str, tuple[ColumnType, bool]]:
        fields: dict[str, tuple[ColumnType, bool]] = {}
        for shape in _distinct_shapes(items):
            for name, (t, optional) in shape.items():
                if isinstance(self.table, DeltaLake):
                    t = DeltaLake.storage_type(t)
                prev = fields.get(name)
                fields[name] = (t if prev is None or prev[0].widens_to(t) else prev[0], optional)
        return fields

    def _create_from(self, items: list[Item]) -> None:
        fields = self._source_fields(items)
        keys = set(self.dest.primary_key)
        self.table.create(self._initial_columns([Column(n, t, n in keys) for n, (t, _) in fields.items()]))

    def _evolve(self, items: list[Item]) -> None:
        """Seed §6: an added column appears; a dropped one stays, nullable; a widened type widens
        where the format can (Iceberg); a rename is a new column (Debezium sends only the new name)."""
        if not self.table.exists():
            return
        present = self.table.columns()
        fields = self._source_fields(items)
        meta = set(self.dest.metadata_columns) | {partition_column_name(self.dest)}
        shapes = _distinct_shapes(items)
        added = [Column(n, t) for n, (t, _) in fields.items() if n not in present]
        # required columns some event of the batch no longer carries
        dropped = [
            n
            for n, (_, required) in present.items()
            if required and n not in meta and n not in self.dest.primary_key and any(n not in shape for shape in shapes)
        ]
        widened = {n: t for n, (t, _) in fields.items() if n in present and present[n][0].widens_to(t)}
        if added:
            log.info("%s: adding columns %s", self.dest.name, ", ".join(f"{c.name} {c.type}" for c in added))
            self.table.add_columns(added)
        if dropped:
            log.info("%s: source no longer sends %s; making them optional", self.dest.name, ", ".join(dropped))
            self.table.relax(dropped)
        if widened:
            log.info("%s: widening %s", self.dest.name, ", ".join(f"{n} to {t}" for n, t in widened.items()))
            self.table.widen(widened)

    def _arrow_schema(self, columns: dict[str, tuple[ColumnType, bool]]) -> pa.Schema:
        zoned = self.table.zoned_timestamps
        fields = [pa.field(n, t.arrow(zoned_timestamps=zoned), nullable=not req) for n, (t, req) in columns.items()]
        if self.dest.write_mode == "upsert":
            fields.append(pa.field(DELETE_FLAG, pa.bool_(), nullable=False))
        return pa.schema(fields)

    # ---- rows --------------------------------------------------------------------------------
    def _build_columns(
        self, events: list[CdcEvent], columns: dict[str, tuple[ColumnType, bool]], counts: dict[Any, int]
    ) -> tuple[dict[str, list[Any]], list[str | None]]:
        """The batch column by column, each value cast to its column's type; errors[i] says why event i
        cannot be written (its first column, in table order, that cannot hold its value)."""
        sources = [e.row for e in events]
        if self.dest.derive_orders_table:
            sources = [derived_customer(src) for src in sources]
            for src in sources:
                src["total_orders"] = counts.get(src.get("customer_id"), 0)
        meta: dict[str, Callable[[CdcEvent], Any]] = {
            "_cdc_operation": lambda e: e.operation,
            "_cdc_timestamp": lambda e: e.process_ts,
            "_cdc_source_lsn": lambda e: e.position,
            "_cdc_binlog_file": lambda e: e.binlog_file,
            "_cdc_binlog_position": lambda e: e.binlog_position,
            "_cdc_event_id": lambda e: e.event_id,
            "_ingestion_timestamp": lambda e: e.process_ts,
            "_source_system": lambda e: self.dest.source_system_label,
        }
        part = partition_column_name(self.dest)
        # an upsert's delete only needs the key: the row is removed
        may_lack = [e.operation == "DELETE" and self.dest.write_mode == "upsert" for e in events]
        errors: list[str | None] = [None] * len(events)
        out: dict[str, list[Any]] = {}
        for name, (t, required) in columns.items():
            if name in self.dest.metadata_columns:
                raw = [meta[name](e) for e in events]
            elif name == part:
                raw = [src[name] if name in src else _partition_date(src.get(self.dest.partition.column)) for src in sources]
            else:
                raw = [src.get(name) for src in sources]
            to_type = caster(t, name, zoned=self.table.zoned_timestamps)
            column: list[Any] = []
            for i, value in enumerate(raw):
                if value is None or errors[i] is not None:
                    if value is None and required and errors[i] is None and not may_lack[i]:
                        errors[i] = f"column {name} is required but the event has no value for it"
                    column.append(None)
                    continue
                try:
                    column.append(to_type(value))
                except SchemaMismatch as e:
                    errors[i] = str(e)
                    column.append(None)
            out[name] = column
        return out, errors

    def _recount(self, state: WriterState, batch_customers: set) -> tuple[dict[Any, int], list[dict[str, Any]]]:
        """customers_analytics.total_orders, counted in the orders change log (latest row per order,
        deletes excluded): for the customers of this batch, and as rewritten rows for those already in
        the table whose orders changed since the orders version this table recorded."""
        if self.orders is None or not self.orders.exists():
            return {}, []
        version = self.orders.version()
        changed: set = set()
        if version > state.orders_version:
            feed = pa.table(self.orders.table().load_cdf(starting_version=state.orders_version + 1, ending_version=version).read_all())
            order_ids = [o for o in set(feed.column("order_id").to_pylist()) if o is not None]
            for chunk in _chunks(order_ids, 1000):
                ids = ", ".join(str(int(o)) for o in chunk)
                got = self.orders.query(f"SELECT DISTINCT customer_id FROM t WHERE order_id IN ({ids}) AND customer_id IS NOT NULL")
                changed |= set(got.column("customer_id").to_pylist())
            state.orders_version = version
        counts = self.order_counts(batch_customers | changed)
        recount = [c for c in changed if c not in batch_customers and (c,) in self.index and self.index[(c,)].row_hash is not None]
        rows: list[dict[str, Any]] = []
        if recount:
            now = dt.datetime.now(UTC).replace(tzinfo=None)
            for row in self.table.scan(list(self.table.columns()), row_filter=In("customer_id", recount)).to_pylist():
                row["total_orders"] = counts.get(row["customer_id"], 0)
                row["_ingestion_timestamp"] = now
                row[DELETE_FLAG] = False
                rows.append(row)
        return counts, rows

    def order_counts(self, customers: set) -> dict[Any, int]:
        counts: dict[Any, int] = {}
        ids = [c for c in customers if c is not None]
        for chunk in _chunks(ids, 1000):
            in_list = ", ".join(str(int(c)) for c in chunk)
            got = self.orders.query(
                "SELECT customer_id, count(*) AS n FROM ("
                " SELECT customer_id, _cdc_operation, row_number() OVER (PARTITION BY order_id ORDER BY _cdc_source_lsn DESC) AS rn FROM t"
                f" WHERE order_id IN (SELECT order_id FROM t WHERE customer_id IN ({in_list}))"
                f") WHERE rn = 1 AND _cdc_operation <> 'DELETE' AND customer_id IN ({in_list}) GROUP BY customer_id"
            )
            counts.update(dict(zip(got.column("customer_id").to_pylist(), got.column("n").to_pylist())))
        return counts


def binlog_position(file: str | None, pos: int | None) -> str:
    return f"{file or ''}/{pos or 0:020d}"


def derived_customer(row: dict[str, Any]) -> dict[str, Any]:
    """Seed §3.2 customers_analytics: full_name = first + last name, location = city, state, country."""
    out = dict(row)
    names = [row.get("first_name"), row.get("last_name")]
    out["full_name"] = " ".join(n for n in names if n) or None
    out["location"] = ", ".join(p for p in (row.get("city"), row.get("state"), row.get("country")) if p) or None
    return out


def _distinct_shapes(items: list[Item]) -> list[dict[str, tuple[ColumnType, bool]]]:
    """The items' field maps, each once: records of one Connect schema share one map (EnvelopeReader)."""
    return list({id(it.fields): it.fields for it in items}.values())


def _chunks(values: list, n: int):
    for i in range(0, len(values), n):
        yield values[i : i + n]


def _partition_date(base: Any) -> Any:
    return None if base is None else (base.astimezone(UTC).date() if isinstance(base, dt.datetime) else base)


def caster(t: ColumnType, name: str, *, zoned: bool) -> Callable[[Any], Any]:
    """The conversion of a non-null value to what a column of type `t` stores; SchemaMismatch when
    the column cannot hold it. Chosen once per column and batch."""

    def refuse(value: Any) -> SchemaMismatch:
        return SchemaMismatch(f"column {name} ({t}) cannot hold {type(value).__name__} {json.dumps(json_value(value), default=str)}")

    if t.name in ("int", "long"):
        limit = 1 << (31 if t.name == "int" else 63)

        def to_int(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int):
                raise refuse(value)
            if not -limit <= value < limit:
                raise refuse(value)
            return value

        return to_int
    if t.name == "boolean":

        def to_bool(value: Any) -> Any:
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise refuse(value)

        return to_bool
    if t.name in ("float", "double"):

        def to_float(value: Any) -> Any:
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                return float(value)
            raise refuse(value)

        return to_float
    if t.name == "decimal":
        quantum = Decimal(1).scaleb(-t.scale)

        def to_decimal(value: Any) -> Any:
            d = Decimal(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else value
            if not isinstance(d, Decimal):
                raise refuse(value)
            q = d.quantize(quantum)
            if q != d or len(q.as_tuple().digits) > t.precision:
                raise refuse(value)
            return q

        def guarded(value: Any) -> Any:
            try:
                return to_decimal(value)
            except InvalidOperation:
                raise refuse(value) from None

        return guarded
    if t.name == "timestamp":

        def to_timestamp(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                aware = value if value.tzinfo else value.replace(tzinfo=UTC)
                return aware.astimezone(UTC) if zoned else aware.astimezone(UTC).replace(tzinfo=None)
            raise refuse(value)

        return to_timestamp
    if t.name == "date":

        def to_date(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                return value.astimezone(UTC).date()
            if isinstance(value, dt.date):
                return value
            raise refuse(value)

        return to_date
    if t.name == "string":

        def to_string(value: Any) -> Any:
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                return str(value)
            raise refuse(value)

        return to_string
    if t.name == "binary":

        def to_binary(value: Any) -> Any:
            if isinstance(value, bytes):
                return value
            raise refuse(value)

        return to_binary

    def unsupported(value: Any) -> Any:
        raise SchemaMismatch(f"column {name} has unsupported type {t}")

    return unsupported
