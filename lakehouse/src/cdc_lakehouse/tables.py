"""Delta Lake (delta-rs) and Iceberg (pyiceberg) tables behind one small interface: create with the
declared layout, evolve, append or merge a batch, and record the writer's Kafka position in the same
commit as the data (Delta: a transaction action per partition plus commitInfo; Iceberg: the snapshot
summary), so the table itself says where the stream resumes."""
from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Field, QueryBuilder, Schema, Transaction, write_deltalake
from deltalake.schema import PrimitiveType
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import And, EqualTo, In, Or
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema as IcebergSchema
from pyiceberg.table.sorting import NullOrder, SortDirection, SortField, SortOrder
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, MonthTransform, YearTransform
from sqlalchemy.engine import make_url
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
)

from .config import Catalog, Column, Destination
from .types import ColumnType, from_arrow

log = logging.getLogger(__name__)

STATE_KEY = "cdc.writer.state"
DELETE_FLAG = "__cdc_delete"

METADATA_TYPES: dict[str, tuple[ColumnType, bool]] = {
    "_cdc_operation": (ColumnType("string"), True),
    "_cdc_timestamp": (ColumnType("timestamp"), True),
    "_cdc_source_lsn": (ColumnType("string"), False),
    "_cdc_binlog_file": (ColumnType("string"), False),
    "_cdc_binlog_position": (ColumnType("long"), False),
    "_cdc_event_id": (ColumnType("string"), False),
    "_ingestion_timestamp": (ColumnType("timestamp"), True),
    "_source_system": (ColumnType("string"), True),
}


@dataclass
class WriterState:
    """What one commit records: the next Kafka offset per partition, and running totals the
    quality checks compare the table with."""

    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    rows_expected: int = 0
    checksum: int = 0
    orders_version: int = -1

    def to_json(self) -> str:
        return json.dumps(
            {
                "offsets": {f"{t}:{p}": o for (t, p), o in sorted(self.offsets.items())},
                "rows_expected": self.rows_expected,
                "checksum": f"{self.checksum:016x}",
                "orders_version": self.orders_version,
            },
            separators=(",", ":"),
        )

    @staticmethod
    def from_json(text: str) -> "WriterState":
        doc = json.loads(text)
        offsets = {}
        for k, v in doc.get("offsets", {}).items():
            topic, _, part = k.rpartition(":")
            offsets[(topic, int(part))] = int(v)
        return WriterState(offsets, int(doc.get("rows_expected", 0)), int(doc.get("checksum", "0"), 16), int(doc.get("orders_version", -1)))


def app_id(pipeline_id: str, destination: str, topic: str, partition: int) -> str:
    return f"cdc-lakehouse:{pipeline_id}:{destination}:{topic}:{partition}"


def partition_column_name(dest: Destination) -> str | None:
    """Delta has no partition transforms; day(col) becomes a generated DATE column (Delta's
    generatedColumns feature) that the writer fills and delta-rs checks against its expression."""
    if dest.format != "deltalake" or dest.partition is None:
        return None
    return dest.partition.column if dest.partition.transform == "identity" else f"{dest.partition.column}_date"


class LakeTable:
    dest: Destination
    zoned_timestamps: bool

    def exists(self) -> bool: ...
    def create(self, columns: list[Column]) -> None: ...
    def columns(self) -> dict[str, tuple[ColumnType, bool]]: ...
    def add_columns(self, columns: list[Column]) -> None: ...
    def relax(self, names: list[str]) -> None: ...
    def widen(self, changes: dict[str, ColumnType]) -> None: ...
    def recorded_state(self, partitions: list[tuple[str, int]]) -> WriterState | None: ...
    def append(self, rows: pa.Table, state: WriterState) -> None: ...
    def upsert(self, rows: pa.Table, state: WriterState) -> None: ...
    def scan(self, columns: list[str]) -> pa.Table: ...

    def arrow_schema(self) -> pa.Schema:
        cols = self.columns()
        return pa.schema([pa.field(n, t.arrow(zoned_timestamps=self.zoned_timestamps), nullable=not req) for n, (t, req) in cols.items()])


