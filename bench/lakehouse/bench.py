"""Lakehouse writer benchmark (issue 11 item 11): events/s into Delta and Iceberg through the writer's
real loop (PipelineRunner.step over KafkaSource against a real broker) against a floor measured in the
same run, and lag at a fixed produce rate.

Run by bench/lakehouse/run.ts, which starts the sandbox's KRaft Kafka and Apicurio Registry and passes
--bootstrap and --registry:

    flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/lakehouse/run.ts [-- --changes 100000 --repeat 3]

Per format (Delta: the seed's `customers_cdc`, PostgreSQL envelopes; Iceberg: `products_cdc`, MariaDB
envelopes; both append change logs, one destination per pipeline so each number is one format):
- writer: `changes` Debezium records (built on the captured records' own Connect schemas,
  lakehouse/tests/debezium_records.py; 1 partition) are produced to the topic first; the clock runs from
  `PipelineRunner.start()` (tables created, offsets read back) until the last batch's table commit;
  events/s = changes / that time. The table is then counted (must hold exactly `changes` rows).
- floor: the rows the writer wrote, read back from its table into one Arrow table, appended by the same
  library in one call to a fresh table created the same way (same schema, partitioning, properties):
  `write_deltalake(path, rows, mode="append")` / pyiceberg `Table.append(rows)`.
- serializations: each format runs once with JsonConverter's records (schema in every record) and once
  with the same changes as the Avro converter writes them (`--serializations json,avro`): the datum in
  the real converter's registered schema for that Connect schema (lakehouse/tests/fixtures/avro),
  registered in the running registry, Confluent framing with the id it returned; the writer reads
  them with `serialization: avro` and looks the schema up in that registry.
- lag: a fresh table, the writer's loop in a thread, changes produced at `rate`/s for `lag_seconds`.
  Each change's source timestamp (`source.ts_ms`, also its envelope `ts_ms`) is the wall-clock time the
  benchmark hands it to the producer (there is no database in this loop, so "committed at the source" = "produced"); lag = wall
  clock when the table commit holding the change has returned (visible to any new reader) − that time.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "lakehouse" / "src"), str(ROOT / "lakehouse" / "tests")]

import fastavro  # noqa: E402
import requests  # noqa: E402
import yaml  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from deltalake import DeltaTable, write_deltalake  # noqa: E402

from cdc_lakehouse.config import parse_config  # noqa: E402
from cdc_lakehouse.debezium import KafkaRecord  # noqa: E402
from cdc_lakehouse.kafka_io import KafkaSource  # noqa: E402
from cdc_lakehouse.metrics import Metrics  # noqa: E402
from cdc_lakehouse.pipeline import PipelineRunner  # noqa: E402
from cdc_lakehouse.tables import DeltaLake, IcebergLake, open_catalog  # noqa: E402
from cdc_lakehouse.writer import DestinationWriter  # noqa: E402
from debezium_records import CUSTOMERS, PRODUCTS, Builder, customer, product  # noqa: E402
from memory_kafka import MemoryDeadLetters  # noqa: E402

EXAMPLE = ROOT / "lakehouse" / "examples" / "seed-004.yaml"
FORMATS = {
    # format: (pipeline, destination, topic)
    "delta": ("shop", "customers_cdc", CUSTOMERS),
    "iceberg": ("inventory", "products_cdc", PRODUCTS),
}


def log(msg: str) -> None:
    print(f"[lakehouse-bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- the change stream ----------------------------------------------------------------------------
class Changes:
    """Inserts of `keys` rows, then updates, every 20th a delete (plus its tombstone) whose key is
    inserted again at its next turn: Debezium's shapes for PostgreSQL (customers) or MariaDB (products)."""

    def __init__(self, fmt: str, keys: int):
        self.fmt = fmt
        self.builder = Builder(FORMATS[fmt][2])
        self.keys = keys
        self.deleted: set[int] = set()
        self.i = 0

    def _source(self, now_us: int) -> dict:
        pos = 1000 + self.i * 10
        ms = now_us // 1000
        # millisecond precision, the same as the envelope's ts_ms (capture), so source <= capture holds;
        # the truncation can only lengthen the measured lag, by < 1 ms
        common = {"ts_ms": ms, "ts_us": ms * 1000, "ts_ns": ms * 1_000_000, "snapshot": "false"}
        if self.fmt == "delta":
            return {**common, "sequence": json.dumps([None, str(pos)]), "lsn": pos, "txId": 900 + self.i}
        return {**common, "file": "mariadb-bin.000002", "pos": pos, "row": 0, "gtid": f"0-1-{pos}"}

    def _row(self, k: int, n: int) -> dict:
        if self.fmt == "delta":
            return customer(k, tier=("Bronze", "Silver", "Gold", "Platinum")[n % 4], value=f"{100 + n % 1000}.00")
        return product(k, price=f"{10 + n % 90}.00", qty=n % 500)

    def next(self, now_us: int) -> list:
        """One change (and a tombstone after a delete) as KafkaRecords."""
        b, i = self.builder, self.i
        ms = now_us // 1000
        k = i % self.keys + 1
        src = self._source(now_us)
        if i < self.keys or k in self.deleted:
            self.deleted.discard(k)
            out = [b.change("c", None, self._row(k, i), source=src, ts_ms=ms)]
        elif i % 20 == 19:
            self.deleted.add(k)
            out = [b.change("d", self._row(k, i - 1), None, source=src, ts_ms=ms), b.tombstone({"customer_id" if self.fmt == "delta" else "product_id": k})]
        else:
            before = None if self.fmt == "delta" else self._row(k, i - 1)  # PostgreSQL REPLICA IDENTITY DEFAULT sends none
            out = [b.change("u", before, self._row(k, i), source=src, ts_ms=ms)]
        self.i += 1
        return out


