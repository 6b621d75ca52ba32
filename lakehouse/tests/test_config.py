import copy
import subprocess
import sys

import pytest
import yaml

from cdc_lakehouse.config import ConfigError, parse_config
from conftest import EXAMPLE, seed_raw


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "test.yaml")
    return e.value.problems


def test_the_seed_example_is_valid(root):
    c = parse_config(seed_raw(root))
    shop = c.pipeline("shop")
    assert [d.name for d in shop.destinations] == ["customers_cdc", "orders_cdc", "customers_analytics"]
    assert shop.health_check_port == 8080 and shop.before_image == "key"
    assert c.pipeline("inventory").before_image == "full"


def test_every_schema_problem_at_once_with_its_path(root):
    raw = seed_raw(root)
    dests = raw["pipelines"][0]["destinations"]
    dests[1]["write_mode"] = "merge"
    del dests[0]["location"]
    dests[0]["partiton_by"] = "day(last_updated)"
    dests[2]["columns"][0]["type"] = "varchar"
    raw["pipelines"][1]["observability"] = {"health_check_port": 0}
    assert problems(raw) == [
        'pipelines[0].destinations[0].partiton_by: unknown key (did you mean "partition_by"?)',
        'pipelines[0].destinations[0]: missing required key "location" (format deltalake needs it)',
        'pipelines[0].destinations[1].write_mode: must be "append" or "upsert", not "merge"',
        'pipelines[0].destinations[2].columns[0].type: unknown type "varchar"; use string, int, long, boolean, float, double, date, timestamp, binary or decimal(p,s)',
        "pipelines[1].observability.health_check_port: must be >= 1, not 0",
    ]


def test_cross_field_rules(root):
    raw = seed_raw(root)
    shop = raw["pipelines"][0]
    shop["destinations"][0]["table_properties"]["delta.columnMapping.mode"] = "name"
    shop["destinations"][0]["sort_by"] = ["customer_id"]
    shop["destinations"][2]["catalog"] = "nowhere"
    shop["destinations"][1]["write_mode"] = "upsert"
    shop["destinations"][1]["metadata_columns"] = ["_cdc_operation"]
    shop["destinations"][1]["quality_checks"][1]["columns"] = ["order_number"]
    raw["pipelines"][1]["pipeline_id"] = "shop"
    got = problems(raw)
    assert got == [
        "pipelines[0].destinations[0].sort_by: Delta tables have no sort order (Iceberg only); remove it",
        'pipelines[0].destinations[0].table_properties.delta.columnMapping.mode: delta-rs 1.6 refuses schema evolution on column-mapped tables ("Schema evolution on column-mapped tables is not yet supported") and cannot read their change data feed; remove it (README "Seed properties a library cannot produce")',
        "pipelines[0].destinations[1].metadata_columns: upsert tables need _cdc_source_lsn (the per-row source position that keeps late and duplicate events from regressing a row)",
        'pipelines[0].destinations[1].quality_checks[1].columns[0]: "order_number" is not among the declared columns',
        'pipelines[0].destinations[2].catalog: "nowhere" is not in catalogs (lakehouse)',
        'pipelines[0].destinations[2].derive.orders_table: "orders_cdc" must name a deltalake append destination of this pipeline (total_orders is counted in its change log)',
        "pipelines[1].pipeline_id: \"shop\" is also pipelines[0]'s id",
    ]


def test_partition_transforms_per_format(root):
    raw = seed_raw(root)
    raw["pipelines"][0]["destinations"][0]["partition_by"] = "month(last_updated)"
    raw["pipelines"][1]["destinations"][0]["partition_by"] = "day(sku)"
    assert problems(raw) == [
        "pipelines[0].destinations[0].partition_by: deltalake partitions by identity(column) or day(column), not month()",
        'pipelines[1].destinations[0].partition_by: day() needs a timestamp or date column; "sku" is string',
    ]


def test_kafka_security_must_agree(root):
    raw = seed_raw(root)
    raw["kafka"]["sasl"] = {"mechanism": "SCRAM-SHA-512", "username": "writer", "password_file": "/run/secrets/p"}
    raw["kafka"]["tls"] = {"ca_file": "/run/ca.crt"}
    assert problems(raw) == [
        'kafka.sasl: needs security_protocol SASL_SSL or SASL_PLAINTEXT, not "PLAINTEXT"',
        'kafka.tls: needs security_protocol SSL or SASL_SSL, not "PLAINTEXT"',
    ]
    raw["kafka"]["security_protocol"] = "SASL_SSL"
    parse_config(raw)


def test_cli_refuses_a_bad_file_with_exit_2(tmp_path):
    raw = yaml.safe_load(EXAMPLE.read_text())
    bad = copy.deepcopy(raw)
    bad["pipelines"][0]["destinations"][0]["format"] = "hudi"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    r = subprocess.run([sys.executable, "-m", "cdc_lakehouse", "check-config", "--config", str(path)], capture_output=True, text=True)
    assert r.returncode == 2
    assert 'pipelines[0].destinations[0].format: must be "deltalake" or "iceberg", not "hudi"' in r.stderr
    ok = subprocess.run([sys.executable, "-m", "cdc_lakehouse", "check-config", "--config", str(EXAMPLE)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
