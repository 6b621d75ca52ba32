"""Command line: the Deployment runs `run`, the maintenance CronJob `maintain`; `check-config` is
for CI and operators, `quality` runs the quality checks once without Kafka."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from .config import ConfigError, load_config

# The table and Kafka libraries are imported by the subcommands that use them, so check-config
# answers in a fraction of a second (CI and the stack's preview call it).


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdc-lakehouse", description="Writes Debezium change topics into Delta Lake and Iceberg tables exactly once.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="consume the pipeline's topics and write its tables until SIGTERM")
    maintain = sub.add_parser("maintain", help="Delta VACUUM, Iceberg snapshot expiry and orphan-file removal (seed §9.3)")
    quality = sub.add_parser("quality", help="run the quality checks once and write validation_results")
    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    for p in (run, maintain, quality, check):
        p.add_argument("--config", required=True, help="the YAML or JSON file the stack renders")
    for p in (run, maintain, quality):
        p.add_argument("--pipeline", help="pipeline_id (required when the file has several)")
    run.add_argument("--metrics-host", default="0.0.0.0", help="address of the /metrics and /healthz server")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config)
        if args.command == "check-config":
            print(f"{args.config}: valid ({len(config.pipelines)} pipeline(s))")
            return 0
        pipeline = config.pipeline(args.pipeline)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"cdc-lakehouse: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=pipeline.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    if args.command == "maintain":
        from .maintenance import maintain as run_maintenance

        print(json.dumps(run_maintenance(config, pipeline), indent=2))
        return 0
    if args.command == "quality":
        return _quality_once(config, pipeline)
    return _run(config, pipeline, args.metrics_host)


def _quality_once(config, pipeline) -> int:
    from .pipeline import open_tables
    from .quality import results_table, run_checks, write_results
    from .tables import open_catalog
    from .writer import DestinationWriter


    tables = open_tables(config, pipeline)
    results = []
    for d in pipeline.destinations:
        results += run_checks(pipeline.pipeline_id, DestinationWriter(pipeline.pipeline_id, d, tables[d.name]), None)
    if pipeline.validation_results:
        catalogs = {n: open_catalog(c) for n, c in config.catalogs.items()}
        write_results(results_table(pipeline, catalogs), pipeline.pipeline_id, results)
    for r in results:
        print(f"{r.status:8} {r.validation_type:10} expected {r.expected}, actual {r.actual} {json.dumps(r.details)}")
    return 1 if any(r.status == "FAIL" for r in results) else 0


def _run(config, pipeline, metrics_host: str) -> int:
    from .kafka_io import KafkaDeadLetters, KafkaSource
    from .metrics import Metrics, serve
    from .pipeline import PipelineRunner
    from .quality import QualityLoop

    metrics = Metrics(pipeline.pipeline_id)
    server = serve(metrics, pipeline.health_check_port, metrics_host, pipeline.metrics_enabled)
    source = KafkaSource(config.kafka, pipeline.consumer_group)
    runner = PipelineRunner(config, pipeline, source, KafkaDeadLetters(config.kafka, pipeline.dead_letter_topic), metrics)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    quality = QualityLoop(config, pipeline, runner, metrics) if pipeline.validation_results else None
    if quality:
        quality.start(stop)
    try:
        runner.run(stop)
    finally:
        source.close()
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