def data_topic(fmt: str, ser: str) -> str:
    """Per serialization a topic of its own whose name still ends in the table's `<schema>.<table>` (the writer's
    unknown_table rule)."""
    return ("avro." if ser == "avro" else "") + FORMATS[fmt][2]


def lag_topic(fmt: str, ser: str) -> str:
    return "lag." + data_topic(fmt, ser)


# ---- Avro: the same changes as the Avro converter writes them ---------------------------------------
AVRO_FIXTURES = ROOT / "lakehouse" / "tests" / "fixtures" / "avro"


def _strip_logical(schema):
    if isinstance(schema, list):
        return [_strip_logical(s) for s in schema]
    if isinstance(schema, dict):
        return {k: _strip_logical(v) for k, v in schema.items() if k != "logicalType"}
    return schema


def _unbase64(value, connect: dict):
    """A JsonConverter payload value as the Avro datum of the same Connect value: bytes (and Decimal) are base64 in JSON."""
    if value is None:
        return None
    kind = connect.get("type")
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "struct":
        return {f["field"]: _unbase64(value.get(f["field"]), f) for f in connect["fields"]}
    return value


class AvroEncoder:
    """Encodes JsonConverter records of one topic as Confluent-framed Avro with the real converter's schemas, registered
    in the running registry under the converter's subject names (TopicIdStrategy: <topic>-key, <topic>-value)."""

    def __init__(self, registry: str, captured_topic: str, topic: str):
        first = next(json.loads(line) for line in (AVRO_FIXTURES / f"{captured_topic}.jsonl").read_text().splitlines() if json.loads(line)["value"])
        self.writers = {}
        for side in ("key", "value"):
            schema_id = int.from_bytes(base64.b64decode(first[side])[1:5], "big")
            text = json.loads((AVRO_FIXTURES / "registry" / f"{schema_id}.json").read_text())["schema"]
            answer = requests.post(f"{registry}/subjects/{topic}-{side}/versions", json={"schema": text}, timeout=30)
            answer.raise_for_status()
            header = bytes([0]) + int(answer.json()["id"]).to_bytes(4, "big")
            self.writers[side] = (header, fastavro.parse_schema(_strip_logical(json.loads(text))))

    def encode(self, raw: bytes | None, side: str) -> bytes | None:
        if raw is None:
            return None
        doc = json.loads(raw)
        header, schema = self.writers[side]
        out = io.BytesIO()
        out.write(header)
        fastavro.schemaless_writer(out, schema, _unbase64(doc["payload"], doc["schema"]))
        return out.getvalue()

    def record(self, r: KafkaRecord) -> KafkaRecord:
        return dataclasses.replace(r, key=self.encode(r.key, "key"), value=self.encode(r.value, "value"))


