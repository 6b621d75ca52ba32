"""The independent reader: DuckDB with its own delta (delta-kernel-rs) and iceberg extensions,
loaded from the pinned wheels (signed binaries: DuckDB refuses unsigned ones by default), so no
result is read back through delta-rs or pyiceberg, the libraries that wrote it."""
from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import duckdb_ext

EXTENSIONS = str(Path(list(duckdb_ext.__path__)[0]) / "extensions")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"extension_directory": EXTENSIONS, "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("LOAD delta")
    con.execute("LOAD avro")
    con.execute("LOAD iceberg")
    con.execute("SET TimeZone = 'UTC'")
    return con


def delta_rows(path: str | Path, sql: str = "SELECT * FROM t") -> list[dict]:
    con = connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM delta_scan('{path}')")
    return con.execute(sql).fetch_arrow_table().to_pylist()


def iceberg_metadata(warehouse: Path, namespace: str, table: str) -> str:
    """The newest metadata file of the table, found on disk, not through the catalog."""
    files = sorted(glob.glob(str(warehouse / namespace / table / "metadata" / "*.metadata.json")))
    return files[-1]


def iceberg_rows(warehouse: Path, namespace: str, table: str, sql: str = "SELECT * FROM t") -> list[dict]:
    con = connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM iceberg_scan('{iceberg_metadata(warehouse, namespace, table)}')")
    return con.execute(sql).fetch_arrow_table().to_pylist()
