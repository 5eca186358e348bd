"""M08 wage_deposit: construction permits, wage deposits and wage complaints.

Every written name stands for an entity (a project, a contractor) that the generator knows: a
``variant`` keeps the MODELS.md comparison key, a ``typo`` of a long name is one character off (the
fuzzy level), a look-alike or another phase is another entity. The oracle below reads MODELS.md over
those entities and the written numbers and codes — it never compares strings the way the engine
does — so a planted case that the engine links wrongly shows up as a miss or an extra clue:

* a deposit is linked to a permit by ``permit_no`` when it names one that exists; otherwise when
  the project is the same **and** the contractor is (equal credit codes when both sides have one,
  else the same contractor entity);
* ``missing``: permit_date ≤ A − 30, not completed, no linked deposit;
* ``expired_guarantee``: not cash, guarantee_expires_on < A, not refunded, and no linked permit
  completed on or before the expiry;
* ``arrears_unpaid``: complaint 未办结 filed ≤ A − 30 whose project and employer are a deposit's
  project and contractor, for a deposit never drawn (0 or empty) and not refunded.

Each case states the rules it is planted to fire; oracle and intention must agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sample_data.orgs import Company
from sample_data.scenarios.common import add_years, money

MODEL = "wage_deposit"
GUARANTEES = ("银行保函", "工程担保公司保函", "工程保证保险")
CONTRACTOR_TRADES = ("建筑工程", "建设工程", "建设集团", "市政工程", "建工")


@dataclass(eq=False)
class Project:
    name: str  # as the permit office registered it


@dataclass(eq=False)
class Permit:
    number: str
    project: Project
    contractor: Company
    amount: Decimal
    permit_date: dt.date
    completion: dt.date | None = None
    written_code: str | None = "own"  # 'own': the contractor's code


@dataclass(eq=False)
class Deposit:
    number: str
    project: Project  # the project it is written for (another phase is another project)
    project_written: str
    contractor: Company
    contractor_written: str
    code: str | None  # the credit code as written (None: empty)
    permit_no: str | None  # as written (None: empty)
    form: str
    amount: Decimal
    deposited_on: dt.date
    expires: dt.date | None
    drawn: Decimal | None = None
    refunded: dt.date | None = None


@dataclass(eq=False)
class Complaint:
    number: str
    project: Project
    project_written: str
    employer: Company
    employer_written: str
    workers: int
    owed: Decimal
    filed_on: dt.date
    status: str = "未办结"


@dataclass
class World:
    permits: list[Permit] = field(default_factory=list)
    deposits: list[Deposit] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    intended: list[tuple[str, object]] = field(default_factory=list)  # (rule, permit/deposit/complaint)


# ------------------------------------------------------------------------------------------ the oracle

def _permit_code(p: Permit) -> str | None:
    return p.contractor.credit_code if p.written_code == "own" else p.written_code


def linked_permits(d: Deposit, permits_by_no: dict[str, Permit], by_project: dict[int, list[Permit]]) -> list[Permit]:
    if d.permit_no is not None and d.permit_no in permits_by_no:
        return [permits_by_no[d.permit_no]]
    out = []
    for p in by_project.get(id(d.project), []):
        code = _permit_code(p)
        same_contractor = (d.code == code) if d.code is not None and code is not None else d.contractor is p.contractor
        if same_contractor:
            out.append(p)
    return out


def clues(world: World, as_of: dt.date) -> dict[str, list]:
    permits_by_no = {p.number: p for p in world.permits}
    by_project: dict[int, list[Permit]] = {}
    for p in world.permits:
        by_project.setdefault(id(p.project), []).append(p)
    links = {id(d): linked_permits(d, permits_by_no, by_project) for d in world.deposits}
    linked_ids = {id(p) for ps in links.values() for p in ps}
    due = as_of - dt.timedelta(days=30)
    missing = [p for p in world.permits if p.permit_date <= due and p.completion is None and id(p) not in linked_ids]
    expired = [d for d in world.deposits
               if d.form != "现金存储" and d.expires < as_of and d.refunded is None
               and not any(p.completion is not None and p.completion <= d.expires for p in links[id(d)])]
    open_deposits: dict[tuple[int, int], list[Deposit]] = {}
    for d in world.deposits:
        if not d.drawn and d.refunded is None:
            open_deposits.setdefault((id(d.project), id(d.contractor)), []).append(d)
    arrears = [c for c in world.complaints
               if c.status == "未办结" and c.filed_on <= due and open_deposits.get((id(c.project), id(c.employer)))]
    return {"missing": missing, "expired_guarantee": expired, "arrears_unpaid": arrears}


# ------------------------------------------------------------------------------------------- the cases

class _Maker:
    def __init__(self, build, as_of: dt.date, world: World):
        self.build, self.rng, self.orgs, self.as_of, self.world = build, build.rng, build.orgs, as_of, world
        self.permit_numbers: set[str] = set()

    def contractor(self, region: bool | None = None) -> Company:
        return self.orgs.company(self.rng.choice(CONTRACTOR_TRADES), region)

    def project(self, phase: bool | None = None, long: bool = False) -> Project:
        for _ in range(1000):
            name = self.orgs.project(phase=True if long else phase)
            if not long or len(name) >= 11:
                return Project(name)
        raise RuntimeError("no long project name")

    def permit_no(self, day: dt.date) -> str:
        for _ in range(1000):
            number = f"{self.rng.choice(('510104', '510105', '510106', '510107', '510108'))}{day:%Y%m%d}" \
                     f"{self.rng.randrange(100, 999)}{self.rng.randrange(1, 9)}"
            if number not in self.permit_numbers:
                self.permit_numbers.add(number)
                return number
        raise RuntimeError("permit numbers exhausted")

    def unknown_permit_no(self, real: str) -> str:
        """The number with one digit mistyped: no permit has it."""
        for _ in range(1000):
            i = self.rng.randrange(8, len(real))
            typo = real[:i] + self.rng.choice([d for d in "0123456789" if d != real[i]]) + real[i + 1:]
            if typo not in self.permit_numbers:
                self.permit_numbers.add(typo)  # never issued later either
                return typo
        raise RuntimeError("no unknown number")

    def permit(self, project: Project | None = None, contractor: Company | None = None, days_ago: int | None = None,
               completion: dt.date | None = None, written_code: str | None = "own") -> Permit:
        day = self.as_of - dt.timedelta(days=days_ago if days_ago is not None else self.rng.randrange(60, 1800))
        p = Permit(self.permit_no(day), project or self.project(), contractor or self.contractor(),
                   money(self.build, 5_000_000, 300_000_000), day, completion, written_code)
        self.world.permits.append(p)
        return p

    def deposit(self, p: Permit | None, how: str = "number", *, project: Project | None = None,
                project_written: str | None = None, contractor: Company | None = None,
                contractor_written: str | None = None, code: str | None = "none", form: str | None = None,
                expires: dt.date | None = None, drawn: Decimal | None = None,
                refunded: dt.date | None = None) -> Deposit:
        """A deposit for permit ``p`` written with its number ('number'), without it ('names'), or with a
        mistyped number ('unknown'); every other field may be overridden."""
        rng = self.rng
        project = project or p.project
        contractor = contractor or p.contractor
        form = form or rng.choice(("现金存储", *GUARANTEES))
        day = (p.permit_date if p else self.as_of - dt.timedelta(days=400)) + dt.timedelta(days=rng.randrange(0, 25))
        if form != "现金存储" and expires is None:
            expires = add_years(day, rng.choice((2, 3)))
            if expires < self.as_of + dt.timedelta(days=30):
                expires = self.as_of + dt.timedelta(days=rng.randrange(30, 700))
        d = Deposit(self.build.next_id("BZJ"), project, project_written or self.orgs.variant(project.name), contractor,
                    contractor_written or self.orgs.variant(contractor.name),
                    contractor.credit_code if code == "own" else None if code == "none" else code,
                    p.number if how == "number" else self.unknown_permit_no(p.number) if how == "unknown" else None,
                    form, (p.amount if p else Decimal(50_000_000)) * Decimal("0.02"), day,
                    expires if form != "现金存储" else None, drawn, refunded)
        self.world.deposits.append(d)
        return d

    def complaint(self, d: Deposit, *, project: Project | None = None, project_written: str | None = None,
                  employer: Company | None = None, days_ago: int | None = None, status: str = "未办结") -> Complaint:
        project = project or d.project
        employer = employer or d.contractor
        c = Complaint(self.build.next_id("TS"), project, project_written or self.orgs.variant(project.name), employer,
                      self.orgs.variant(employer.name), self.rng.randrange(3, 150), money(self.build, 8_000, 2_000_000),
                      self.as_of - dt.timedelta(days=days_ago if days_ago is not None else self.rng.randrange(31, 500)),
                      status)
        self.world.complaints.append(c)
        return c

    def typo(self, project: Project) -> str:
        """A one-character slip in the project's core name (ratio ≥ 90 on a key of 11+ characters)."""
        core = project.name[:3]
        return self.orgs.safe_typo(project.name, core, self.rng.randrange(0, 3))

    def intend(self, rule: str, thing) -> None:
        self.world.intended.append((rule, thing))


