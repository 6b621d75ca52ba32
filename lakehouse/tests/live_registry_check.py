"""Run by test/integration/record-decoder.spec.ts against a running Apicurio Registry (not collected by pytest: it
needs that registry): reads the records CaptureAvro.java just wrote through it and checks each against its
JsonConverter twin. Usage: live_registry_check.py <ccompat url> <folder of <topic>.jsonl>; prints the count."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cdc_lakehouse.avro_records import AvroEnvelopeReader  # noqa: E402
from cdc_lakehouse.config import SchemaRegistry  # noqa: E402
from cdc_lakehouse.debezium import KafkaRecord, parse_record  # noqa: E402
from cdc_lakehouse.registry import RegistryClient  # noqa: E402
from debezium_records import as_record, captured  # noqa: E402


def main(url: str, folder: str) -> int:
    reader = AvroEnvelopeReader(RegistryClient(SchemaRegistry(url)))
    checked = 0
    for path in sorted(Path(folder).glob("*.jsonl")):
        topic = path.stem
        avro_docs = [json.loads(line) for line in path.read_text().splitlines()]
        for twin, doc in zip(captured(topic), avro_docs, strict=True):
            b = lambda v: base64.b64decode(v) if v is not None else None  # noqa: E731
            record = KafkaRecord(topic, doc["partition"], doc["offset"], b(doc["key"]), b(doc["value"]))
            mine, theirs = reader.parse(record), parse_record(as_record(twin))
            if mine != theirs:
                print(f"{topic}@{doc['offset']}: {mine} != {theirs}", file=sys.stderr)
                return 1
            checked += 1
    print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
