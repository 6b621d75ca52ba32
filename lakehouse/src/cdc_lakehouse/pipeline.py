"""One pipeline's loop: poll a batch, convert and validate each record once, dead-letter what breaks
a rule, then per destination prepare, flush the dead letters, and commit the table with its Kafka
position. A failure anywhere drops everything in memory and resumes from what the tables recorded,
the same path a restarted process takes."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import Counter
from typing import Callable

from .avro_records import AvroEnvelopeReader
from .config import Config, Pipeline
from .debezium import UTC, EnvelopeReader, MalformedRecord
from .event import to_event, topic_mismatch, validate
from .kafka_io import DeadLetters, Source
from .metrics import Metrics
from .registry import RegistryClient
from .tables import DeltaLake, IcebergLake, LakeTable, open_catalog
from .writer import DestinationWriter, Item

log = logging.getLogger(__name__)


def open_tables(config: Config, pipeline: Pipeline) -> dict[str, LakeTable]:
    catalogs = {}
    tables: dict[str, LakeTable] = {}
    for d in pipeline.destinations:
        if d.format == "deltalake":
            tables[d.name] = DeltaLake(d, pipeline.pipeline_id)
        else:
            if d.catalog not in catalogs:
                catalogs[d.catalog] = open_catalog(config.catalogs[d.catalog])
            tables[d.name] = IcebergLake(d, pipeline.pipeline_id, catalogs[d.catalog])
    return tables


def envelope_reader(config: Config) -> EnvelopeReader | AvroEnvelopeReader:
    """The reader of the converter the stack runs (config `serialization`)."""
    if config.serialization == "avro":
        assert config.schema_registry is not None  # config.rule_problems requires it
        return AvroEnvelopeReader(RegistryClient(config.schema_registry))
    return EnvelopeReader()


class PipelineRunner:
    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        source: Source,
        dead_letters: DeadLetters,
        metrics: Metrics,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC),
    ):
        self.config = config
        self.pipeline = pipeline
        self.source = source
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.now = now
        self.writers: list[DestinationWriter] = []
        self.envelopes = envelope_reader(config)

    def start(self) -> None:
        """Opens every table and seeks each partition to the lowest offset a table still needs."""
        tables = open_tables(self.config, self.pipeline)
        # derived tables read the orders change log, so they run after the tables they count from
        ordered = sorted(self.pipeline.destinations, key=lambda d: d.derive_orders_table is not None)
        self.writers = []
        positions: dict[tuple[str, int], int] = {}
        for d in ordered:
            orders = tables.get(d.derive_orders_table) if d.derive_orders_table else None
            w = DestinationWriter(self.pipeline.pipeline_id, d, tables[d.name], orders if isinstance(orders, DeltaLake) else None)
            parts = [(d.topic, p) for p in self.source.partitions(d.topic)]
            w.open(parts)
            for tp in parts:
                positions[tp] = min(positions.get(tp, w.next_offset(*tp)), w.next_offset(*tp))
            self.writers.append(w)
        self.source.assign(positions)
        log.info("%s: resuming from the tables' recorded offsets %s", self.pipeline.pipeline_id, {f"{t}:{p}": o for (t, p), o in sorted(positions.items())})
        self.metrics.set_healthy(True)

    def step(self) -> int:
        """One batch; returns the number of records read."""
        records = self.source.poll(self.pipeline.max_records, self.pipeline.max_wait_ms / 1000)
        if not records:
            self.metrics.record_batch(0)
            return 0
        items = [self._convert(r) for r in records]
        pending = [it for it in items if it.rule and self._still_needed(it)]
        written = 0
        for w in self.writers:
            prepared = w.prepare([it for it in items if it.record.topic == w.dest.topic])
            pending += prepared.dead
            self._dead_letter(pending, w.dest.name)
            pending = []
            w.commit(prepared)
            if prepared.skipped:
                self.metrics.record_skipped(w.dest.name, prepared.skipped)
            if prepared.rows is not None:
                for operation, n in Counter(e.operation for e in prepared.written).items():
                    self.metrics.record_processed(operation, n)
                written += len(prepared.written)
                last = prepared.written[-1] if prepared.written else None
                if last is not None and last.source_ts is not None:
                    source_table = ".".join(p for p in (last.schema or last.database, last.table) if p)
                    self.metrics.record_lag(source_table, w.dest.name, (self.now() - last.source_ts).total_seconds())
        self.source.commit(self._positions())
        self.metrics.record_batch(written)
        return len(records)

    def run(self, stop: threading.Event, on_error_backoff_s: float = 5.0) -> None:
        while not stop.is_set():
            try:
                if not self.writers:
                    self.start()
                self.step()
                self.metrics.set_healthy(True)
            except Exception:
                log.exception("%s: batch failed; resuming from the tables' recorded positions", self.pipeline.pipeline_id)
                self.metrics.set_healthy(False)
                self.writers = []
                stop.wait(on_error_backoff_s)

    def _positions(self) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        for w in self.writers:
            for tp, o in w.state.offsets.items():
                out[tp] = min(out.get(tp, o), o)
        return out

    def _still_needed(self, it: Item) -> bool:
        """A bad record is dead-lettered while some table has not yet passed it."""
        return any(w.dest.topic == it.record.topic and it.record.offset >= w.next_offset(it.record.topic, it.record.partition) for w in self.writers)

    def _convert(self, record) -> Item:
        """A record the writer cannot read is dead-lettered like one that breaks a rule: a bad record must not stop
        the stream, and the dead letter keeps it. Failures of the tables, of Kafka or of the schema registry are
        not the record's and end the batch instead (run resumes from the tables' recorded positions)."""
        try:
            env = self.envelopes.parse(record)
        except MalformedRecord as e:
            return Item(record, rule="malformed_record", detail=str(e))
        if env is None:
            return Item(record)
        try:
            event = to_event(env, record, before_image=self.pipeline.before_image, now=self.now())
        except (ValueError, TypeError, KeyError, ArithmeticError) as e:
            return Item(record, rule="malformed_record", detail=f"source block or timestamps do not convert: {e}")
        violation = validate(event) or topic_mismatch(event, record.topic)
        if violation:
            return Item(record, event, env.fields, violation.rule, violation.detail)
        return Item(record, event, env.fields)

    def _dead_letter(self, items: list[Item], destination: str) -> None:
        for it in items:
            r = it.record
            doc = {
                "rule": it.rule,
                "detail": it.detail,
                "pipeline_id": self.pipeline.pipeline_id,
                "destination": destination if it.rule == "schema_mismatch" else None,
                "source": {"topic": r.topic, "partition": r.partition, "offset": r.offset, "timestamp_ms": r.timestamp_ms},
                "event": it.event.to_json() if it.event else None,
                "record_value": r.value.decode("utf-8", "replace") if r.value is not None else None,
            }
            headers = {"cdc.rule": it.rule or "", "cdc.source.topic": r.topic, "cdc.source.partition": str(r.partition), "cdc.source.offset": str(r.offset)}
            self.dead_letters.send(r.key, json.dumps(doc, default=str).encode(), headers)
            self.metrics.record_failed(it.rule or "unknown")
            log.warning(
                "%s: %s partition %d offset %d to %s: %s: %s",
                self.pipeline.pipeline_id,
                r.topic,
                r.partition,
                r.offset,
                self.pipeline.dead_letter_topic,
                it.rule,
                it.detail,
            )
        if items:
            self.dead_letters.flush()


def wait_idle(runner: PipelineRunner, max_steps: int = 1000) -> None:
    """Steps until a poll returns nothing (tests and one-shot runs)."""
    for _ in range(max_steps):
        if runner.step() == 0:
            return
    raise RuntimeError("still reading after max_steps batches")
