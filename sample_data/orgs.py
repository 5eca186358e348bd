"""Fake organisations and projects, and the ways agencies write the same one differently.

Companies get a unique trade name (字号) that never begins with a place name, a
valid unified social credit code, an industry and a legal form. Projects get a
unique core name and an optional phase. ``variant`` writes the same company or
project the way another agency would (region prefixes, bracketed regions, other
legal forms, 建筑工程/建工, phase notations) — always the same comparison key of
MODELS.md; ``typo`` changes one character of a long name (a fuzzy match, ratio
≥ 90; ``safe_typo`` keeps the slip away from every other name); ``lookalike`` makes a different entity whose key is more than one
character away (never the same entity).

Example::

    orgs = OrgFactory(random.Random(1))
    c = orgs.company("建筑工程")
    orgs.variant(c.name)      # e.g. '四川鑫源建工（成都）有限责任公司'
"""

from __future__ import annotations

import random
from dataclasses import dataclass

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AREAS = ("510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114", "510115", "510116")

# Trade-name characters; a trade name never starts with a division name (the key would strip it).
TRADE_CHARS = ("鑫源瑞丰鼎润泽嘉禾鸿运博远兴隆顺泰永盛锦绣卓越昊晟煜炜琪璟瑜瀚澜沣淼森焱垚犇骏驰腾飞翔跃凯旋捷诚"
               "义仁德厚朴拓盈富贵祥福禄寿喜乐康宁雅逸致航帆舟桥栋材品精匠筑梦圆融创智慧星辰辉灿晨曦朝霞彩虹峰岭峻"
               "崇巍岳泉溪涧湖泊港湾坤乾元亨贞吉庆蔚碧翠紫银铜锦缎绸织纺印刻雕塑陶瓷玉珍宝璞琳琅")
REGIONS = ("四川省", "四川", "成都市", "成都", "四川省成都市", "成都市锦江区", "锦江区", "青羊区", "天府新区", "高新区")
BRACKETED_REGIONS = ("（成都）", "(成都)", "（四川）", "【成都】")
FORMS = ("有限公司", "有限责任公司")
ESTATES = ("花园", "小区", "家园", "苑", "公馆", "新城", "广场", "大厦", "中心")
WORKS = ("建设项目", "新建工程", "改造工程", "安置房项目", "综合楼工程", "配套工程")
PHASES = ("一", "二", "三", "四", "五")


def credit_code(rng: random.Random, area: str | None = None) -> str:
    """A valid unified social credit code: ``91`` + area + 9-character organisation code + check."""
    body = "91" + (area or rng.choice(AREAS)) + "".join(rng.choice(USCC_ALPHABET) for _ in range(8)) + str(
        rng.randrange(10))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def broken_check(rng: random.Random, code: str) -> str:
    """The same code with a wrong check character (early codes that fail it exist)."""
    return code[:17] + rng.choice([c for c in USCC_ALPHABET if c != code[17]])


@dataclass(frozen=True)
class Company:
    name: str  # the registered name
    trade: str  # 字号
    industry: str
    form: str
    credit_code: str


