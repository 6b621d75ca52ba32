"""The writer's configuration file: read, checked against schema/writer-config.schema.json (the
contract the Pulumi stack renders against) and against the rules a schema cannot express, with
every problem reported at once, each under its path (`pipelines[0].destinations[1].write_mode`)."""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .types import ColumnType

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "writer-config.schema.json"
DEFAULT_METADATA_COLUMNS = ("_cdc_operation", "_cdc_timestamp", "_cdc_source_lsn")
DELTA_TRANSFORMS = ("identity", "day")
ICEBERG_TRANSFORMS = ("identity", "year", "month", "day", "hour")


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        n = len(problems)
        super().__init__(f"Invalid writer configuration {source} ({n} problem{'s' if n != 1 else ''}):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False


@dataclass(frozen=True)
class Partition:
    transform: str
    column: str


@dataclass(frozen=True)
class QualityCheck:
    type: str
    enabled: bool = True
    tolerance: float = 0.01
    columns: tuple[str, ...] = ()
    threshold_seconds: float | None = None


@dataclass(frozen=True)
class Destination:
    name: str
    format: str
    topic: str
    write_mode: str
    primary_key: tuple[str, ...]
    location: str | None = None
    storage_options: dict[str, str] = field(default_factory=dict)
    catalog: str | None = None
    namespace: str | None = None
    partition: Partition | None = None
    sort_by: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    columns: tuple[Column, ...] = ()
    metadata_columns: tuple[str, ...] = DEFAULT_METADATA_COLUMNS
    source_system_label: str | None = None
    table_properties: dict[str, str] = field(default_factory=dict)
    derive_orders_table: str | None = None
    quality_checks: tuple[QualityCheck, ...] = ()


@dataclass(frozen=True)
class Catalog:
    name: str
    uri: str
    warehouse: str
    password_file: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Kafka:
    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password_file: str | None = None


@dataclass(frozen=True)
class SchemaRegistry:
    """The Confluent-compatible API of the registry the Avro converter writes to (Apicurio: <base>/apis/ccompat/v7)."""

    url: str
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    username_file: str | None = None
    password_file: str | None = None


@dataclass(frozen=True)
class Maintenance:
    vacuum_retention_hours: float = 168
    change_data_feed_retention_hours: float = 168
    snapshot_retention_hours: float = 168
    orphan_file_retention_hours: float = 168
    min_snapshots_to_keep: int = 1


@dataclass(frozen=True)
class ValidationResults:
    format: str
    name: str = "validation_results"
    location: str | None = None
    catalog: str | None = None
    namespace: str | None = None
    interval_seconds: int = 60


@dataclass(frozen=True)
class Pipeline:
    pipeline_id: str
    system: str
    before_image: str
    dead_letter_topic: str
    consumer_group: str
    destinations: tuple[Destination, ...]
    max_records: int = 5000
    max_wait_ms: int = 1000
    logging_level: str = "INFO"
    metrics_enabled: bool = True
    health_check_port: int = 8080
    validation_results: ValidationResults | None = None
    maintenance: Maintenance = Maintenance()

    def destination(self, name: str) -> Destination:
        return next(d for d in self.destinations if d.name == name)


@dataclass(frozen=True)
class Config:
    kafka: Kafka
    catalogs: dict[str, Catalog]
    pipelines: tuple[Pipeline, ...]
    # how Kafka Connect writes the data topics: "json" (JsonConverter with schemas) or "avro" (Confluent framing)
    serialization: str = "json"
    schema_registry: SchemaRegistry | None = None

    def pipeline(self, pipeline_id: str | None) -> Pipeline:
        if pipeline_id is None:
            if len(self.pipelines) != 1:
                raise ValueError(f"the file has {len(self.pipelines)} pipelines; choose one with --pipeline ({', '.join(p.pipeline_id for p in self.pipelines)})")
            return self.pipelines[0]
        for p in self.pipelines:
            if p.pipeline_id == pipeline_id:
                return p
        raise ValueError(f'no pipeline "{pipeline_id}" in the file ({", ".join(p.pipeline_id for p in self.pipelines)})')


def load_config(path: str | Path) -> Config:
    text = Path(path).read_text()
    try:
        raw = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise ConfigError(str(path), [f"cannot parse the file: {e}"]) from e
    return parse_config(raw, str(path))


def parse_config(raw: Any, source: str = "") -> Config:
    problems = schema_problems(raw)
    if problems:
        raise ConfigError(source, problems)
    problems = rule_problems(raw)
    if problems:
        raise ConfigError(source, problems)
    return _build(raw)


_SCHEMA: dict | None = None


def writer_schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = json.loads(SCHEMA_PATH.read_text())
    return _SCHEMA


def schema_problems(raw: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(writer_schema())
    return sorted({m for e in validator.iter_errors(raw) for m in _messages(e)})


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _quote_list(values) -> str:
    quoted = [json.dumps(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _messages(e: jsonschema.ValidationError) -> list[str]:
    if e.validator == "additionalProperties":
        allowed = sorted((e.schema.get("properties") or {}).keys())
        out = []
        for k in (x for x in e.instance if x not in allowed):
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (allowed: {', '.join(allowed)})"
            out.append(f"{_path(list(e.absolute_path) + [k])}: unknown key{hint}")
        return out
    return [_message(e)]


def _message(e: jsonschema.ValidationError) -> str:
    path = _path(e.absolute_path)
    v = e.validator
    if v == "required":
        missing = re.search(r"'([^']+)' is a required property", e.message)
        key = missing.group(1) if missing else e.message
        why = ""
        if "then" in e.schema_path and isinstance(e.instance, dict) and "format" in e.instance:
            why = f' (format {e.instance["format"]} needs it)'
        elif "then" in e.schema_path and isinstance(e.instance, dict) and "type" in e.instance:
            why = f' (check {e.instance["type"]} needs it)'
        return f'{path}: missing required key "{key}"{why}'
    if v == "enum":
        return f"{path}: must be {_quote_list(e.validator_value)}, not {json.dumps(e.instance)}"
    if v == "const":
        return f"{path}: must be {json.dumps(e.validator_value)}"
    if v == "type":
        article = {"object": "an object", "array": "a list", "integer": "an integer", "string": "a string", "number": "a number", "boolean": "true or false"}
        return f"{path}: must be {article.get(e.validator_value, e.validator_value)}, not {json.dumps(e.instance)}"
    if v == "pattern":
        if path.endswith(".type"):
            return f'{path}: unknown type {json.dumps(e.instance)}; use string, int, long, boolean, float, double, date, timestamp, binary or decimal(p,s)'
        if path.endswith("partition_by"):
            return f"{path}: {json.dumps(e.instance)} must be a column or transform(column) with transform identity, year, month, day or hour"
        return f"{path}: {json.dumps(e.instance)} does not match {e.validator_value}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"{path}: must be {op} {e.validator_value}, not {json.dumps(e.instance)}"
    if v == "minItems":
        return f"{path}: must have at least {e.validator_value} item{'s' if e.validator_value != 1 else ''}"
    if v == "minLength":
        return f"{path}: must not be empty"
    if v == "uniqueItems":
        return f"{path}: must not repeat an item"
    return f"{path}: {e.message}"


def parse_partition(text: str) -> Partition:
    m = re.match(r"^(identity|year|month|day|hour)\((\w+)\)$", text)
    return Partition(m.group(1), m.group(2)) if m else Partition("identity", text)


def rule_problems(raw: dict) -> list[str]:
    """Cross-field rules; the input already satisfies the JSON Schema."""
    problems: list[str] = []
    catalogs = raw.get("catalogs", {})
    kafka = raw["kafka"]
    protocol = kafka.get("security_protocol", "PLAINTEXT")
    if "sasl" in kafka and not protocol.startswith("SASL_"):
        problems.append(f'kafka.sasl: needs security_protocol SASL_SSL or SASL_PLAINTEXT, not "{protocol}"')
    if "tls" in kafka and protocol not in ("SSL", "SASL_SSL"):
        problems.append(f'kafka.tls: needs security_protocol SSL or SASL_SSL, not "{protocol}"')
    registry = raw.get("schema_registry")
    if raw.get("serialization", "json") == "avro" and registry is None:
        problems.append('schema_registry: required when serialization is "avro" (the writer reads each record\'s schema from it by id)')
    if registry and "tls" in registry and not registry["url"].startswith("https://"):
        problems.append(f'schema_registry.tls: needs an https:// url, not "{registry["url"]}"')
    seen_ids: dict[str, int] = {}
    for i, p in enumerate(raw["pipelines"]):
        at = f"pipelines[{i}]"
        if p["pipeline_id"] in seen_ids:
            problems.append(f'{at}.pipeline_id: "{p["pipeline_id"]}" is also pipelines[{seen_ids[p["pipeline_id"]]}]\'s id')
        seen_ids.setdefault(p["pipeline_id"], i)
        system = p["source"]["system"]
        vr = p.get("validation_results")
        if vr and vr["format"] == "iceberg" and vr.get("catalog") not in catalogs:
            problems.append(f'{at}.validation_results.catalog: "{vr.get("catalog")}" is not in catalogs ({", ".join(sorted(catalogs)) or "none declared"})')
        by_name: dict[str, int] = {}
        for j, d in enumerate(p["destinations"]):
            problems += _destination_problems(f"{at}.destinations[{j}]", d, system, catalogs)
            if d["name"] in by_name:
                problems.append(f'{at}.destinations[{j}].name: "{d["name"]}" is also destinations[{by_name[d["name"]]}]\'s name')
            by_name.setdefault(d["name"], j)
        for j, d in enumerate(p["destinations"]):
            derive = d.get("derive")
            if not derive:
                continue
            orders = next((o for o in p["destinations"] if o["name"] == derive["orders_table"]), None)
            if orders is None or orders["format"] != "deltalake" or orders["write_mode"] != "append":
                problems.append(f'{at}.destinations[{j}].derive.orders_table: "{derive["orders_table"]}" must name a deltalake append destination of this pipeline (total_orders is counted in its change log)')
            elif orders.get("table_properties", {}).get("delta.enableChangeDataFeed") != "true":
                problems.append(f'{at}.destinations[{j}].derive.orders_table: "{derive["orders_table"]}" needs table_properties delta.enableChangeDataFeed "true" (its change feed tells which customers to recount)')
    return problems


def _destination_problems(at: str, d: dict, system: str, catalogs: dict) -> list[str]:
    problems: list[str] = []
    fmt = d["format"]
    declared = {c["name"]: c for c in d.get("columns", [])}
    meta = d.get("metadata_columns", list(DEFAULT_METADATA_COLUMNS))
    if fmt == "iceberg" and d.get("catalog") not in catalogs:
        problems.append(f'{at}.catalog: "{d.get("catalog")}" is not in catalogs ({", ".join(sorted(catalogs)) or "none declared"})')
    if fmt == "deltalake" and d.get("sort_by"):
        problems.append(f"{at}.sort_by: Delta tables have no sort order (Iceberg only); remove it")
    if fmt == "deltalake" and d.get("table_properties", {}).get("delta.columnMapping.mode", "none") != "none":
        problems.append(
            f"{at}.table_properties.delta.columnMapping.mode: delta-rs 1.6 refuses schema evolution on column-mapped tables "
            '("Schema evolution on column-mapped tables is not yet supported") and cannot read their change data feed; remove it (README "Seed properties a library cannot produce")'
        )
    if d["write_mode"] == "upsert" and "_cdc_source_lsn" not in meta:
        problems.append(f"{at}.metadata_columns: upsert tables need _cdc_source_lsn (the per-row source position that keeps late and duplicate events from regressing a row)")
    if any(m.startswith("_cdc_binlog_") for m in meta) and system not in ("mysql", "mariadb"):
        problems.append(f"{at}.metadata_columns: _cdc_binlog_file/_cdc_binlog_position need a mysql or mariadb source, not {system}")
    if "_source_system" in meta and not d.get("source_system_label"):
        problems.append(f'{at}.source_system_label: required when metadata_columns has _source_system (seed: "postgres_cdc")')
    for k, c in enumerate(d.get("columns", [])):
        if c["name"] in meta:
            problems.append(f'{at}.columns[{k}].name: "{c["name"]}" is a metadata column the writer fills; list it in metadata_columns only')
    if declared:
        names = set(declared) | set(meta)
        for k, col in enumerate(d["primary_key"]):
            if col not in declared:
                problems.append(f'{at}.primary_key[{k}]: "{col}" is not among the declared columns')
        for k, q in enumerate(d.get("quality_checks", [])):
            for m, col in enumerate(q.get("columns", [])):
                if col not in names:
                    problems.append(f'{at}.quality_checks[{k}].columns[{m}]: "{col}" is not among the declared columns')
        for k, s in enumerate(d.get("sort_by", [])):
            if s.split(" ")[0] not in names:
                problems.append(f'{at}.sort_by[{k}]: "{s.split(" ")[0]}" is not among the declared columns')
    if "partition_by" in d:
        part = parse_partition(d["partition_by"])
        allowed = DELTA_TRANSFORMS if fmt == "deltalake" else ICEBERG_TRANSFORMS
        if part.transform not in allowed:
            problems.append(f"{at}.partition_by: {fmt} partitions by {' or '.join(f'{t}(column)' for t in allowed)}, not {part.transform}()")
        if declared:
            col = declared.get(part.column)
            if col is None and part.column not in meta:
                problems.append(f'{at}.partition_by: "{part.column}" is not among the declared columns')
            elif col is not None and part.transform != "identity" and ColumnType.parse(col["type"]).name not in ("timestamp", "date"):
                problems.append(f'{at}.partition_by: {part.transform}() needs a timestamp or date column; "{part.column}" is {col["type"]}')
    derive = d.get("derive")
    if derive:
        if d["write_mode"] != "upsert":
            problems.append(f"{at}.write_mode: a customers_analytics table is current state; must be \"upsert\"")
        if not declared:
            problems.append(f"{at}.columns: a derived table must declare its columns")
    return problems


def _build(raw: dict) -> Config:
    k = raw["kafka"]
    kafka = Kafka(
        bootstrap_servers=k["bootstrap_servers"],
        security_protocol=k.get("security_protocol", "PLAINTEXT"),
        ca_file=k.get("tls", {}).get("ca_file"),
        cert_file=k.get("tls", {}).get("cert_file"),
        key_file=k.get("tls", {}).get("key_file"),
        sasl_mechanism=k.get("sasl", {}).get("mechanism"),
        sasl_username=k.get("sasl", {}).get("username"),
        sasl_password_file=k.get("sasl", {}).get("password_file"),
    )
    catalogs = {
        name: Catalog(name, c["uri"], c["warehouse"], c.get("password_file"), dict(c.get("properties", {})))
        for name, c in raw.get("catalogs", {}).items()
    }
    pipelines = []
    for p in raw["pipelines"]:
        system = p["source"]["system"]
        obs = p.get("observability", {})
        batch = p.get("batch", {})
        vr = p.get("validation_results")
        pipelines.append(
            Pipeline(
                pipeline_id=p["pipeline_id"],
                system=system,
                before_image=p["source"].get("before_image", "key" if system == "postgres" else "full"),
                dead_letter_topic=p["dead_letter_topic"],
                consumer_group=p.get("consumer_group", f"lakehouse-{p['pipeline_id']}"),
                destinations=tuple(_destination(d) for d in p["destinations"]),
                max_records=batch.get("max_records", 5000),
                max_wait_ms=batch.get("max_wait_ms", 1000),
                logging_level=obs.get("logging_level", "INFO"),
                metrics_enabled=obs.get("metrics_enabled", True),
                health_check_port=obs.get("health_check_port", 8080),
                validation_results=ValidationResults(**vr) if vr else None,
                maintenance=Maintenance(**p.get("maintenance", {})),
            )
        )
    r = raw.get("schema_registry")
    registry = (
        SchemaRegistry(
            url=r["url"],
            ca_file=r.get("tls", {}).get("ca_file"),
            cert_file=r.get("tls", {}).get("cert_file"),
            key_file=r.get("tls", {}).get("key_file"),
            username=r.get("basic_auth", {}).get("username"),
            username_file=r.get("basic_auth", {}).get("username_file"),
            password_file=r.get("basic_auth", {}).get("password_file"),
        )
        if r
        else None
    )
    return Config(kafka, catalogs, tuple(pipelines), raw.get("serialization", "json"), registry)


def _destination(d: dict) -> Destination:
    return Destination(
        name=d["name"],
        format=d["format"],
        topic=d["topic"],
        write_mode=d["write_mode"],
        primary_key=tuple(d["primary_key"]),
        location=d.get("location"),
        storage_options=dict(d.get("storage_options", {})),
        catalog=d.get("catalog"),
        namespace=d.get("namespace"),
        partition=parse_partition(d["partition_by"]) if "partition_by" in d else None,
        sort_by=tuple((s.split(" ")[0], s.endswith(" DESC")) for s in d.get("sort_by", [])),
        columns=tuple(Column(c["name"], ColumnType.parse(c["type"]), c.get("required", False)) for c in d.get("columns", [])),
        metadata_columns=tuple(d.get("metadata_columns", DEFAULT_METADATA_COLUMNS)),
        source_system_label=d.get("source_system_label"),
        table_properties=dict(d.get("table_properties", {})),
        derive_orders_table=(d.get("derive") or {}).get("orders_table"),
        quality_checks=tuple(
            QualityCheck(q["type"], q.get("enabled", True), q.get("tolerance", 0.01), tuple(q.get("columns", ())), q.get("threshold_seconds"))
            for q in d.get("quality_checks", [])
        ),
    )
