"""Seed §8.3 quality checks, run against what each table's own commits recorded (rows expected and an
order-independent checksum of the checksum columns, both kept in the commit that wrote the rows), and
§4.2's validation_results: one row per check run."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass

import pyarrow as pa

from .config import Column, Destination, Pipeline
from .debezium import UTC
from .tables import DeltaLake, IcebergLake, LakeTable, WriterState, open_catalog
from .types import ColumnType
from .writer import MASK64, DestinationWriter, row_hash

RESULT_COLUMNS = [
    Column("validation_id", ColumnType("string"), True),
    Column("pipeline_id", ColumnType("string"), True),
    Column("validation_type", ColumnType("string"), True),
    Column("validation_timestamp", ColumnType("timestamp"), True),
    Column("status", ColumnType("string"), True),
    Column("expected_value", ColumnType("string")),
    Column("actual_value", ColumnType("string")),
    Column("details", ColumnType("string")),
    Column("duration_ms", ColumnType("long"), True),
]


@dataclass
class Result:
    validation_type: str
    status: str
    expected: str
    actual: str
    details: dict
    duration_ms: int


def validate_row_count(expected: int, actual: int, tolerance: float = 0.01) -> bool:
    """Seed §8.3, with an empty table passing only when nothing was expected."""
    if expected == 0:
        return actual == 0
    return abs(expected - actual) / expected <= tolerance


def run_checks(pipeline_id: str, writer: DestinationWriter, lag_seconds: float | None) -> list[Result]:
    dest, table = writer.dest, writer.table
    if not table.exists():
        return []
    recorded = table.recorded_state([]) or WriterState()
    out = []
    for check in dest.quality_checks:
        if not check.enabled:
            continue
        t0 = time.monotonic()
        if check.type == "row_count":
            actual = table.scan(list(dest.primary_key)).num_rows
            ok = validate_row_count(recorded.rows_expected, actual, check.tolerance)
            out.append(Result("row_count", "PASS" if ok else "FAIL", f"{recorded.rows_expected} rows", f"{actual} rows", {"table": dest.name, "tolerance": check.tolerance}, 0))
        elif check.type == "checksum":
            rows = table.scan(list(check.columns)).to_pylist()
            actual_sum = sum(row_hash([r[c] for c in check.columns]) for r in rows) & MASK64
            ok = actual_sum == recorded.checksum
            out.append(Result("checksum", "PASS" if ok else "FAIL", f"{recorded.checksum:016x}", f"{actual_sum:016x}", {"table": dest.name, "columns": list(check.columns), "rows": len(rows)}, 0))
        elif check.type == "lag_monitoring":
            if lag_seconds is None:
                out.append(Result("lag", "WARNING", f"<= {check.threshold_seconds} s", "no event written yet", {"table": dest.name}, 0))
            else:
                ok = lag_seconds <= check.threshold_seconds
                out.append(Result("lag", "PASS" if ok else "FAIL", f"<= {check.threshold_seconds} s", f"{lag_seconds:.3f} s", {"table": dest.name}, 0))
        out[-1].duration_ms = int((time.monotonic() - t0) * 1000)
    return out


def results_table(pipeline: Pipeline, catalogs) -> LakeTable:
    vr = pipeline.validation_results
    dest = Destination(
        name=vr.name,
        format=vr.format,
        topic="",
        write_mode="append",
        primary_key=("validation_id",),
        location=vr.location,
        catalog=vr.catalog,
        namespace=vr.namespace,
        metadata_columns=(),
    )
    return DeltaLake(dest, pipeline.pipeline_id) if vr.format == "deltalake" else IcebergLake(dest, pipeline.pipeline_id, catalogs[vr.catalog])


def write_results(table: LakeTable, pipeline_id: str, results: list[Result], now: dt.datetime | None = None) -> int:
    if not results:
        return 0
    if not table.exists():
        table.create(RESULT_COLUMNS)
    now = now or dt.datetime.now(UTC)
    ts = now if table.zoned_timestamps else now.replace(tzinfo=None)
    rows = [
        {
            "validation_id": str(uuid.uuid4()),
            "pipeline_id": pipeline_id,
            "validation_type": r.validation_type,
            "validation_timestamp": ts,
            "status": r.status,
            "expected_value": r.expected,
            "actual_value": r.actual,
            "details": json.dumps(r.details, sort_keys=True),
            "duration_ms": r.duration_ms,
        }
        for r in results
    ]
    table.append(pa.Table.from_pylist(rows, schema=table.arrow_schema()), WriterState(), set())
    return len(rows)


class QualityLoop:
    """Runs every destination's checks each validation_results.interval_seconds, beside the writer."""

    def __init__(self, config, pipeline: Pipeline, runner, metrics):
        self.pipeline = pipeline
        self.runner = runner
        self.metrics = metrics
        catalogs = {n: open_catalog(c) for n, c in config.catalogs.items()}
        self.table = results_table(pipeline, catalogs)

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._loop, args=(stop,), name="quality-checks", daemon=True).start()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.pipeline.validation_results.interval_seconds):
            try:
                results = []
                for w in list(self.runner.writers):
                    lag = self.metrics.lag_for(w.dest.name)
                    results += run_checks(self.pipeline.pipeline_id, w, lag)
                write_results(self.table, self.pipeline.pipeline_id, results)
            except Exception:
                logging.getLogger(__name__).exception("quality checks failed")
