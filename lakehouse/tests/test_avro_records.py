"""Avro change records (Confluent framing, schemas from the registry by id) read into the same envelopes and
table rows as their JsonConverter twins. The registry here serves the answers Apicurio Registry 3.3.3 gave
for these ids, byte for byte (fixtures/avro/README.md); test/integration/record-decoder.spec.ts runs
live_registry_check.py against a running one."""
from __future__ import annotations

import base64
import datetime as dt
import http.server
import io
import json
import struct
import threading
from decimal import Decimal
from pathlib import Path

import fastavro
import pytest

from cdc_lakehouse.avro_records import AvroEnvelopeReader, connect_schema
from cdc_lakehouse.config import ConfigError, SchemaRegistry, parse_config
from cdc_lakehouse.debezium import KafkaRecord, MalformedRecord, parse_record
from cdc_lakehouse.registry import RegistryClient, RegistryUnavailable
from conftest import Harness, seed_raw
from debezium_records import CUSTOMERS, ORDERS, PRODUCTS, as_record, captured
from reader import delta_rows

AVRO = Path(__file__).parent / "fixtures" / "avro"
ANSWERS = AVRO / "registry"
ORDERS_VALUE_ID = 7


class _Answers(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.server.authorizations.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        prefix = "/apis/ccompat/v7/schemas/ids/"
        found = ANSWERS / f"{self.path[len(prefix):]}.json" if self.path.startswith(prefix) else None
        status, body = (200, found.read_bytes()) if found and found.is_file() else (404, (ANSWERS / "not-found.json").read_bytes())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.requests = []  # type: ignore[attr-defined]
    server.authorizations = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/apis/ccompat/v7", server.requests, server.authorizations  # type: ignore[attr-defined]
    server.shutdown()


def avro_captured(topic: str) -> list[dict]:
    return [json.loads(line) for line in (AVRO / f"{topic}.jsonl").read_text().splitlines()]


def as_avro_record(doc: dict) -> KafkaRecord:
    b = lambda v: base64.b64decode(v) if v is not None else None  # noqa: E731
    return KafkaRecord(doc["topic"], doc["partition"], doc["offset"], b(doc["key"]), b(doc["value"]), doc.get("timestamp"))


def framed(schema_id: int, schema: dict, datum: dict) -> bytes:
    """Confluent's wire format written here from its definition: byte 0, the id as a big-endian 32-bit int, the datum."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
    return bytes([0]) + schema_id.to_bytes(4, "big") + out.getvalue()


def registered(schema_id: int) -> dict:
    return json.loads(json.loads((ANSWERS / f"{schema_id}.json").read_text())["schema"])


@pytest.mark.parametrize("topic", [CUSTOMERS, ORDERS, PRODUCTS])
def test_the_converters_avro_records_read_as_their_json_twins(topic, registry_url):
    url, requests, _ = registry_url
    reader = AvroEnvelopeReader(RegistryClient(SchemaRegistry(url)))
    twins = list(zip(captured(topic), avro_captured(topic), strict=True))
    for json_doc, avro_doc in twins:
        assert reader.parse(as_avro_record(avro_doc)) == parse_record(as_record(json_doc)), avro_doc["offset"]
    ids = {int.from_bytes(base64.b64decode(d[k])[1:5], "big") for _, d in twins for k in ("key", "value") if d[k]}
    assert sorted(requests) == sorted(f"/apis/ccompat/v7/schemas/ids/{i}" for i in ids), "one request per schema id"


def test_values_of_a_datum_written_by_fastavro_with_the_registered_schema(registry_url):
    url, _, _ = registry_url
    schema = registered(ORDERS_VALUE_ID)
    row = {
        "order_id": 7001,
        "customer_id": 42,
        "order_date": 1_767_225_600_123_456,  # MicroTimestamp: 2026-01-01T00:00:00.123456Z
        "order_status": "SHIPPED",
        "total_amount": Decimal("-1234.50"),
        "shipping_address": '{"city": "Oslo"}',
        "payment_method": None,
        "order_notes": "fragile",
        "last_updated": 1_767_225_601_000_000,
    }
    source = {
        "version": "3.6.1.Final", "connector": "postgresql", "name": "shop", "ts_ms": 1_767_225_601_000, "snapshot": "false",
        "db": "shop", "sequence": None, "ts_us": None, "ts_ns": None, "schema": "public", "table": "orders",
        "txId": 900, "lsn": 123_456, "xmin": None, "origin": None, "origin_lsn": None,
    }  # fmt: skip
    value = {"before": None, "after": row, "source": source, "transaction": None, "op": "c", "ts_ms": 1_767_225_601_500, "ts_us": None, "ts_ns": None}
    key = framed(5, registered(5), {"order_id": 7001})
    env = AvroEnvelopeReader(RegistryClient(SchemaRegistry(url))).parse(KafkaRecord(ORDERS, 0, 0, key, framed(ORDERS_VALUE_ID, schema, value)))
    assert env.after == {
        **row,
        "order_date": dt.datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=dt.timezone.utc),
        "last_updated": dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc),
    }
    assert env.key == {"order_id": 7001}
    assert (env.op, env.ts_us, env.source["lsn"], env.before) == ("c", 1_767_225_601_500_000, 123_456, None)
    assert env.fields["total_amount"][0].name == "decimal" and env.fields["total_amount"][0].scale == 2
    assert env.fields["payment_method"][1] is True and env.fields["order_id"][1] is False


def test_the_connect_schema_keeps_what_the_converter_put_in_avro_properties():
    value = connect_schema(registered(ORDERS_VALUE_ID))
    row = next(f for f in value["fields"] if f["field"] == "after")
    assert row["optional"] is True and row["name"] == "shop.public.orders.Value"
    amount = next(f for f in row["fields"] if f["field"] == "total_amount")
    assert (amount["type"], amount["name"], amount["parameters"]["scale"]) == ("bytes", "org.apache.kafka.connect.data.Decimal", "2")
    # "after" refers to the record "before" defined: the named type resolves to the same struct
    before = next(f for f in value["fields"] if f["field"] == "before")
    assert [f["field"] for f in before["fields"]] == [f["field"] for f in row["fields"]]
    assert connect_schema({"type": "int", "connect.type": "int16"}) == {"type": "int16", "optional": False}


def test_records_the_reader_cannot_read_are_malformed(registry_url):
    url, _, _ = registry_url
    reader = AvroEnvelopeReader(RegistryClient(SchemaRegistry(url)))
    good = as_avro_record(avro_captured(ORDERS)[0])
    json_value = as_record(captured(ORDERS)[0])
    with pytest.raises(MalformedRecord, match=r"not Confluent-framed Avro .* starts 7b 22"):
        reader.parse(json_value)
    with pytest.raises(MalformedRecord, match=r"schemas/ids/9999: no schema with id 9999 .*Schema 9999 not found"):
        reader.parse(KafkaRecord(ORDERS, 0, 0, good.key, good.value[:1] + struct.pack(">I", 9999) + good.value[5:]))
    with pytest.raises(MalformedRecord, match=r"does not decode with schema 6: EOFError"):
        reader.parse(KafkaRecord(ORDERS, 0, 0, good.key, good.value[:40]))
    assert reader.parse(KafkaRecord(ORDERS, 0, 1, good.key, None)) is None


def test_an_unreachable_registry_is_not_the_records_fault():
    reader = AvroEnvelopeReader(RegistryClient(SchemaRegistry("http://127.0.0.1:9/apis/ccompat/v7"), timeout_s=2))
    with pytest.raises(RegistryUnavailable, match=r"http://127.0.0.1:9/apis/ccompat/v7/schemas/ids/6: .*Connection refused.*check schema_registry.url"):
        reader.parse(as_avro_record(avro_captured(ORDERS)[0]))


def test_an_avro_pipeline_writes_the_same_rows_as_the_json_one(root, registry_url):
    """Both runs' tables read back through DuckDB, not the writer's libraries."""
    url, _, _ = registry_url
    tables = {}
    for serialization, records in (("json", [as_record(d) for d in captured(ORDERS)]), ("avro", [as_avro_record(d) for d in avro_captured(ORDERS)])):
        (root / serialization).mkdir()
        raw = seed_raw(root / serialization)
        raw["serialization"] = serialization
        if serialization == "avro":
            raw["schema_registry"] = {"url": url}
        h = Harness(raw, "shop")
        h.broker.produce(*records)
        h.run()
        assert h.dlq.sent == []
        tables[serialization] = delta_rows(h.pipeline.destination("orders_cdc").location, "SELECT * FROM t ORDER BY ALL")
    assert len(tables["avro"]) == len(tables["json"]) > 0
    assert tables["avro"] == tables["json"]


def test_avro_needs_a_registry_and_registry_tls_needs_https(root):
    raw = seed_raw(root)
    raw["serialization"] = "avro"
    with pytest.raises(ConfigError, match=r'schema_registry: required when serialization is "avro"'):
        parse_config(raw)
    raw["schema_registry"] = {"url": "http://registry:8080/apis/ccompat/v7", "tls": {"ca_file": "/ca.pem"}}
    with pytest.raises(ConfigError, match=r"schema_registry.tls: needs an https:// url"):
        parse_config(raw)
    raw["schema_registry"]["url"] = "https://registry:8443/apis/ccompat/v7"
    assert parse_config(raw).schema_registry == SchemaRegistry("https://registry:8443/apis/ccompat/v7", ca_file="/ca.pem")


def test_the_registry_login_comes_from_the_mounted_files(registry_url, tmp_path):
    url, _, authorizations = registry_url
    (tmp_path / "username").write_text("cdc-reader\n")
    (tmp_path / "password").write_text("s3cret\n")
    settings = SchemaRegistry(url, username_file=str(tmp_path / "username"), password_file=str(tmp_path / "password"))
    AvroEnvelopeReader(RegistryClient(settings)).parse(as_avro_record(avro_captured(ORDERS)[0]))
    assert set(authorizations) == {"Basic " + base64.b64encode(b"cdc-reader:s3cret").decode()}
