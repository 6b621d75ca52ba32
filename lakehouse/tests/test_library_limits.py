"""Evidence for the seed properties the pinned libraries cannot produce (README). If one of these
starts failing after an upgrade, the limit is gone: revisit the config rule and the README."""
import datetime as dt

import pyarrow as pa
import pytest
from deltalake import DeltaTable, Field, Schema, write_deltalake
from deltalake.exceptions import DeltaError
from deltalake.schema import PrimitiveType


def _rows(extra=None):
    cols = {"id": pa.array([1], pa.int64()), "ts": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)], pa.timestamp("us", tz="UTC"))}
    cols.update(extra or {})
    return pa.table(cols)


def test_delta_rs_cannot_evolve_a_column_mapped_table(tmp_path):
    path = str(tmp_path / "mapped")
    DeltaTable.create(path, Schema([Field("id", PrimitiveType("long")), Field("ts", PrimitiveType("timestamp"))]), configuration={"delta.columnMapping.mode": "name", "delta.enableChangeDataFeed": "true"})
    write_deltalake(path, _rows(), mode="append")
    with pytest.raises(DeltaError, match="Schema evolution on column-mapped tables is not yet supported"):
        write_deltalake(path, _rows({"new_column_added": pa.array(["x"])}), mode="append", schema_mode="merge")
    with pytest.raises(DeltaError, match="Column mapping is not supported for read operation 'CHANGE DATA FEED scans'"):
        DeltaTable(path).load_cdf(starting_version=0).read_all()
    # and its pyarrow reader ignores the mapping: the values come back NULL
    assert DeltaTable(path).to_pyarrow_table().to_pylist() == [{"id": None, "ts": None}]


def test_delta_rs_cannot_widen_a_column(tmp_path):
    path = str(tmp_path / "narrow")
    write_deltalake(path, pa.table({"v": pa.array([1], pa.int32())}))
    with pytest.raises(Exception, match="Can.t cast value 1099511627776 to type Int32"):
        write_deltalake(path, pa.table({"v": pa.array([2**40], pa.int64())}), mode="append", schema_mode="merge")
