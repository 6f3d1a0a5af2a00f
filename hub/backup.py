"""Backup and restore drill: ``manage.py hub backup <dir>`` and ``manage.py hub restore
<dir>`` (README, "Backup and restore").

A backup directory holds:

- ``database.dump`` — ``pg_dump --format=custom`` on PostgreSQL, or ``database.sqlite3``,
  a consistent copy made with SQLite's online backup API;
- ``media.tar.gz`` — every file under ``MEDIA_ROOT``;
- ``manifest.json`` — the SHA-256 of those two files and of every media file, and the
  row count of every table, so a restore is checked, not hoped for.

``restore`` verifies the archive's checksums before touching anything, loads the
database (``pg_restore --clean --if-exists`` / the backup API in the other direction),
extracts the media (no path may leave ``MEDIA_ROOT``), then compares the restored row
counts and media checksums with the manifest and raises :class:`BackupError` on any
difference.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"


class BackupError(Exception):
    """A backup or restore that cannot be trusted (checksum, count or tool failure)."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_checksums(root: Path | None = None) -> dict[str, str]:
    root = Path(root or settings.MEDIA_ROOT)
    if not root.exists():
        return {}
    return {path.relative_to(root).as_posix(): sha256(path)
            for path in sorted(root.rglob("*")) if path.is_file()}


def row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")


def backup(target: str | Path) -> dict:
    """Write a backup into the directory ``target`` (created; must be empty)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty.")
    vendor = connection.vendor
    counts = row_counts()
    if vendor == "postgresql":
        args, env = _pg_env()
        database = target / PG_DUMP
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args,
              "--file", str(database), connection.settings_dict["NAME"]], env)
    elif vendor == "sqlite":
        database = target / SQLITE_COPY
        connection.ensure_connection()
        destination = sqlite3.connect(database)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    else:
        raise BackupError(f"No backup for the {vendor} database.")
    media_root = Path(settings.MEDIA_ROOT)
    archive = target / MEDIA_ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        if media_root.exists():
            for path in sorted(media_root.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=path.relative_to(media_root).as_posix())
    manifest = {
        "created_at": timezone.now().isoformat(), "vendor": vendor,
        "database": {"file": database.name, "sha256": sha256(database)},
        "media_archive": {"file": archive.name, "sha256": sha256(archive)},
        "media": media_checksums(media_root), "row_counts": counts,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def restore(source: str | Path) -> dict:
    """Restore the backup in ``source`` into the configured (empty or expendable)
    database and ``MEDIA_ROOT``; returns the manifest once every check passed."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"No readable {MANIFEST} in {source}.") from exc
    database = source / manifest["database"]["file"]
    archive = source / manifest["media_archive"]["file"]
    for path, expected in ((database, manifest["database"]["sha256"]),
                           (archive, manifest["media_archive"]["sha256"])):
        if not path.is_file() or sha256(path) != expected:
            raise BackupError(f"{path.name}: missing or checksum mismatch; nothing restored.")
    vendor = connection.vendor
    if vendor != manifest["vendor"]:
        raise BackupError(f"A {manifest['vendor']} backup cannot be restored into {vendor}.")
    if vendor == "postgresql":
        args, env = _pg_env()
        connection.close()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", *args, "--dbname", connection.settings_dict["NAME"],
              str(database)], env)
    else:
        connection.ensure_connection()
        origin = sqlite3.connect(database)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    # The content-type cache must hold the restored rows' ids, and stay warm: an empty
    # cache makes the next lookup insert rows the data may bring back later.
    ContentType.objects.clear_cache()
    ContentType.objects.get_for_models(*apps.get_models(), for_concrete_models=False)
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(media_root, filter="data")  # "data": no absolute or ../ paths
    problems = []
    restored = media_checksums(media_root)
    for name, digest in manifest["media"].items():
        if restored.get(name) != digest:
            problems.append(f"media {name}: checksum differs")
    counts = row_counts()
    for table, expected in manifest["row_counts"].items():
        if counts.get(table) != expected:
            problems.append(f"table {table}: {counts.get(table)} rows, expected {expected}")
    if problems:
        raise BackupError("Restore does not match the backup: " + "; ".join(problems))
    return manifest
