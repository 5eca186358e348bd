"""The Spark backend: the same plan on Apache Spark (local mode, or a cluster via a master URL).

Every step is rendered by our Spark dialect (:mod:`engine.dialects.spark`) and passes the same
statement guard. Views stay views; a step the plan materialises becomes a DataFrame cut loose from
its lineage (``localCheckpoint``) and registered as a temporary view — as Splink does, so Spark's
plans never grow with the number of steps. Staged Parquet is read where it lies (a local path in
local mode, HDFS/S3 on a cluster). Batch fuzzy features run with rapidfuzz inside ``mapInArrow``
(Arrow batches on the executors, never a Python loop over rows on the driver). A model past its
time limit has its Spark jobs cancelled.

Example::

    backend = SparkBackend.start(master=None, temp_dir=Path("runs/.tmp"))   # local[*]
    backend.load_dataset("dibao_payments", Path("runs/staging/datasets/dibao_payments.parquet"))
    clues = backend.run_model(plan)
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from pathlib import Path

import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from sqlglot import exp

from engine.dialects import DIALECTS
from engine.execute.backend import Backend, Interrupted, TimeLimit
from engine.execute.features import compute
from engine.execute.guard import checked_sql
from engine.plan.steps import FeaturesStep, Step, dataset_table

SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.ansi.enabled": "false",  # DuckDB's semantics: NULL for a division by zero, not an error
    "spark.sql.session.timeZone": "UTC",  # dates never shift when a timestamp is cut to a date
    "spark.sql.shuffle.partitions": "8",  # local mode; a cluster sets its own (spark-defaults.conf)
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.showConsoleProgress": "false",
}


class SparkBackend(Backend):
    name = "spark"
    dialect = "spark"

    def __init__(self, spark: SparkSession):
        super().__init__()
        self.spark = spark

    @classmethod
    def start(cls, master: str | None, temp_dir: Path, memory_limit: str | None = None,
              threads: int | None = None) -> SparkBackend:
        """A session on ``master`` (default ``local[threads or *]``); Python workers use this interpreter."""
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        temp_dir.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.master(master or f"local[{threads or '*'}]").appName("lsm")
        for key, value in {**SPARK_CONF, "spark.local.dir": str(temp_dir)}.items():
            builder = builder.config(key, value)
        if memory_limit:
            builder = builder.config("spark.driver.memory", memory_limit)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return cls(spark)

    def close(self) -> None:
        for name in list(self.known):
            self.spark.catalog.dropTempView(name)

    def settings(self) -> dict:
        conf = self.spark.sparkContext.getConf()
        return {"master": conf.get("spark.master"), "spark_version": self.spark.version,
                "driver_memory": conf.get("spark.driver.memory", "1g")}

    def seal(self) -> None:
        # SQL reads no file by path (`SELECT * FROM parquet.`/x``); the guard refuses them too.
        self.spark.conf.set("spark.sql.runSQLOnFiles", "false")

    def engine_errors(self) -> tuple[type[BaseException], ...]:
        return (PySparkException, Py4JError)

    # ------------------------------------------------------------------ primitives

    def execute(self, statement: exp.Expression) -> None:
        """A view is created as a view; a table is computed once and cut from its lineage."""
        checked_sql(statement, self.known, DIALECTS[self.dialect])
        assert isinstance(statement, exp.Create)
        name = statement.this.name
        if statement.kind == "VIEW":
            self._run_sql(checked_sql(statement, self.known, DIALECTS[self.dialect]))
        else:
            frame = self._sql(checked_sql(statement.expression, self.known, DIALECTS[self.dialect]))
            self._register(name, frame.localCheckpoint(eager=True))
        self.known.add(name)

    def _sql(self, sql: str):
        try:
            return self.spark.sql(sql)
        except Py4JError as exc:
            if "cancelled" in str(exc).lower():
                raise Interrupted(str(exc)) from exc
            raise

    def _register(self, name: str, frame) -> None:
        frame.createOrReplaceTempView(name)

    def _run_sql(self, sql: str) -> None:
        self._sql(sql)

    def _fetch_sql(self, sql: str) -> pa.Table:
        return self._sql(sql).toArrow()

    def _rows_sql(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self._sql(sql).collect()]

    def create_from_arrow(self, name: str, table: pa.Table) -> None:
        self._register(name, self.spark.createDataFrame(table).localCheckpoint(eager=True))
        self.known.add(name)

    def load_dataset(self, name: str, parquet: Path) -> None:
        self._register(dataset_table(name), self.spark.read.parquet(str(parquet)))
        self.known.add(dataset_table(name))
        self.loaded.add(name)

    def deadline(self, seconds: float | None, model_id: str) -> JobDeadline:
        return JobDeadline(self.spark, seconds, model_id)

    # ------------------------------------------------------------------ steps

    def run_step(self, step: Step, funnels: dict) -> None:
        if isinstance(step, FeaturesStep):
            self._features(step)
        else:
            super().run_step(step, funnels)

    def _features(self, step: FeaturesStep) -> None:
        """rapidfuzz over Arrow batches on the executors (``mapInArrow``), the schema known up front."""
        source = self.spark.table(step.source)
        requests = list(step.requests)
        sample = compute(pa.Table.from_batches([], schema=_arrow_schema(source)), requests)
        schema = _spark_schema(self.spark, sample.schema)

        def score(batches):
            for batch in batches:
                yield from compute(pa.Table.from_batches([batch]), requests).to_batches()

        self._register(step.name, source.mapInArrow(score, schema).localCheckpoint(eager=True))
        self.known.add(step.name)


def _arrow_schema(frame) -> pa.Schema:
    return frame.limit(0).toArrow().schema


def _spark_schema(spark: SparkSession, schema: pa.Schema):
    return spark.createDataFrame(schema.empty_table()).schema


class JobDeadline(TimeLimit):
    """Spark jobs of one model run under one job group; past the limit the group is cancelled."""

    def __init__(self, spark: SparkSession, seconds: float | None, model_id: str):
        super().__init__(seconds, model_id, time.monotonic)
        self.context = spark.sparkContext
        self.group = f"lsm-{model_id}-{uuid.uuid4().hex[:8]}"
        self.timer: threading.Timer | None = None

    def __enter__(self) -> JobDeadline:
        self.context.setJobGroup(self.group, f"lsm model {self.model_id}", interruptOnCancel=True)
        if self.seconds:
            self.timer = threading.Timer(self.seconds, self.context.cancelJobGroup, [self.group])
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.context.setLocalProperty("spark.jobGroup.id", None)


