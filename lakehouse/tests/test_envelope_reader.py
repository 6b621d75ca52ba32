"""EnvelopeReader (the loop's decoder, which parses a repeated schema once) against parse_record (which
parses every record whole): the same envelope or the same error for every record, and one whole parse per
distinct schema."""
import json

import pytest

from cdc_lakehouse import debezium
from cdc_lakehouse.debezium import EnvelopeReader, KafkaRecord, MalformedRecord, parse_record
from debezium_records import CUSTOMERS, ORDERS, PRODUCTS, T0, Builder, as_record, captured, customer, millis, pg_source


def outcome(parse, record):
    try:
        return parse(record)
    except MalformedRecord as e:
        return ("MalformedRecord", str(e))


def test_every_captured_record_reads_the_same_and_each_schema_is_parsed_whole_once(monkeypatch):
    records = [as_record(d) for topic in (CUSTOMERS, ORDERS, PRODUCTS) for d in captured(topic)]
    # interleaved, as a pipeline's batches mix its topics
    records = sorted(records, key=lambda r: (r.offset, r.topic))
    expected = [parse_record(r) for r in records]
    whole = []
    original = debezium._parse_value
    monkeypatch.setattr(debezium, "_parse_value", lambda raw: whole.append(raw) or original(raw))
    reader = EnvelopeReader()
    assert [reader.parse(r) for r in records] == expected
    schemas = {(r.topic, json.dumps(json.loads(r.value)["schema"])) for r in records if r.value is not None}
    assert len(whole) == len(schemas) < len([r for r in records if r.value is not None])


def _pair(payload_text: str, builder: Builder) -> tuple[KafkaRecord, KafkaRecord]:
    """A record that teaches the reader the compact schema prefix, and one with that prefix and `payload_text`."""
    schema = json.dumps(builder.value_doc["schema"], separators=(",", ":"))
    key = json.dumps({"schema": builder.key_doc["schema"], "payload": {"customer_id": 7}}, separators=(",", ":")).encode()
    good = json.dumps(builder.value_doc["payload"], separators=(",", ":"))
    first = KafkaRecord(CUSTOMERS, 0, 0, key, f'{{"schema":{schema},"payload":{good}}}'.encode())
    return first, KafkaRecord(CUSTOMERS, 0, 1, key, f'{{"schema":{schema},"payload":{payload_text}'.encode())


@pytest.mark.parametrize(
    "payload_text",
    [
        '[1, 2]}',  # payload not an object
        '{"after": null, "source": {}}}',  # no op
        '{"op": "c", "after": {"customer_id": 1}}}',  # no source
        '{"op": "c", "source": {}, "after": [1]}}',  # row not an object
        '{"op": "c", "source": {}, "after": {"customer_id": 1, "lifetime_value": "%%%"}}}',  # Decimal not base64
        '{"op": "c", "source": {}, "after": {"customer_id": 1}}, "payload": {"op": "d", "source": {}}}',  # repeated key
        '{"op": "c", "source": {}, "after": {"customer_id": 1}}, "extra": 1}',  # another key
        '{"op": "c", "source": {}, "after": {"customer_id": 1}',  # truncated
        '{"op": "c", "source": {}, "after": {"customer_id": 1}}  \n}',  # whitespace before the closing brace
        '{"op": "c", "source": {}, "after": {"customer_id": 1, "email": "\xff"}}}',  # not UTF-8 (below)
    ],
)
def test_a_known_schema_with_any_payload_reads_as_a_whole_parse_would(payload_text):
    first, record = _pair(payload_text, Builder(CUSTOMERS))
    if "\xff" in payload_text:
        record = KafkaRecord(record.topic, 0, 1, record.key, record.value.replace("\xff".encode(), b"\xff"))
    reader = EnvelopeReader()
    assert reader.parse(first) == parse_record(first)
    assert outcome(reader.parse, record) == outcome(parse_record, record)


def test_a_new_schema_mid_stream_gets_its_own_columns():
    b = Builder(CUSTOMERS)
    wider = b.with_row_fields(b.row_fields() + [{"type": "string", "optional": True, "field": "nickname"}])
    src = pg_source(100, T0, tx=1)
    row = customer(1)
    records = [
        b.change("c", None, row, source=src, ts_ms=millis(T0)),
        wider.change("u", None, {**row, "nickname": "n"}, source=src, ts_ms=millis(T0)),
        b.change("u", None, row, source=src, ts_ms=millis(T0)),
    ]
    reader = EnvelopeReader()
    got = [reader.parse(r) for r in records]
    assert got == [parse_record(r) for r in records]
    assert "nickname" in got[1].fields and "nickname" not in got[2].fields
    assert got[0].schema_fingerprint == got[2].schema_fingerprint != got[1].schema_fingerprint
