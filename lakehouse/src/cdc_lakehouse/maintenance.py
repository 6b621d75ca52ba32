"""Seed §9.3 retention, for the stack's CronJob: Delta VACUUM (and log/change-feed retention through
the table's retention properties), Iceberg snapshot expiry and orphan-file removal."""
from __future__ import annotations

import datetime as dt
import logging

from pyarrow.fs import FileSelector, FileSystem, FileType
from pyiceberg.io.pyarrow import PyArrowFileIO

from .config import Config, Pipeline
from .debezium import UTC
from .pipeline import open_tables
from .tables import DeltaLake, IcebergLake

log = logging.getLogger(__name__)


def maintain(config: Config, pipeline: Pipeline, now: dt.datetime | None = None) -> list[dict]:
    now = now or dt.datetime.now(UTC)
    m = pipeline.maintenance
    report = []
    for name, table in open_tables(config, pipeline).items():
        if not table.exists():
            continue
        if isinstance(table, DeltaLake):
            dt_ = table.table()
            removed = dt_.vacuum(retention_hours=int(m.vacuum_retention_hours), dry_run=False, enforce_retention_duration=False)
            # Delta keeps change-data files with the log: the log retention bounds how long the feed reads back.
            dt_.cleanup_metadata()
            report.append({"table": name, "format": "deltalake", "vacuumed_files": len(removed)})
        elif isinstance(table, IcebergLake):
            expired = expire_snapshots(table, now - dt.timedelta(hours=m.snapshot_retention_hours), m.min_snapshots_to_keep)
            orphans = remove_orphan_files(table, now - dt.timedelta(hours=m.orphan_file_retention_hours))
            report.append({"table": name, "format": "iceberg", "expired_snapshots": expired, "removed_orphan_files": orphans})
    return report


def expire_snapshots(table: IcebergLake, older_than: dt.datetime, keep: int) -> int:
    t = table.table()
    current = t.current_snapshot()
    chain = []
    s = current
    while s is not None:
        chain.append(s.snapshot_id)
        s = t.snapshot_by_id(s.parent_snapshot_id) if s.parent_snapshot_id else None
    protected = set(chain[:keep])
    cutoff_ms = int(older_than.timestamp() * 1000)
    ids = [s.snapshot_id for s in t.snapshots() if s.timestamp_ms < cutoff_ms and s.snapshot_id not in protected]
    if ids:
        t.maintenance.expire_snapshots().by_ids(ids).commit()
    return len(ids)


def remove_orphan_files(table: IcebergLake, older_than: dt.datetime, fs: FileSystem | None = None) -> int:
    """Files under the table's location that no snapshot, manifest, metadata or statistics file
    references and that were last modified before older_than. pyiceberg 0.12 has no orphan-file
    action, so this lists the table's location and deletes through a pyarrow FileSystem: by default
    the one pyiceberg's own FileIO writes the table with (the catalog's `s3.*` properties, else the
    AWS_* environment / default credential chain for s3://; the local file system for paths), so
    local warehouses and object storage take the same code. A file whose age the store does not
    report is kept."""
    t = table.table()
    fs, root = _table_filesystem(t, fs)
    referenced = _referenced_paths(t)
    prefix = root.rstrip("/") + "/"
    cutoff_ns = int(older_than.timestamp() * 1_000_000_000)
    removed = 0
    for info in fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type != FileType.File or not info.path.startswith(prefix) or info.path in referenced:
            continue
        if info.mtime_ns is None:
            log.warning("orphan-file removal: %s reports no modification time, kept", info.path)
            continue
        if info.mtime_ns < cutoff_ns:
            fs.delete_file(info.path)
            removed += 1
    return removed


def _table_filesystem(t, fs: FileSystem | None) -> tuple[FileSystem, str]:
    scheme, netloc, root = PyArrowFileIO.parse_location(t.location())
    if fs is not None:
        return fs, root
    if isinstance(t.io, PyArrowFileIO):
        return t.io.fs_by_scheme(scheme, netloc), root
    return FileSystem.from_uri(t.location())[0], root


def _referenced_paths(t) -> set[str]:
    """Every file the table's metadata still points at, as FileSystem paths (bucket/key on object
    storage, absolute paths locally)."""
    uris = {t.metadata_location, *(e.metadata_file for e in t.metadata.metadata_log)}
    uris |= {s.statistics_path for s in t.metadata.statistics}
    uris |= {s.statistics_path for s in t.metadata.partition_statistics}
    for snapshot in t.snapshots():
        uris.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(t.io):
            uris.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(t.io, discard_deleted=False):
                uris.add(entry.data_file.file_path)
    return {_fs_path(u) for u in uris if u}


def _fs_path(uri: str) -> str:
    return PyArrowFileIO.parse_location(uri)[2]
