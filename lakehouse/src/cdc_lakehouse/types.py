"""Column types: one small vocabulary shared by the config file, Debezium's Connect schemas and the
two table formats, so a declared type (`decimal(12,2)`) means the same thing everywhere."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

SIMPLE_TYPES = ("string", "int", "long", "boolean", "float", "double", "date", "timestamp", "binary")
TYPE_PATTERN = r"^(string|int|long|boolean|float|double|date|timestamp|binary|decimal\((\d+),\s*(\d+)\))$"
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


@dataclass(frozen=True)
class ColumnType:
    name: str
    precision: int = 0
    scale: int = 0

    @staticmethod
    def parse(text: str) -> "ColumnType":
        text = text.strip().lower()
        m = _DECIMAL.match(text)
        if m:
            return ColumnType("decimal", int(m.group(1)), int(m.group(2)))
        if text not in SIMPLE_TYPES:
            raise ValueError(f'unknown type "{text}"')
        return ColumnType(text)

    def __str__(self) -> str:
        return f"decimal({self.precision},{self.scale})" if self.name == "decimal" else self.name

    def arrow(self, *, zoned_timestamps: bool) -> pa.DataType:
        """Delta's `timestamp` is an instant (UTC); Iceberg's `timestamp` has no zone."""
        if self.name == "decimal":
            return pa.decimal128(self.precision, self.scale)
        if self.name == "timestamp":
            return pa.timestamp("us", tz="UTC") if zoned_timestamps else pa.timestamp("us")
        return {
            "string": pa.string(),
            "int": pa.int32(),
            "long": pa.int64(),
            "boolean": pa.bool_(),
            "float": pa.float32(),
            "double": pa.float64(),
            "date": pa.date32(),
            "binary": pa.binary(),
        }[self.name]

    def widens_to(self, other: "ColumnType") -> bool:
        """The promotions Iceberg's spec allows (and that lose no value)."""
        if self == other:
            return False
        if (self.name, other.name) in {("int", "long"), ("float", "double")}:
            return True
        return self.name == other.name == "decimal" and self.scale == other.scale and other.precision > self.precision


def from_arrow(t: pa.DataType) -> ColumnType:
    if pa.types.is_decimal(t):
        return ColumnType("decimal", t.precision, t.scale)
    if pa.types.is_timestamp(t):
        return ColumnType("timestamp")
    for check, name in (
        (pa.types.is_string, "string"),
        (pa.types.is_large_string, "string"),
        (pa.types.is_int8, "int"),
        (pa.types.is_int16, "int"),
        (pa.types.is_int32, "int"),
        (pa.types.is_int64, "long"),
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_float32, "float"),
        (pa.types.is_float64, "double"),
        (pa.types.is_date32, "date"),
        (pa.types.is_binary, "binary"),
        (pa.types.is_large_binary, "binary"),
    ):
        if check(t):
            return ColumnType(name)
    raise ValueError(f"no column type for Arrow type {t}")
