"""``connections.yaml`` in a data root: datasets served from a database instead of files.

```yaml
datasets:
  dibao_payments:
    postgres: {dsn_env: LSM_PG_DSN, table: public.dibao_payments}   # or: query: "SELECT …"
```

The connection string comes only from the named environment variable (never written in the file).
A table is ``[schema.]table`` of plain names; a query must be one ``SELECT`` (checked with sqlglot
here, and it runs in a read-only transaction). Problems are located (``connections.yaml:3:5``).

Example::

    connections = load_connections(Path("data"))      # {} when the data root has no connections.yaml
    connections["dibao_payments"].postgres.table       # 'public.dibao_payments'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import sqlglot
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlglot import exp
from sqlglot.errors import SqlglotError

from engine.spec.errors import SpecError
from engine.spec.names import Name
from engine.spec.yamlfile import load_located, pydantic_problems

FILE_NAME = "connections.yaml"
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?")
_ENV = re.compile(r"[A-Z_][A-Z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostgresSpec(_Strict):
    dsn_env: str
    table: str | None = None
    query: str | None = None

    @field_validator("dsn_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not _ENV.fullmatch(value):
            raise ValueError(f"'{value}' is not an environment variable name (upper case, e.g. LSM_PG_DSN)")
        return value

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE.fullmatch(value):
            raise ValueError(f"'{value}' is not a table name: [schema.]table of letters, digits and _")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            statements = [s for s in sqlglot.parse(value, read="postgres") if s is not None]
        except SqlglotError as exc:
            raise ValueError(f"the query does not parse: {str(exc).splitlines()[0]}") from None
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise ValueError("the query must be exactly one SELECT")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> PostgresSpec:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table or query")
        return self

    @property
    def label(self) -> str:
        """How the manifest names the source: ``postgresql:<table>`` or ``postgresql:query:<hash>``."""
        if self.table:
            return f"postgresql:{self.table}"
        return f"postgresql:query:{hashlib.sha256(self.query.encode()).hexdigest()[:12]}"


class ConnectionSpec(_Strict):
    postgres: PostgresSpec


class ConnectionsFile(_Strict):
    datasets: dict[Name, ConnectionSpec]


def load_connections(data_root: Path) -> dict[str, ConnectionSpec]:
    """The data root's database sources by dataset; raises SpecError (located) for a broken file."""
    path = Path(data_root) / FILE_NAME
    if not path.is_file():
        return {}
    doc = load_located(path, str(path))
    try:
        return dict(ConnectionsFile.model_validate(doc.data).datasets)
    except ValidationError as exc:
        raise SpecError(pydantic_problems(doc, exc, model=ConnectionsFile)) from exc