def produce(producer: Producer, records: list, topic: str) -> None:
    for r in records:
        while True:
            try:
                producer.produce(topic, value=r.value, key=r.key, partition=0, timestamp=r.timestamp_ms or 0)
                break
            except BufferError:
                producer.poll(0.05)
    producer.poll(0)


# ---- config -----------------------------------------------------------------------------------------
def config_for(fmt: str, root: Path, bootstrap: str, topic: str, registry: str | None = None):
    pipeline_id, dest_name, _ = FORMATS[fmt]
    raw = yaml.safe_load(EXAMPLE.read_text().replace("/var/lib/lakehouse", str(root)))
    raw["kafka"]["bootstrap_servers"] = bootstrap
    if registry:
        raw["serialization"] = "avro"
        raw["schema_registry"] = {"url": registry}
    p = next(p for p in raw["pipelines"] if p["pipeline_id"] == pipeline_id)
    p["destinations"] = [{**d, "topic": topic} for d in p["destinations"] if d["name"] == dest_name]
    raw["pipelines"] = [p]
    config = parse_config(raw)
    return config, config.pipeline(pipeline_id)


def new_runner(fmt: str, root: Path, bootstrap: str, topic: str, registry: str | None):
    config, pipeline = config_for(fmt, root, bootstrap, topic, registry)
    source = KafkaSource(config.kafka, f"{pipeline.consumer_group}-bench-{root.name}")
    dlq = MemoryDeadLetters()
    return config, pipeline, source, dlq, PipelineRunner(config, pipeline, source, dlq, Metrics(pipeline.pipeline_id))


def count_rows(writer: DestinationWriter) -> int:
    t = writer.table
    if isinstance(t, DeltaLake):
        return DeltaTable(t.uri).to_pyarrow_dataset().count_rows()
    return t.table().scan().to_arrow().num_rows


# ---- phases -----------------------------------------------------------------------------------------
def writer_run(fmt: str, topic: str, root: Path, bootstrap: str, registry: str | None, end_offset: int, changes: int) -> dict:
    config, pipeline, source, dlq, runner = new_runner(fmt, root, bootstrap, topic, registry)
    spent = {"poll": 0.0, "convert": 0.0, "prepare": 0.0, "commit": 0.0}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    t0 = time.perf_counter()
    runner.start()
    w = runner.writers[0]
    # where the loop's time goes: Kafka fetch, Debezium parse + event + validation, rows + Arrow, table commit
    source.poll = timed("poll", source.poll)
    runner._convert = timed("convert", runner._convert)
    w.prepare = timed("prepare", w.prepare)
    w.commit = timed("commit", w.commit)
    batches = 0
    while w.next_offset(topic, 0) < end_offset:
        if runner.step():
            batches += 1
        if time.perf_counter() - t0 > 1800:
            raise RuntimeError(f"{fmt}: writer stuck at offset {w.next_offset(topic, 0)} of {end_offset}")
    seconds = time.perf_counter() - t0
    source.close()
    rows = count_rows(w)
    if rows != changes or dlq.sent:
        raise RuntimeError(f"{fmt}: table holds {rows} rows for {changes} changes; {len(dlq.sent)} dead-lettered {dlq.rules()[:5]}")
    return {"seconds": seconds, "events_per_s": changes / seconds, "batches": batches, "rows": rows, "writer": w, "config": config, "spent": spent}


