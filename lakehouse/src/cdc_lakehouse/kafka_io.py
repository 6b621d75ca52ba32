"""The Kafka side behind two small interfaces, so the writer's logic runs in tests without a broker.

The writer never resumes from its consumer group: it assigns partitions itself and seeks to the
offsets its tables recorded. It still commits them to the group after each table commit, only so
the usual lag tooling (kafka-consumer-groups, Strimzi/Prometheus exporters) can see it."""
from __future__ import annotations

from typing import Protocol

from confluent_kafka import Consumer, Producer, TopicPartition

from .config import Kafka
from .debezium import KafkaRecord


class Source(Protocol):
    def partitions(self, topic: str) -> list[int]: ...
    def assign(self, positions: dict[tuple[str, int], int]) -> None: ...
    def poll(self, max_records: int, timeout_s: float) -> list[KafkaRecord]: ...
    def commit(self, positions: dict[tuple[str, int], int]) -> None: ...
    def close(self) -> None: ...


class DeadLetters(Protocol):
    def send(self, key: bytes | None, value: bytes, headers: dict[str, str]) -> None: ...
    def flush(self) -> None:
        """Returns once every message sent is acknowledged; raises if one was not."""


def client_settings(k: Kafka) -> dict[str, str]:
    conf = {"bootstrap.servers": k.bootstrap_servers, "security.protocol": k.security_protocol}
    if k.ca_file:
        conf["ssl.ca.location"] = k.ca_file
    if k.cert_file:
        conf["ssl.certificate.location"] = k.cert_file
    if k.key_file:
        conf["ssl.key.location"] = k.key_file
    if k.sasl_mechanism:
        conf["sasl.mechanism"] = k.sasl_mechanism
        conf["sasl.username"] = k.sasl_username or ""
        with open(k.sasl_password_file or "") as f:
            conf["sasl.password"] = f.read().strip()
    return conf


class KafkaSource:
    def __init__(self, settings: Kafka, group_id: str):
        self._consumer = Consumer(
            {
                **client_settings(settings),
                "group.id": group_id,
                "enable.auto.commit": False,
                # Only reached when a recorded offset fell out of retention: start at the oldest record left.
                "auto.offset.reset": "earliest",
                # Transactional producers (none today) must not expose aborted records.
                "isolation.level": "read_committed",
                "enable.partition.eof": False,
            }
        )

    def partitions(self, topic: str) -> list[int]:
        md = self._consumer.list_topics(topic, timeout=30)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            raise RuntimeError(f"topic {topic}: {t.error if t else 'not found'}")
        return sorted(t.partitions)

    def assign(self, positions: dict[tuple[str, int], int]) -> None:
        self._consumer.assign([TopicPartition(t, p, o) for (t, p), o in positions.items()])

    def poll(self, max_records: int, timeout_s: float) -> list[KafkaRecord]:
        out = []
        for m in self._consumer.consume(max_records, timeout_s):
            if m.error():
                raise RuntimeError(f"Kafka: {m.error()}")
            ts_type, ts = m.timestamp()
            out.append(KafkaRecord(m.topic(), m.partition(), m.offset(), m.key(), m.value(), ts if ts_type else None))
        return out

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        if positions:
            self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()], asynchronous=True)

    def close(self) -> None:
        self._consumer.close()


class KafkaDeadLetters:
    def __init__(self, settings: Kafka, topic: str):
        self.topic = topic
        self._errors: list[str] = []
        self._producer = Producer({**client_settings(settings), "enable.idempotence": True, "acks": "all"})

    def send(self, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        def delivered(err, _msg):
            if err is not None:
                self._errors.append(str(err))

        self._producer.produce(self.topic, value=value, key=key, headers=list(headers.items()), on_delivery=delivered)

    def flush(self) -> None:
        remaining = self._producer.flush(60)
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            raise RuntimeError(f"dead-letter topic {self.topic}: {remaining} message(s) unacknowledged, errors: {errors}")
