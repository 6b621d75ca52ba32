"""Reads the sandbox's lakehouse tables with DuckDB's own delta and iceberg extensions, never through
delta-rs or pyiceberg, the libraries that wrote them: the independent reader of the demo and the e2e tests.

    python sandbox/lakehouse_read.py TABLES_JSON "SQL" ["SQL" ...]

TABLES_JSON maps each table name to {"format": "deltalake", "path": DIR} or {"format": "iceberg",
"path": METADATA_JSON}; each becomes a view of that name. Prints one JSON list of rows per statement.
"""
from __future__ import annotations

import datetime
import decimal
import json
import sys
from pathlib import Path

import duckdb
import duckdb_ext


def connect(tables: dict[str, dict[str, str]]) -> duckdb.DuckDBPyConnection:
    extensions = str(Path(list(duckdb_ext.__path__)[0]) / "extensions")
    con = duckdb.connect(config={"extension_directory": extensions, "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    for ext in ("delta", "avro", "iceberg"):
        con.execute(f"LOAD {ext}")
    con.execute("SET TimeZone = 'UTC'")
    for name, t in tables.items():
        scan = "delta_scan" if t["format"] == "deltalake" else "iceberg_scan"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {scan}('{t['path']}')")
    return con


def plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def main(argv: list[str]) -> int:
    tables = json.loads(Path(argv[1]).read_text())
    con = connect(tables)
    for sql in argv[2:]:
        # Through Arrow: DuckDB's own conversion of TIMESTAMPTZ values to Python needs pytz, which is not installed.
        rows = con.execute(sql).fetch_arrow_table().to_pylist()
        print(json.dumps([{n: plain(v) for n, v in row.items()} for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
