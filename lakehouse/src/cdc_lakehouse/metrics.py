"""Seed 004 §4.3's metrics, with its exact names and labels, on /metrics; /healthz on the same port."""
from __future__ import annotations

import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self, pipeline_id: str, registry: CollectorRegistry | None = None, window_seconds: float = 30.0):
        self.pipeline_id = pipeline_id
        self.registry = registry or CollectorRegistry()
        self.lag = Gauge("cdc_lag_seconds", "Time between source change and destination write", ["pipeline_id", "source_table", "destination_table"], registry=self.registry)
        # prometheus_client appends _total to counters on exposition: these are exposed as cdc_events_*_total.
        self.processed = Counter("cdc_events_processed", "Total CDC events processed", ["pipeline_id", "operation"], registry=self.registry)
        self.failed = Counter("cdc_events_failed", "Total CDC events that failed processing", ["pipeline_id", "error_type"], registry=self.registry)
        self.health = Gauge("cdc_pipeline_health", "Pipeline health status (1=healthy, 0=unhealthy)", ["pipeline_id"], registry=self.registry)
        self.throughput = Gauge("cdc_throughput_events_per_second", "Current event processing rate", ["pipeline_id"], registry=self.registry)
        # Not in the seed: events recognized as already applied (replays), so they are not silently lost from view.
        self.skipped = Counter("cdc_events_skipped", "CDC events skipped as replays of changes already applied", ["pipeline_id", "destination_table"], registry=self.registry)
        self.health.labels(pipeline_id).set(0)
        self.throughput.labels(pipeline_id).set(0)
        self._window = window_seconds
        self._recent: deque[tuple[float, int]] = deque()
        self.last_progress = time.monotonic()
        self._last_lag: dict[str, float] = {}

    def record_processed(self, operation: str, n: int = 1) -> None:
        self.processed.labels(self.pipeline_id, operation).inc(n)

    def record_failed(self, error_type: str) -> None:
        self.failed.labels(self.pipeline_id, error_type).inc()

    def record_skipped(self, destination: str, n: int) -> None:
        self.skipped.labels(self.pipeline_id, destination).inc(n)

    def record_lag(self, source_table: str, destination: str, seconds: float) -> None:
        self.lag.labels(self.pipeline_id, source_table, destination).set(max(seconds, 0.0))
        self._last_lag[destination] = max(seconds, 0.0)

    def lag_for(self, destination: str) -> float | None:
        return self._last_lag.get(destination)

    def record_batch(self, events: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent.append((now, events))
        while self._recent and now - self._recent[0][0] > self._window:
            self._recent.popleft()
        span = max(now - self._recent[0][0], 1.0) if len(self._recent) > 1 else self._window
        self.throughput.labels(self.pipeline_id).set(sum(n for _, n in self._recent) / span)
        self.last_progress = now

    def set_healthy(self, healthy: bool) -> None:
        self.health.labels(self.pipeline_id).set(1 if healthy else 0)

    def healthy(self) -> bool:
        return self.health.labels(self.pipeline_id)._value.get() == 1

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def serve(metrics: Metrics, port: int, host: str = "0.0.0.0", metrics_enabled: bool = True) -> ThreadingHTTPServer:
    """GET /metrics (Prometheus text format) and /healthz (200 while healthy, else 503)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path == "/metrics" and metrics_enabled:
                body, status, ctype = metrics.exposition(), 200, CONTENT_TYPE_LATEST
            elif self.path == "/healthz":
                ok = metrics.healthy()
                body, status, ctype = (b"ok\n" if ok else b"unhealthy\n"), (200 if ok else 503), "text/plain"
            else:
                body, status, ctype = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