class DeltaLake(LakeTable):
    """delta-rs stores `int` and `float` as `long` and `double`: it cannot widen a column later
    (an int64 value into an int32 column fails with "Can't cast value ... to type Int32"), and the
    seed's Delta tables declare LONG for the sources' INTEGER keys anyway."""

    zoned_timestamps = True

    def __init__(self, dest: Destination, pipeline_id: str):
        self.dest = dest
        self.pipeline_id = pipeline_id
        self.uri = dest.location
        self.storage = dest.storage_options or None
        self._dt: DeltaTable | None = None
        # columns the next write adds (schema_mode="merge"), so rows are built with them
        self._pending: dict[str, tuple[ColumnType, bool]] = {}

    @staticmethod
    def storage_type(t: ColumnType) -> ColumnType:
        return {"int": ColumnType("long"), "float": ColumnType("double")}.get(t.name, t)

    def table(self) -> DeltaTable:
        if self._dt is None:
            self._dt = DeltaTable(self.uri, storage_options=self.storage)
        else:
            self._dt.update_incremental()
        return self._dt

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.uri, storage_options=self.storage)

    def create(self, columns: list[Column]) -> None:
        fields = [Field(c.name, PrimitiveType(_delta_type(self.storage_type(c.type))), nullable=True) for c in columns]
        part = partition_column_name(self.dest)
        if part and part not in {c.name for c in columns}:
            fields.append(
                Field(part, PrimitiveType("date"), nullable=True, metadata={"delta.generationExpression": f"CAST({self.dest.partition.column} AS DATE)"})
            )
        DeltaTable.create(
            self.uri,
            Schema(fields),
            mode="ignore",
            partition_by=[part] if part else None,
            name=self.dest.name,
            configuration=self.dest.table_properties or None,
            storage_options=self.storage,
        )
        self._dt = None

    def columns(self) -> dict[str, tuple[ColumnType, bool]]:
        schema = pa.schema(self.table().schema().to_arrow())
        return {**{f.name: (from_arrow(f.type), not f.nullable) for f in schema}, **self._pending}

    def add_columns(self, columns: list[Column]) -> None:
        """The next write adds them (schema_mode="merge"), in the same commit as its rows."""
        self._pending.update({c.name: (self.storage_type(c.type), False) for c in columns})

    def relax(self, names: list[str]) -> None:
        """Delta columns are created nullable, so a dropped source column only leaves NULLs."""

    def widen(self, changes: dict[str, ColumnType]) -> None:
        """delta-rs 1.6 has no type widening; values are cast to the existing type (README)."""

    def recorded_state(self, partitions: list[tuple[str, int]]) -> WriterState | None:
        if not self.exists():
            return None
        dt = self.table()
        state = WriterState()
        for commit in dt.history(200):
            if STATE_KEY in commit:
                state = WriterState.from_json(commit[STATE_KEY])
                break
        # The transaction actions survive checkpoints and log cleanup; commitInfo may not.
        for topic, part in partitions:
            version = dt.transaction_version(app_id(self.pipeline_id, self.dest.name, topic, part))
            if version is not None:
                state.offsets[(topic, part)] = version
        return state

    def _commit(self, state: WriterState, touched: set[tuple[str, int]]) -> CommitProperties:
        return CommitProperties(
            custom_metadata={STATE_KEY: state.to_json()},
            app_transactions=[Transaction(app_id(self.pipeline_id, self.dest.name, t, p), state.offsets[(t, p)]) for t, p in sorted(touched)],
        )

    def append(self, rows: pa.Table, state: WriterState, touched: set[tuple[str, int]] | None = None) -> None:
        write_deltalake(
            self.table(),
            rows,
            mode="append",
            schema_mode="merge",
            commit_properties=self._commit(state, touched if touched is not None else set(state.offsets)),
            storage_options=self.storage,
        )
        self._pending = {}

    def upsert(self, rows: pa.Table, state: WriterState, touched: set[tuple[str, int]] | None = None) -> None:
        on = " AND ".join(f"t.{k} = s.{k}" for k in self.dest.primary_key)
        newer = "(t._cdc_source_lsn IS NULL OR s._cdc_source_lsn > t._cdc_source_lsn)"
        (
            self.table()
            .merge(
                rows,
                predicate=on,
                source_alias="s",
                target_alias="t",
                merge_schema=True,
                commit_properties=self._commit(state, touched if touched is not None else set(state.offsets)),
            )
            .when_matched_delete(predicate=f"s.{DELETE_FLAG} AND {newer}")
            .when_matched_update_all(predicate=f"NOT s.{DELETE_FLAG} AND {newer}", except_cols=[DELETE_FLAG])
            .when_not_matched_insert_all(predicate=f"NOT s.{DELETE_FLAG}", except_cols=[DELETE_FLAG])
            .execute()
        )
        self._pending = {}

    def query(self, sql: str) -> pa.Table:
        """SQL over the table as `t`. DataFusion, not to_pyarrow_dataset(): the latter ignores
        column mapping and reads NULLs from a column-mapped table."""
        return pa.table(QueryBuilder().register("t", self.table()).execute(sql).read_all())

    def scan(self, columns: list[str]) -> pa.Table:
        if not self.exists():
            return pa.table({c: [] for c in columns})
        return self.query("SELECT " + ", ".join(f'"{c}"' for c in columns) + " FROM t")

    def version(self) -> int:
        return self.table().version()