def floor_run(fmt: str, written: dict, root: Path) -> dict:
    w: DestinationWriter = written["writer"]
    config = written["config"]
    if isinstance(w.table, DeltaLake):
        rows = DeltaTable(w.table.uri).to_pyarrow_table()
        dest = dataclasses.replace(w.dest, name="floor_" + w.dest.name, location=str(root / "floor" / w.dest.name))
        floor = DeltaLake(dest, "floor")
        floor.create(w._initial_columns(w.dest.columns))
        rows = rows.select(floor.arrow_schema().names)
        t0 = time.perf_counter()
        write_deltalake(dest.location, rows, mode="append")
        seconds = time.perf_counter() - t0
        n = DeltaTable(dest.location).to_pyarrow_dataset().count_rows()
    else:
        rows = w.table.table().scan().to_arrow()
        dest = dataclasses.replace(w.dest, name="floor_" + w.dest.name)
        floor = IcebergLake(dest, "floor", open_catalog(config.catalogs[dest.catalog]))
        floor.create(w._initial_columns(w.dest.columns))
        table = floor.table()
        rows = rows.select(table.schema().as_arrow().names)
        t0 = time.perf_counter()
        table.append(rows)
        seconds = time.perf_counter() - t0
        n = floor.table().scan().to_arrow().num_rows
    if n != rows.num_rows:
        raise RuntimeError(f"{fmt} floor: {n} rows for {rows.num_rows}")
    return {"seconds": seconds, "events_per_s": rows.num_rows / seconds}


def consume_run(fmt: str, topic: str, bootstrap: str, end_offset: int, changes: int) -> dict:
    """Second reference (not the issue's floor): the writer's own KafkaSource reading the same records
    from the broker, with the writer's batch settings, doing nothing with them."""
    with tempfile.TemporaryDirectory(prefix=f"lakehouse-consume-{fmt}-") as tmp:
        config, pipeline = config_for(fmt, Path(tmp), bootstrap, topic)
    source = KafkaSource(config.kafka, f"{pipeline.consumer_group}-bench-consume-{time.time_ns()}")
    t0 = time.perf_counter()
    source.assign({(topic, 0): 0})
    records = 0
    while records < end_offset:
        records += len(source.poll(pipeline.max_records, pipeline.max_wait_ms / 1000))
        if time.perf_counter() - t0 > 600:
            raise RuntimeError(f"{fmt}: consumed {records} of {end_offset} records in 600 s")
    seconds = time.perf_counter() - t0
    source.close()
    return {"seconds": seconds, "events_per_s": changes / seconds}


def lag_run(fmt: str, ser: str, root: Path, bootstrap: str, registry: str | None, producer: Producer, rate: int, seconds: int, keys: int) -> dict:
    # A fresh table starts at offset 0, so the lag phase has its own (empty) topic per format and serialization.
    topic = lag_topic(fmt, ser)
    encoder = AvroEncoder(registry, FORMATS[fmt][2], topic) if registry else None
    config, pipeline, source, dlq, runner = new_runner(fmt, root, bootstrap, topic, registry)
    lags: list[float] = []
    orig_commit = DestinationWriter.commit

    def commit(self, prepared):
        orig_commit(self, prepared)
        now = time.time()
        for e in prepared.written:
            lags.append(now - e.source_ts.timestamp())

    DestinationWriter.commit = commit
    stop = threading.Event()
    runner.start()
    t = threading.Thread(target=lambda: runner.run(stop), daemon=True)
    t.start()
    try:
        changes = Changes(fmt, keys)
        total = rate * seconds
        t0 = time.time()
        for n in range(total):
            due = t0 + n / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            records = changes.next(int(time.time() * 1_000_000))
            produce(producer, [encoder.record(r) for r in records] if encoder else records, topic)
        producer.flush(60)
        deadline = time.time() + 120
        while len(lags) < total and time.time() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(30)
        DestinationWriter.commit = orig_commit
        source.close()
    if len(lags) != total or dlq.sent:
        raise RuntimeError(f"{fmt} lag: {len(lags)} of {total} changes committed; {len(dlq.sent)} dead-lettered")
    q = statistics.quantiles(lags, n=100, method="inclusive")
    return {"changes": total, "p50_s": statistics.median(lags), "p99_s": q[98], "max_s": max(lags)}


