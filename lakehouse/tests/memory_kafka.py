"""In-memory stand-ins for the writer's Kafka interfaces (kafka_io.Source and DeadLetters)."""
from __future__ import annotations

import json

from cdc_lakehouse.debezium import KafkaRecord


class MemoryBroker:
    def __init__(self):
        self.topics: dict[str, dict[int, list[KafkaRecord]]] = {}
        self.group_offsets: dict[tuple[str, int], int] = {}

    def produce(self, *records: KafkaRecord) -> None:
        for r in records:
            log = self.topics.setdefault(r.topic, {}).setdefault(r.partition, [])
            log.append(KafkaRecord(r.topic, r.partition, len(log), r.key, r.value, r.timestamp_ms))

    def create(self, topic: str, partitions: int = 1) -> None:
        for p in range(partitions):
            self.topics.setdefault(topic, {}).setdefault(p, [])


class MemorySource:
    def __init__(self, broker: MemoryBroker):
        self.broker = broker
        self.positions: dict[tuple[str, int], int] = {}
        self.assigned_from: dict[tuple[str, int], int] = {}

    def partitions(self, topic: str) -> list[int]:
        return sorted(self.broker.topics.setdefault(topic, {0: []}))

    def assign(self, positions):
        self.positions = dict(positions)
        self.assigned_from = dict(positions)

    def poll(self, max_records, timeout_s):
        out = []
        for (t, p), pos in sorted(self.positions.items()):
            log = self.broker.topics.get(t, {}).get(p, [])
            take = log[pos : pos + max_records - len(out)]
            out += take
            self.positions[(t, p)] = pos + len(take)
            if len(out) >= max_records:
                break
        return out

    def commit(self, positions):
        self.broker.group_offsets.update(positions)

    def close(self):
        pass


class MemoryDeadLetters:
    def __init__(self):
        self.sent: list[tuple[bytes | None, dict, dict]] = []
        self.unflushed = 0

    def send(self, key, value, headers):
        self.sent.append((key, json.loads(value), headers))
        self.unflushed += 1

    def flush(self):
        self.unflushed = 0

    def rules(self) -> list[str]:
        return [doc["rule"] for _, doc, _ in self.sent]
