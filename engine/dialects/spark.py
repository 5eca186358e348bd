"""Our Spark SQL dialect: sqlglot's Spark dialect with the translations the engine needs fixed.

Filled in with the Spark backend (E7); each fix has a test in tests/test_spark_dialect.py.
"""

from __future__ import annotations

from sqlglot.dialects.spark import Spark


class LsmSpark(Spark):
    class Generator(Spark.Generator):
        pass