# ---- main -------------------------------------------------------------------------------------------
def raw_read_run(topic: str, bootstrap: str, end_offset: int, changes: int) -> dict:
    """Third reference, the bound on any writer built on this client: confluent-kafka reading the same records with
    fetches sized for throughput and nothing per record but taking its value, no wrapper object, no batch limit."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-raw-{time.time_ns()}", "enable.auto.commit": False,
                         "fetch.max.bytes": 256 << 20, "max.partition.fetch.bytes": 64 << 20, "queued.min.messages": 1_000_000,
                         "queued.max.messages.kbytes": 1 << 20, "fetch.wait.max.ms": 10})
    t0 = time.perf_counter()
    consumer.assign([TopicPartition(topic, 0, 0)])
    records = 0
    size = 0
    while records < end_offset:
        for m in consumer.consume(100_000, 1.0):
            v = m.value()
            size += len(v) if v else 0
            records += 1
        if time.perf_counter() - t0 > 600:
            raise RuntimeError(f"{topic}: read {records} of {end_offset} records in 600 s")
    seconds = time.perf_counter() - t0
    consumer.close()
    return {"seconds": seconds, "events_per_s": changes / seconds, "bytes": size}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--registry", default=None, help="the registry's Confluent-compatible API, e.g. http://127.0.0.1:8080/apis/ccompat/v7 (needed for avro)")
    ap.add_argument("--changes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--lag-seconds", type=int, default=30)
    ap.add_argument("--formats", default="delta,iceberg")
    ap.add_argument("--serializations", default="json,avro")
    ap.add_argument("--out", default=None, help="JSON lines of every measurement")
    args = ap.parse_args()
    formats = args.formats.split(",")
    serializations = args.serializations.split(",")
    if "avro" in serializations and not args.registry:
        ap.error("--serializations avro needs --registry")
    keys = max(1, args.changes // 5)

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    topics = [t for f in formats for ser in serializations for t in (data_topic(f, ser), lag_topic(f, ser))]
    for f in admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics]).values():
        f.result()
    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})

    out = open(args.out, "a") if args.out else None
    summary = {}
    for fmt in formats:
        for ser in serializations:
            name = f"{fmt}/{ser}"
            topic = data_topic(fmt, ser)
            registry = args.registry if ser == "avro" else None
            encoder = AvroEncoder(registry, FORMATS[fmt][2], topic) if registry else None
            log(f"{name}: producing {args.changes} changes to {topic}")
            t0 = time.perf_counter()
            changes = Changes(fmt, keys)
            produced_bytes = 0
            for _ in range(args.changes):
                records = changes.next(int(time.time() * 1_000_000))
                if encoder:
                    records = [encoder.record(r) for r in records]
                produced_bytes += sum(len(r.value or b"") + len(r.key or b"") for r in records)
                produce(producer, records, topic)
            producer.flush(120)
            end_offset = changes.builder.offset  # records incl. tombstones
            log(f"{name}: {end_offset} records ({produced_bytes / end_offset:.0f} bytes each on average) produced in {time.perf_counter() - t0:.1f} s")
            runs = []
            for rep in range(args.repeat):
                with tempfile.TemporaryDirectory(prefix=f"lakehouse-bench-{fmt}-{ser}-") as tmp:
                    root = Path(tmp)
                    wr = writer_run(fmt, topic, root, args.bootstrap, registry, end_offset, args.changes)
                    fl = floor_run(fmt, wr, root)
                    co = consume_run(fmt, topic, args.bootstrap, end_offset, args.changes)
                    raw = raw_read_run(topic, args.bootstrap, end_offset, args.changes)
                    # consume + one-call append: what any writer fed by this topic would at least spend
                    fed = args.changes / (co["seconds"] + fl["seconds"])
                    r = {"format": fmt, "serialization": ser, "rep": rep, "changes": args.changes, "records": end_offset, "bytes_per_record": produced_bytes / end_offset,
                         "writer_s": wr["seconds"], "writer_eps": wr["events_per_s"], "batches": wr["batches"], **{f"{k}_s": v for k, v in wr["spent"].items()},
                         "floor_s": fl["seconds"], "floor_eps": fl["events_per_s"], "ratio": wr["events_per_s"] / fl["events_per_s"],
                         "consume_s": co["seconds"], "consume_eps": co["events_per_s"], "consume_floor_eps": fed, "ratio_consume_floor": wr["events_per_s"] / fed,
                         # a writer that only read the topic this fast and then appended like the floor reaches this ratio
                         "raw_read_s": raw["seconds"], "raw_read_eps": raw["events_per_s"], "ratio_bound": fl["seconds"] / (raw["seconds"] + fl["seconds"])}
                    log(f"{name} rep {rep}: writer {r['writer_eps']:.0f} ev/s ({r['writer_s']:.1f} s, {r['batches']} batches), floor {r['floor_eps']:.0f} ev/s ({r['floor_s']:.2f} s), ratio {r['ratio']:.3f}; "
                        f"consume only {r['consume_eps']:.0f} ev/s ({r['consume_s']:.2f} s), consume + floor {fed:.0f} ev/s, ratio {r['ratio_consume_floor']:.3f}; "
                        f"raw read {r['raw_read_eps']:.0f} ev/s ({r['raw_read_s']:.2f} s), bound on writer/floor {r['ratio_bound']:.3f}; loop time: " + ", ".join(f"{k} {v:.1f} s" for k, v in wr["spent"].items()))
                    runs.append(r)
                    if out:
                        out.write(json.dumps(r) + "\n")
                        out.flush()
            # lag: its own topic, so the fresh table starts at an empty log
            with tempfile.TemporaryDirectory(prefix=f"lakehouse-lag-{fmt}-{ser}-") as tmp:
                lag = lag_run(fmt, ser, Path(tmp), args.bootstrap, registry, producer, args.rate, args.lag_seconds, keys)
            lag = {"format": fmt, "serialization": ser, "phase": "lag", "rate": args.rate, **lag}
            log(f"{name} lag at {args.rate}/s over {lag['changes']} changes: p50 {lag['p50_s']:.3f} s, p99 {lag['p99_s']:.3f} s, max {lag['max_s']:.3f} s")
            if out:
                out.write(json.dumps(lag) + "\n")
                out.flush()
            med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            summary[name] = {"bytes_per_record": produced_bytes / end_offset, "writer_eps": med("writer_eps"), "floor_eps": med("floor_eps"), "ratio": med("ratio"), "consume_eps": med("consume_eps"),
                             "consume_floor_eps": med("consume_floor_eps"), "ratio_consume_floor": med("ratio_consume_floor"),
                             "raw_read_eps": med("raw_read_eps"), "ratio_bound": med("ratio_bound"), **{k: med(k) for k in ("poll_s", "convert_s", "prepare_s", "commit_s")},
                             "lag_p50_s": lag["p50_s"], "lag_p99_s": lag["p99_s"], "lag_max_s": lag["max_s"]}
    print("SUMMARY " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
