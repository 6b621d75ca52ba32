from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from cdc_lakehouse.config import parse_config
from cdc_lakehouse.metrics import Metrics
from cdc_lakehouse.pipeline import PipelineRunner
from memory_kafka import MemoryBroker, MemoryDeadLetters, MemorySource

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed-004.yaml"
# Later than every synthetic and captured event: process_ts must not precede capture_ts (§8.2).
NOW = dt.datetime(2026, 12, 31, tzinfo=dt.timezone.utc)


def seed_raw(root: Path) -> dict:
    return yaml.safe_load(EXAMPLE.read_text().replace("/var/lib/lakehouse", str(root)))


class Harness:
    """A pipeline of the seed config over an in-memory broker; restart() is a new process."""

    def __init__(self, raw: dict, pipeline_id: str):
        self.config = parse_config(raw)
        self.pipeline = self.config.pipeline(pipeline_id)
        self.broker = MemoryBroker()
        self.dlq = MemoryDeadLetters()
        self.runner: PipelineRunner | None = None
        self.restart()

    def restart(self) -> PipelineRunner:
        self.source = MemorySource(self.broker)
        self.metrics = Metrics(self.pipeline.pipeline_id)
        self.runner = PipelineRunner(self.config, self.pipeline, self.source, self.dlq, self.metrics, now=lambda: NOW)
        return self.runner

    def run(self, max_steps: int = 100) -> None:
        if not self.runner.writers:
            self.runner.start()
        for _ in range(max_steps):
            if self.runner.step() == 0:
                return
        raise AssertionError("stream did not drain")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def shop(root: Path) -> Harness:
    return Harness(seed_raw(root), "shop")


@pytest.fixture
def inventory(root: Path) -> Harness:
    return Harness(seed_raw(root), "inventory")