def _delta_type(t: ColumnType) -> str:
    return {"int": "integer", "long": "long", "float": "float", "double": "double", "boolean": "boolean", "string": "string", "date": "date", "timestamp": "timestamp", "binary": "binary"}.get(t.name, str(t))


def _iceberg_type(t: ColumnType):
    if t.name == "decimal":
        return DecimalType(t.precision, t.scale)
    return {
        "string": StringType(),
        "int": IntegerType(),
        "long": LongType(),
        "boolean": BooleanType(),
        "float": FloatType(),
        "double": DoubleType(),
        "date": DateType(),
        "timestamp": TimestampType(),
        "binary": BinaryType(),
    }[t.name]


_TRANSFORMS = {"identity": IdentityTransform, "year": YearTransform, "month": MonthTransform, "day": DayTransform, "hour": HourTransform}


def open_catalog(cat: Catalog) -> SqlCatalog:
    uri = cat.uri
    if cat.password_file:
        password = open(cat.password_file).read().strip()
        uri = make_url(uri).set(password=password).render_as_string(hide_password=False)
    return SqlCatalog(cat.name, uri=uri, warehouse=cat.warehouse, **cat.properties)


class IcebergLake(LakeTable):
    zoned_timestamps = False

    def __init__(self, dest: Destination, pipeline_id: str, catalog: SqlCatalog):
        self.dest = dest
        self.pipeline_id = pipeline_id
        self.catalog = catalog
        self.identifier = f"{dest.namespace}.{dest.name}"
        self._table = None

    def table(self):
        if self._table is None:
            self._table = self.catalog.load_table(self.identifier)
        else:
            self._table = self._table.refresh()
        return self._table

    def exists(self) -> bool:
        return self.catalog.table_exists(self.identifier)

    def create(self, columns: list[Column]) -> None:
        keys = set(self.dest.primary_key)
        fields = [NestedField(i + 1, c.name, _iceberg_type(c.type), required=c.required or c.name in keys) for i, c in enumerate(columns)]
        ids = {f.name: f.field_id for f in fields}
        schema = IcebergSchema(*fields, identifier_field_ids=[ids[k] for k in self.dest.primary_key])
        spec = PartitionSpec()
        if self.dest.partition:
            p = self.dest.partition
            spec = PartitionSpec(PartitionField(source_id=ids[p.column], field_id=1000, transform=_TRANSFORMS[p.transform](), name=f"{p.column}_{p.transform}"))
        order = SortOrder(
            *[
                SortField(source_id=ids[c], transform=IdentityTransform(), direction=SortDirection.DESC if desc else SortDirection.ASC, null_order=NullOrder.NULLS_LAST if desc else NullOrder.NULLS_FIRST)
                for c, desc in self.dest.sort_by
            ]
        )
        self.catalog.create_namespace_if_not_exists(self.dest.namespace)
        self.catalog.create_table_if_not_exists(
            self.identifier, schema, partition_spec=spec, sort_order=order, properties={"format-version": "2", **self.dest.table_properties}
        )
        self._table = None

    def columns(self) -> dict[str, tuple[ColumnType, bool]]:
        schema = self.table().schema()
        out = {}
        for f in schema.fields:
            arrow = schema.as_arrow().field(f.name)
            out[f.name] = (from_arrow(arrow.type), f.required)
        return out

    def add_columns(self, columns: list[Column]) -> None:
        with self.table().update_schema() as update:
            for c in columns:
                update.add_column(c.name, _iceberg_type(c.type))

    def relax(self, names: list[str]) -> None:
        with self.table().update_schema() as update:
            for n in names:
                update.make_column_optional(n)

    def widen(self, changes: dict[str, ColumnType]) -> None:
        with self.table().update_schema() as update:
            for n, t in changes.items():
                update.update_column(n, field_type=_iceberg_type(t))

    def recorded_state(self, partitions: list[tuple[str, int]]) -> WriterState | None:
        if not self.exists():
            return None
        table = self.table()
        snapshot = table.current_snapshot()
        while snapshot is not None:
            props = snapshot.summary.additional_properties if snapshot.summary else {}
            if STATE_KEY in props:
                return WriterState.from_json(props[STATE_KEY])
            snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
        return WriterState()

    def append(self, rows: pa.Table, state: WriterState, touched=None) -> None:
        self.table().append(rows, snapshot_properties={STATE_KEY: state.to_json()})

    def upsert(self, rows: pa.Table, state: WriterState, touched=None) -> None:
        """Delete every key of the batch, then append the new images, in one Iceberg transaction
        (one metadata commit). Ordering was decided before: these are the winning events."""
        props = {STATE_KEY: state.to_json()}
        keys = rows.select(list(self.dest.primary_key)).to_pylist()
        txn = self.table().transaction()
        if keys:
            with warnings.catch_warnings():
                # new keys match nothing to delete; pyiceberg warns about that, it is expected here
                warnings.simplefilter("ignore", UserWarning)
                txn.delete(_key_filter(self.dest.primary_key, keys), snapshot_properties=props)
        live = rows.filter(pa.compute.invert(rows[DELETE_FLAG])).drop_columns([DELETE_FLAG])
        if live.num_rows:
            txn.append(live.cast(self.arrow_schema()), snapshot_properties=props)
        txn.commit_transaction()

    def scan(self, columns: list[str], row_filter=None) -> pa.Table:
        table = self.table()
        if table.current_snapshot() is None:
            return self.arrow_schema().empty_table().select(columns)
        if row_filter is None:
            return table.scan(selected_fields=tuple(columns)).to_arrow()
        return table.scan(row_filter=row_filter, selected_fields=tuple(columns)).to_arrow()


def _key_filter(key_columns: tuple[str, ...], keys: list[dict]):
    if len(key_columns) == 1:
        return In(key_columns[0], [k[key_columns[0]] for k in keys])
    terms = [And(*[EqualTo(c, k[c]) for c in key_columns]) for k in keys]
    return terms[0] if len(terms) == 1 else Or(*terms)