def _cases(m: _Maker) -> None:
    rng, orgs, as_of = m.rng, m.orgs, m.as_of
    for i in range(3):
        # ---- missing: 30 days is due, 29 is not; completed works need no deposit.
        m.intend("missing", m.permit(days_ago=30))
        m.permit(days_ago=29)
        m.permit(completion=as_of - dt.timedelta(days=rng.randrange(1, 300)))
        m.intend("missing", m.permit())
        # Linked by number; by names without a number; by names under a mistyped number; by equal codes
        # although the contractor is written as another name; a cash deposit; a refunded one.
        m.deposit(m.permit())
        m.deposit(m.permit(), "names")
        m.deposit(m.permit(), "unknown", code="own")
        p = m.permit()
        m.deposit(p, "names", code=p.contractor.credit_code, contractor=orgs.lookalike(p.contractor))
        m.deposit(m.permit(), form="现金存储")
        m.deposit(m.permit(), refunded=as_of - dt.timedelta(days=rng.randrange(1, 200)))
        # The fuzzy level: a one-character slip in a long project name.
        p = m.permit(project=m.project(long=True))
        m.deposit(p, "names", project_written=m.typo(p.project))
        # Not linked: another phase of the estate; the same names but another company's code on both sides;
        # a look-alike contractor.
        p = m.permit(project=m.project(phase=True))
        m.intend("missing", p)
        sibling = Project(orgs.other_phase(p.project.name))
        m.deposit(p, "names", project=sibling)
        p = m.permit()
        m.intend("missing", p)
        m.deposit(p, "names", code=orgs.code())
        p = m.permit()
        m.intend("missing", p)
        m.deposit(p, "names", contractor=orgs.lookalike(p.contractor))

        # ---- expired_guarantee: the day before, the day itself; cash; refunded; completion ≤ / > expiry.
        form = GUARANTEES[i]
        m.intend("expired_guarantee", m.deposit(m.permit(), form=form, expires=as_of - dt.timedelta(days=1)))
        m.deposit(m.permit(), form=form, expires=as_of)
        m.deposit(m.permit(), form="现金存储")
        m.deposit(m.permit(), form=form, expires=as_of - dt.timedelta(days=100),
                  refunded=as_of - dt.timedelta(days=rng.randrange(1, 90)))
        expiry = as_of - dt.timedelta(days=rng.randrange(2, 400))
        m.deposit(m.permit(days_ago=1500, completion=expiry), form=form, expires=expiry)
        m.intend("expired_guarantee", m.deposit(m.permit(days_ago=1500, completion=expiry + dt.timedelta(days=1)),
                                                form=form, expires=expiry))
        m.deposit(m.permit(days_ago=1500, completion=expiry - dt.timedelta(days=30)), "names", form=form,
                  expires=expiry)
        m.intend("expired_guarantee", m.deposit(m.permit(days_ago=1500), "names", form=form, expires=expiry))
        # A guarantee for a project that has no permit at all (linked to nothing): expired, a clue.
        ghost = m.permit(days_ago=1500)
        m.world.permits.remove(ghost)
        m.permit_numbers.discard(ghost.number)
        m.intend("expired_guarantee", m.deposit(ghost, "names", form=form, expires=expiry))

        # ---- arrears_unpaid: 30 days open; 29; 已办结; a drawn deposit; drawn 0 or empty; refunded; another
        # employer (a subcontractor); another phase; a fuzzy project name; one of two deposits drawn.
        d = m.deposit(m.permit(), drawn=None if i % 2 else Decimal(0))
        m.intend("arrears_unpaid", m.complaint(d, days_ago=30))
        m.complaint(d, days_ago=29)
        m.complaint(d, status="已办结")
        m.complaint(m.deposit(m.permit(), drawn=money(m.build, 10_000, 500_000)))
        m.complaint(m.deposit(m.permit(), refunded=as_of - dt.timedelta(days=rng.randrange(1, 60))))
        d = m.deposit(m.permit())
        m.complaint(d, employer=m.contractor())
        p = m.permit(project=m.project(phase=True))
        d = m.deposit(p)
        m.complaint(d, project=Project(orgs.other_phase(p.project.name)))
        p = m.permit(project=m.project(long=True))
        d = m.deposit(p)
        m.intend("arrears_unpaid", m.complaint(d, project_written=m.typo(p.project)))
        p = m.permit()
        m.deposit(p, drawn=money(m.build, 10_000, 500_000))
        d = m.deposit(p, "names")
        m.intend("arrears_unpaid", m.complaint(d))


