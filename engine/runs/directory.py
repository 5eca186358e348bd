"""Run directories: ids, the exclusive lock, atomic publication, ``latest``, history.

A run is built in ``OUT/.incoming/<run_id>/`` and renamed to ``OUT/<run_id>/``
only when every file is written; ``OUT/latest`` (a symbolic link) is then
swapped atomically. A killed run leaves only a hidden ``.incoming`` folder,
removed by the next run. One run at a time per output directory: the lock is
an ``flock`` on ``OUT/.lock`` (released by the kernel if the process dies).

Example::

    with RunLock(out):
        run_dir = start_run(out, run_id)
        ...
        publish(out, run_id)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import secrets
import shutil
from pathlib import Path

INCOMING = ".incoming"


class LockHeld(Exception):
    """Another process holds the lock on this output directory."""


class RunLock:
    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / ".lock"
        self.fh = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown process"
            fh.close()
            raise LockHeld(f"another lsm run holds the lock on {self.path.parent} ({holder}); "
                           f"wait for it to finish — nothing was run") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "since": dt.datetime.now().isoformat(timespec="seconds")}))
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.fh.seek(0)
            self.fh.truncate()
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def start_run(out_dir: Path, run_id: str) -> Path:
    """A fresh hidden work directory for the run; stale ones (from killed runs) are removed, their
    logs kept as ``OUT/logs/<run_id>.interrupted.jsonl`` (what the killed run had done)."""
    incoming = Path(out_dir) / INCOMING
    if incoming.exists():
        for stale in incoming.iterdir():
            log = stale / "log.jsonl"
            if log.exists():
                (Path(out_dir) / "logs").mkdir(exist_ok=True)
                os.replace(log, Path(out_dir) / "logs" / f"{stale.name}.interrupted.jsonl")
            shutil.rmtree(stale, ignore_errors=True)
    work = incoming / run_id
    work.mkdir(parents=True)
    return work


def publish(out_dir: Path, run_id: str, make_latest: bool = True) -> Path:
    """Move the finished run into place, then point ``latest`` at it (atomic rename of a symlink)."""
    out_dir = Path(out_dir)
    work = out_dir / INCOMING / run_id
    final = out_dir / run_id
    _fsync_dir(work)
    os.replace(work, final)
    _fsync_dir(out_dir)
    if make_latest:
        link_tmp = out_dir / f".latest.{run_id}"
        if link_tmp.is_symlink() or link_tmp.exists():
            link_tmp.unlink()
        os.symlink(run_id, link_tmp)
        os.replace(link_tmp, out_dir / "latest")
        _fsync_dir(out_dir)
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_run(out_dir: Path) -> Path | None:
    link = Path(out_dir) / "latest"
    return link.resolve() if link.is_symlink() else None


def run_dirs(out_dir: Path) -> list[Path]:
    """Published runs (with a manifest), oldest first."""
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return []
    found = [p for p in out_dir.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
             and (p / "manifest.json").exists()]
    return sorted(found, key=lambda p: p.name)