class OrgFactory:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.trades: set[str] = set()
        self.project_cores: set[str] = set()
        self.codes: set[str] = set()
        self.issued: list[Company] = []
        from engine.ingest.normalize.orgs import division_names

        self._places = set(division_names())

    def _fresh(self, used: set[str], length: int) -> str:
        """A new string from TRADE_CHARS, at least two characters away from every used one of its length."""
        for _ in range(10_000):
            word = "".join(self.rng.choice(TRADE_CHARS) for _ in range(length))
            if self._usable(word, used):
                used.add(word)
                return word
        raise RuntimeError("name space exhausted")

    def _usable(self, word: str, used: set[str]) -> bool:
        if word in used or word[:2] in self._places or word in self._places:
            return False
        return all(sum(a != b for a, b in zip(word, other, strict=True)) >= 2
                   for other in used if len(other) == len(word))

    def code(self) -> str:
        for _ in range(1000):
            code = credit_code(self.rng)
            if code not in self.codes:
                self.codes.add(code)
                return code
        raise RuntimeError("credit-code space exhausted")

    def company(self, industry: str, region: bool | None = None) -> Company:
        trade = self._fresh(self.trades, 3)
        form = self.rng.choice(FORMS)
        prefix = self.rng.choice(REGIONS) if (region if region is not None else self.rng.random() < 0.6) else ""
        company = Company(prefix + trade + industry + form, trade, industry, form, self.code())
        self.issued.append(company)
        return company

    def project(self, phase: bool | None = None) -> str:
        core = self._fresh(self.project_cores, 3)
        name = core + self.rng.choice(ESTATES)
        if phase if phase is not None else self.rng.random() < 0.5:
            name += self.rng.choice(PHASES) + "期"
        return name + self.rng.choice(WORKS)

    # ---------------------------------------------------------------- other writings of the same entity

    def variant(self, name: str) -> str:
        """The same company or project written as another agency would: the same comparison key."""
        rng = self.rng
        out = name
        for region in sorted(REGIONS, key=len, reverse=True):
            if out.startswith(region):
                out = out[len(region):]
                break
        if rng.random() < 0.5:
            out = rng.choice(REGIONS) + out
        for form in ("有限责任公司", "有限公司"):
            if out.endswith(form):
                stem = out[: -len(form)]
                other = "有限公司" if form == "有限责任公司" else "有限责任公司"
                choice = rng.random()
                out = stem + (other if choice < 0.4 else form)
                if choice > 0.7:
                    out = stem + rng.choice(BRACKETED_REGIONS) + (other if choice > 0.85 else form)
                break
        if "建筑工程" in out and rng.random() < 0.5:
            out = out.replace("建筑工程", "建工", 1)
        for numeral in PHASES:
            if f"{numeral}期" in out:
                out = out.replace(f"{numeral}期", rng.choice([f"（{numeral}期）", f"第{numeral}期", f"{numeral}期",
                                                              f"{PHASES.index(numeral) + 1}期", f"({numeral}期)"]), 1)
                break
        return out

    def other_phase(self, project: str) -> str:
        """The same estate's other phase: never the same project."""
        for numeral in PHASES:
            if f"{numeral}期" in project:
                other = PHASES[(PHASES.index(numeral) + 1) % len(PHASES)]
                return project.replace(f"{numeral}期", f"{other}期", 1)
        raise ValueError(f"{project} has no phase")

    def typo(self, name: str, position: int) -> str:
        """One character of the name replaced (a hand-typing slip)."""
        chars = list(name)
        chars[position] = self.rng.choice([c for c in TRADE_CHARS if c != chars[position]])
        return "".join(chars)

    def safe_typo(self, name: str, word: str, position: int) -> str:
        """``typo`` at ``position`` inside ``word`` — the trade name or project core that ``name`` begins
        with — such that the slip is still two characters from every other issued word and does not begin
        with a division name (either would change which entity the comparison key finds)."""
        if not name.startswith(word) or not 0 <= position < len(word):
            raise ValueError(f"{name} does not begin with {word}, or position {position} is outside it")
        used = self.trades if word in self.trades else self.project_cores
        for _ in range(1000):
            out = self.typo(name, position)
            if self._usable(out[: len(word)], used - {word}):
                return out
        raise RuntimeError("no safe typo found")

    def lookalike(self, company: Company) -> Company:
        """Another company in the same industry sharing the first character of the trade name."""
        for _ in range(1000):
            trade = company.trade[0] + "".join(self.rng.choice(TRADE_CHARS) for _ in range(2))
            if self._usable(trade, self.trades):
                self.trades.add(trade)
                other = Company(trade + company.industry + company.form, trade, company.industry, company.form,
                                self.code())
                self.issued.append(other)
                return other
        raise RuntimeError("no look-alike found")
