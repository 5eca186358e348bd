"""Compile one model: a located ``ModelSpec`` in, a :class:`~engine.plan.steps.ModelPlan` out.

The entry point of the compiler package. :class:`~engine.compile.compiler.Compiler` holds the
names in scope and compiles inputs, lookup tables and query relations;
:mod:`engine.compile.matches` compiles ``match`` relations and :mod:`engine.compile.rules` the
rules — both build on the compiler, and only this module puts them together, so the imports run
one way. Pure: no data, no database.

Example::

    plan = compile_model(loaded, catalogue, as_of=date(2024, 6, 30))
    [s.name for s in plan.steps]
"""

from __future__ import annotations

import datetime as dt

from engine import __version__
from engine.compile.compiler import Compiler
from engine.compile.matches import compile_match
from engine.compile.rules import compile_rule
from engine.plan.fingerprint import plan_fingerprint, text_fingerprint
from engine.plan.steps import ModelPlan
from engine.spec.catalog import Catalogue
from engine.spec.errors import SpecError
from engine.spec.load import LoadedModel


def add_relations(compiler: Compiler) -> None:
    """Every relation of the model, in the order written (each may read the ones before it)."""
    for name, spec in compiler.spec.relations.items():
        path = ("relations", name)
        if spec.kind == "merge_intervals":
            info = compiler.merge_intervals(name, spec.merge_intervals, (*path, "merge_intervals"))
        elif spec.kind == "match":
            info = compile_match(compiler, name, spec.match, (*path, "match"))
        elif spec.kind == "union":
            info = compiler.union_relation(name, spec.union, (*path, "union"), spec.description)
        else:
            info = compiler.query_relation(name, spec.query, path, spec.description)
        if info is not None:
            compiler.objects[name] = info


def compile_model(loaded: LoadedModel, catalogue: Catalogue, as_of: dt.date) -> ModelPlan:
    """Compile one model; raises SpecError listing every problem found."""
    compiler = Compiler(loaded, catalogue, as_of)
    compiler.add_inputs()
    compiler.add_tables()
    add_relations(compiler)
    spec = loaded.spec
    plan = ModelPlan(spec.id, spec.version, spec.title.zh, spec.title.en, spec.legal_basis.citation,
                     spec.legal_basis.text, spec.subject_type, spec.datasets, source_file=spec.source_file)
    for i, rule in enumerate(spec.rules):
        rule_plan = compile_rule(compiler, rule, ("rules", i))
        if rule_plan is not None:
            plan.rules.append(rule_plan)
    if compiler.problems:
        raise SpecError(compiler.problems)
    plan.steps = compiler.steps
    plan.fingerprint = plan_fingerprint(plan)
    plan.metadata_fingerprint = text_fingerprint(f"{__version__}\n{loaded.text}")
    return plan