def _background(m: _Maker) -> None:
    """Lawful projects: deposits made (mostly by number), guarantees current, complaints settled or recent."""
    rng, as_of = m.rng, m.as_of
    for _ in range(max(m.build.scale // 8, 10)):
        completed = rng.random() < 0.3
        p = m.permit(completion=as_of - dt.timedelta(days=rng.randrange(1, 400)) if completed else None)
        d = m.deposit(p, rng.choices(("number", "names"), (85, 15))[0], code=rng.choice(("own", "none")))
        if rng.random() < 0.3:
            m.complaint(d, status="已办结" if rng.random() < 0.7 else "未办结",
                        days_ago=rng.randrange(1, 29) if rng.random() < 0.5 else None)
            if m.world.complaints[-1].status == "未办结" and m.world.complaints[-1].filed_on <= as_of - dt.timedelta(
                    days=30):
                d.drawn = money(m.build, 10_000, 300_000)  # an old open complaint: the deposit was drawn


def plant(build, as_of: dt.date) -> None:
    world = World()
    maker = _Maker(build, as_of, world)
    _cases(maker)
    _background(maker)
    found = clues(world, as_of)
    intended = {(rule, id(thing)) for rule, thing in world.intended}
    got = {(rule, id(thing)) for rule, things in found.items() for thing in things}
    if intended != got:
        raise AssertionError(f"M08 oracle and planted intentions disagree: missing {len(intended - got)}, "
                             f"unexpected {len(got - intended)}")
    for p in world.permits:
        build.add("construction_permits", permit_no=p.number, project_name=p.project.name,
                  contractor_name=p.contractor.name, contractor_credit_code=_permit_code(p),
                  contract_amount=p.amount, permit_date=p.permit_date, completion_filed_on=p.completion)
    for d in world.deposits:
        build.add("wage_deposits", deposit_id=d.number, project_name=d.project_written, permit_no=d.permit_no,
                  contractor_name=d.contractor_written, contractor_credit_code=d.code, form=d.form, amount=d.amount,
                  deposited_on=d.deposited_on, guarantee_expires_on=d.expires, drawn_amount=d.drawn,
                  refunded_on=d.refunded)
    for c in world.complaints:
        build.add("wage_complaints", complaint_id=c.number, project_name=c.project_written,
                  employer_name=c.employer_written, workers=c.workers, amount_owed=c.owed, filed_on=c.filed_on,
                  status=c.status)
    for p in found["missing"]:  # rank: the largest contract first, then the oldest permit
        build.expect(MODEL, p.number, rule="missing", rank_key=[float(p.amount), -p.permit_date.toordinal()])
    for d in found["expired_guarantee"]:  # rank: the largest guarantee first, then the longest expired
        build.expect(MODEL, d.number, d.amount, rule="expired_guarantee",
                     rank_key=[float(d.amount), -d.expires.toordinal()])
    for c in found["arrears_unpaid"]:  # rank: amount owed, then workers (MODELS.md)
        build.expect(MODEL, c.number, c.owed, rule="arrears_unpaid", rank_key=[float(c.owed), c.workers])
