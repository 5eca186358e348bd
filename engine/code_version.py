"""A hash of the engine's own source code (``engine/`` and ``connectors/``).

Caches key on it — staged files, finished models' results — so that a patched installation never
reuses what older code computed (the version number alone would not notice a patch).

Example::

    code_hash()   # '076080116132fcd4'
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    digest = hashlib.sha256()
    for package in ("engine", "connectors"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
