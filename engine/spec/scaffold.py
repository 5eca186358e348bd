"""``lsm new``: the text of a new model file — a scaffold to fill in, or a working copy of a model.

Pure: text in, text out (the CLI writes the file). A scaffold validates as it is (one input, one
rule, a summary, a score) and carries one test that fails until the analyst writes the rows it should
catch: ``lsm test`` says so. A copy (``--like``) is the other model's file with the new id: it
validates and passes its tests at once, and is where a changed rule is tried (``lsm backtest``).

Example::

    text = scaffold_text("elderly_allowance_after_death")
    text = copied_text(Path("models/deceased_pension.yaml").read_text(), "deceased_pension_v2")
"""

from __future__ import annotations

import re

from engine.spec.names import name_problem
from engine.spec.schema import first_line

SCAFFOLD = '''{schema_line}
# {model_id}: 新模型（请填写名称、说明、法律依据、规则与测试）
id: {model_id}
version: "0.1.0"
title:
  zh: 待填写：模型名称
  en: "TODO: model title"
description: >
  待填写：本模型碰撞哪些数据、发现什么问题、依据哪条规定。
owner: 待填写：负责部门
legal_basis:
  citation: 待填写：法律依据（如《社会救助暂行办法》第十三条）
  text: 待填写：条文摘录
subject_type: person

inputs:
  payments:
    dataset: dibao_payments          # 换成所需的数据集：lsm sources 列出全部 / pick datasets: lsm sources
    where: id_number_valid
    description: 身份证号有效的发放记录

rules:
  - id: default
    title: 待填写：规则名称
    from: payments
    clue:
      subject_id: payments.id_number
      subject_name: any_value(payments.person_name)
      amount: sum(payments.amount)
      period_start: min(payments.pay_month)
      period_end: max(payments.pay_month)
      values:
        months: count(DISTINCT payments.pay_month)
      summary: "{{subject_name}}（身份证号 {{subject_id:masked}}）{{period_start:month}}至{{period_end:month}}共{{months}}个月领取{{amount:yuan}}。"
    score:
      signals:
        amount: {{value: amount, scale: max, weight: 100, label: 金额}}
      rank_by: [amount DESC]

tests:
  - name: 待填写：应当发现的情形（给出数据与期望线索）/ TODO — the rows this model must catch
    as_of: 2024-06-30
    given:
      dibao_payments: []
    expect:
      - {{subject_id: "510104198001010014", rule: default}}
'''


def id_problem(model_id: str) -> str | None:
    return name_problem(model_id, "model id")


def scaffold_text(model_id: str) -> str:
    return SCAFFOLD.format(schema_line=first_line("model"), model_id=model_id)


def copied_text(source: str, model_id: str) -> str:
    """The source model's file with its top-level ``id:`` replaced (comments and layout kept)."""
    copied, count = re.subn(r"^id:[ \t]*\S+[ \t]*$", f"id: {model_id}", source, count=1, flags=re.MULTILINE)
    if count != 1:
        raise ValueError("the model file has no top-level 'id:' line")
    if not copied.startswith("# yaml-language-server:"):
        copied = first_line("model") + "\n" + copied
    return copied
