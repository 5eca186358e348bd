"""Finished models' results, kept so a rerun after a crash does not compute them again.

A model's result is a function of its content (the fingerprint: model text, template and engine
version), the engine's own code, the content of its input datasets (every input file's SHA-256 and the dataset's
definition) and the as-of date. When a run finishes a model it stores the clue table under that key
(``<out>/cache/models/<model_id>/<key>.parquet``, written to a temporary name and renamed, with the
match funnels beside it); a later run — typically the rerun of a night that was killed — with the
same key reads it back instead of recomputing. After a run is published only the entries it used
are kept.

Example::

    cache = ModelCache(out_dir / "cache" / "models")
    key = cache.key(plan, ingested, as_of)
    hit = cache.get(plan.model_id, key)          # (clues, funnels) or None
    cache.put(plan.model_id, key, clues, funnels)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engine.atomic import atomic_parquet, atomic_write_bytes
from engine.code_version import code_hash
from engine.ingest.ingest import IngestResult, dataset_fingerprint
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.plan.steps import ModelPlan


class ModelCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    @staticmethod
    def key(plan: ModelPlan, ingested: IngestResult, as_of: dt.date, catalogue) -> str:
        """Model content + input content + as-of date (and nothing else: not the run id, not the time)."""
        rules = OrgKeyRules.of(catalogue.org_name)
        parts = [plan.fingerprint, code_hash(), as_of.isoformat()]
        for name in sorted(plan.datasets):
            d = ingested.dataset(name)
            files = sorted((f.path, f.sha256) for f in d.files)
            parts.append(json.dumps([name, dataset_fingerprint(catalogue.dataset(name), rules), files]))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def _paths(self, model_id: str, key: str) -> tuple[Path, Path]:
        folder = self.root / model_id
        return folder / f"{key}.parquet", folder / f"{key}.json"

    def get(self, model_id: str, key: str) -> tuple[pa.Table, dict] | None:
        table_path, meta_path = self._paths(model_id, key)
        if not (table_path.exists() and meta_path.exists()):
            return None
        try:
            return pq.read_table(table_path), json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, pa.ArrowInvalid):
            return None  # a damaged entry is recomputed, never trusted

    def put(self, model_id: str, key: str, table: pa.Table, funnels: dict) -> None:
        table_path, meta_path = self._paths(model_id, key)
        table_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_parquet(table, table_path)
        # The metadata goes last: an entry counts only when both files are in place.
        atomic_write_bytes(meta_path, json.dumps(funnels, default=str).encode())

    def keep_only(self, used: dict[str, str]) -> None:
        """Drop every entry except ``{model_id: key}`` of the run just published (and models it did not run)."""
        if not self.root.exists():
            return
        for folder in self.root.iterdir():
            if folder.name not in used:
                continue
            for path in folder.iterdir():
                if path.name.split(".")[0] != used[folder.name]:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)
