"""Bad input to the writer: every record it cannot take goes to the pipeline's dead-letter topic with its rule
and a log line naming topic, partition, offset and the problem; the records behind it are written and the
consumer position moves past both. A failure that is not the record's (a table commit) moves nothing."""
from __future__ import annotations

import copy
import json
import logging

import pytest

from cdc_lakehouse.debezium import KafkaRecord
from debezium_records import CUSTOMERS, T0, Builder, customer, pg_source
from reader import delta_rows

TS = int(T0.timestamp() * 1000) + 100
BUILDER = Builder(CUSTOMERS)
GOOD = BUILDER.change("c", None, customer(1), source=pg_source(5000, T0), ts_ms=TS)


def edited(edit) -> KafkaRecord:
    """The good record with its JSON value edited."""
    doc = json.loads(GOOD.value)
    edit(doc)
    return KafkaRecord(CUSTOMERS, 0, 0, GOOD.key, json.dumps(doc).encode())


def row_field_schema(doc: dict) -> list:
    return next(f for f in doc["schema"]["fields"] if f["field"] == "after")["fields"]


BAD = {
    "not JSON": (KafkaRecord(CUSTOMERS, 0, 0, GOOD.key, b"not json"), "malformed_record", "value is not JSON"),
    "invalid UTF-8": (KafkaRecord(CUSTOMERS, 0, 0, GOOD.key, b"\xff\xfe{"), "malformed_record", "value is not JSON"),
    "JSON that is no envelope": (KafkaRecord(CUSTOMERS, 0, 0, GOOD.key, b"[1, 2]"), "malformed_record", "not a JsonConverter envelope"),
    "a key that is not JSON": (KafkaRecord(CUSTOMERS, 0, 0, b"{nope", GOOD.value), "malformed_record", "cannot decode row values"),
    "a row that is not an object": (edited(lambda d: d["payload"].update(after="x")), "malformed_record", "row is not an object"),
    "a field the schema does not have": (
        edited(lambda d: d["payload"]["after"].update(nickname="Ada")),
        "malformed_record",
        "field 'nickname' is not in the record's schema",
    ),
    "a required field missing": (
        edited(lambda d: d["payload"]["after"].pop("email")),
        "malformed_record",
        "required field(s) email missing from the row",
    ),
    "a string in an int32 field": (
        edited(lambda d: d["payload"]["after"].update(customer_id="abc")),
        "malformed_record",
        "field 'customer_id': a int32 field holds \"abc\"",
    ),
    "an object in an int32 field": (
        edited(lambda d: d["payload"]["after"].update(customer_id={"a": 1})),
        "malformed_record",
        "field 'customer_id': a int32 field holds {\"a\": 1}",
    ),
    "a boolean in an int32 field": (
        edited(lambda d: d["payload"]["after"].update(customer_id=True)),
        "malformed_record",
        "field 'customer_id': a int32 field holds true",
    ),
    "a Decimal that is not base64": (
        edited(lambda d: d["payload"]["after"].update(lifetime_value="!!!")),
        "malformed_record",
        "field 'lifetime_value'",
    ),
    "a schema field without a name": (
        edited(lambda d: row_field_schema(d).append({"type": "int32"})),
        "malformed_record",
        "the row schema is not a Connect struct of named, typed fields",
    ),
    "a schema field of no Connect type": (
        edited(lambda d: row_field_schema(d).append({"field": "q", "type": "weird"})),
        "malformed_record",
        "fields of no Connect type: q ('weird')",
    ),
    "a source LSN that is not a number": (
        edited(lambda d: d["payload"]["source"].update(lsn="abc")),
        "malformed_record",
        "source block or timestamps do not convert",
    ),
    "another table's change on this table's topic": (
        edited(lambda d: d["payload"]["source"].update(table="suppliers")),
        "unknown_table",
        "a change of public.suppliers on topic shop.public.customers, which carries another table",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_record_is_dead_lettered_named_in_the_log_and_the_stream_goes_on(shop, caplog, case):
    bad, rule, detail = BAD[case]
    behind = BUILDER.change("c", None, customer(7), source=pg_source(6000, T0), ts_ms=TS)
    shop.broker.produce(bad, behind)
    with caplog.at_level(logging.WARNING, logger="cdc_lakehouse.pipeline"):
        shop.run()
    # each destination reading the topic that has not passed the record dead-letters it once
    assert shop.dlq.rules() and set(shop.dlq.rules()) == {rule}
    _, doc, headers = shop.dlq.sent[0]
    assert detail in doc["detail"], doc["detail"]
    assert (headers["cdc.source.topic"], headers["cdc.source.partition"], headers["cdc.source.offset"]) == (CUSTOMERS, "0", "0")
    assert doc["record_value"] == bad.value.decode("utf-8", "replace")
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(f"{CUSTOMERS} partition 0 offset 0 to dlq-lakehouse-shop: {rule}: " in line and detail in line for line in lines), lines
    assert delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id FROM t") == [{"customer_id": 7}]
    assert shop.broker.group_offsets[(CUSTOMERS, 0)] == 2


def test_a_missing_optional_field_is_null_as_jsonconverter_reads_it(shop):
    shop.broker.produce(edited(lambda d: d["payload"]["after"].pop("phone")))
    shop.run()
    assert shop.dlq.sent == []
    assert delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id, phone FROM t") == [{"customer_id": 1, "phone": None}]


def test_a_tombstone_is_passed_without_a_row_or_a_dead_letter(shop):
    shop.broker.produce(GOOD, KafkaRecord(CUSTOMERS, 0, 0, GOOD.key, None))
    shop.run()
    assert shop.dlq.sent == []
    assert delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id FROM t") == [{"customer_id": 1}]
    assert shop.broker.group_offsets[(CUSTOMERS, 0)] == 2


def test_a_failure_that_is_not_the_records_moves_no_position_and_loses_nothing(shop):
    shop.broker.produce(GOOD)
    shop.runner.start()
    failing = shop.runner.writers[-1]
    original = failing.commit

    def commit_fails(prepared):
        raise OSError("object storage unavailable")

    failing.commit = commit_fails
    with pytest.raises(OSError):
        shop.runner.step()
    assert shop.broker.group_offsets == {} and shop.dlq.sent == []
    failing.commit = original
    shop.restart()
    shop.run()
    assert shop.dlq.sent == []
    assert delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id FROM t") == [{"customer_id": 1}]
    assert shop.broker.group_offsets[(CUSTOMERS, 0)] == 1


def test_the_good_record_the_cases_edit_is_itself_accepted(shop):
    shop.broker.produce(copy.copy(GOOD))
    shop.run()
    assert shop.dlq.sent == []
    assert delta_rows(shop.pipeline.destination("customers_cdc").location, "SELECT customer_id FROM t") == [{"customer_id": 1}]
