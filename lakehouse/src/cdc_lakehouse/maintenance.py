"""Seed §9.3 retention, for the stack's CronJob: Delta VACUUM (and log/change-feed retention through
the table's retention properties), Iceberg snapshot expiry and orphan-file removal."""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from urllib.parse import urlparse

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


def remove_orphan_files(table: IcebergLake, older_than: dt.datetime) -> int:
    """Files under the table's location that no snapshot, manifest or metadata file references.
    pyiceberg 0.12 has no orphan-file action, so this walks the table: local file systems only
    (object storage would list through its own API; not run here)."""
    t = table.table()
    location = urlparse(t.location())
    if location.scheme not in ("", "file"):
        raise NotImplementedError(f"orphan-file removal lists local paths only, not {location.scheme}://")
    referenced = {_local(t.metadata_location)}
    referenced |= {_local(e.metadata_file) for e in t.metadata.metadata_log}
    for snapshot in t.snapshots():
        referenced.add(_local(snapshot.manifest_list))
        for manifest in snapshot.manifests(t.io):
            referenced.add(_local(manifest.manifest_path))
            for entry in manifest.fetch_manifest_entry(t.io, discard_deleted=False):
                referenced.add(_local(entry.data_file.file_path))
    cutoff = older_than.timestamp()
    removed = 0
    for dirpath, _, files in os.walk(location.path):
        for f in files:
            path = str(Path(dirpath) / f)
            if path not in referenced and os.path.getmtime(path) < cutoff:
                os.remove(path)
                removed += 1
    return removed


def _local(uri: str) -> str:
    return urlparse(uri).path if uri.startswith("file:") else uri
