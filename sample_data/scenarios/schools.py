"""M10 school_staff_offender: serving school staff against criminal judgments.

The oracle, from MODELS.md: a ``school_staff`` row with ``employment_status = 在职`` is a clue when the
same person has a judgment for one of the listed charges. Same person: equal valid ID numbers; where the
judgment has no ID number, equal name and equal birth date (the one inside the staff member's ID). An ID
that fails its check character never matches — neither by equality nor through the name fallback (the
fallback is only for judgments *without* an ID). Rank: 猥亵儿童罪/强奸罪 first, then the most recent
judgment. Confidence (this model's choice): 1.0 when a judgment matched by ID, 0.9 when only by name and
birth date.

``criminal_judgments`` is shared with M06: only the M10 charges and plainly unrelated ones
(故意伤害罪, 盗窃罪, 诈骗罪) are added here, never a food-safety charge.
"""

from __future__ import annotations

import datetime as dt

from sample_data.people import Person
from sample_data.scenarios.common import add_judgment, rand_date, sequence_typo

MODEL = "school_staff_offender"
CHILD_CHARGES = ("猥亵儿童罪", "强奸罪")
OTHER_LISTED = ("负有照护职责人员性侵罪", "强制猥亵、侮辱罪", "组织卖淫罪", "强迫卖淫罪", "引诱、容留、介绍卖淫罪",
                "引诱幼女卖淫罪", "虐待被监护、看护人罪", "拐卖妇女、儿童罪", "拐骗儿童罪")
LISTED = CHILD_CHARGES + OTHER_LISTED
UNRELATED = ("故意伤害罪", "盗窃罪", "诈骗罪")
INSTITUTIONS = ("锦江区实验小学", "青羊区东城根街小学", "武侯区第二幼儿园", "成都市启航教育培训学校有限公司",
                "金牛区星辰艺术培训学校", "成华区双林中学", "高新区芳草小学", "成都市锦城外国语学校",
                "天府新区华阳中学", "龙泉驿区阳光幼儿园", "成都市青苗体育培训中心", "郫都区红光小学")
POSITIONS = ("教师", "教师", "班主任", "保安", "校车司机", "保育员", "宿管员", "食堂员工", "教练", "辅导老师")
CARE_DUTY_SINCE = dt.date(2021, 3, 1)  # 负有照护职责人员性侵罪 exists since 刑法修正案（十一）


def add_staff(build, p: Person, status: str = "在职", institution: str | None = None,
              id_number: str | None = None, as_of: dt.date | None = None) -> None:
    hired = rand_date(build, dt.date(2005, 9, 1), (as_of or dt.date(2024, 6, 30)) - dt.timedelta(days=30))
    build.add("school_staff", staff_id=build.next_id("JZ"), institution=institution or build.rng.choice(INSTITUTIONS),
              person_name=p.name, id_number=id_number or p.id_number, position=build.rng.choice(POSITIONS),
              hired_on=hired, employment_status=status)


def _sentence(build, charge: str) -> tuple[str, str]:
    if charge in LISTED:
        options = ["有期徒刑"] * 6 + ["拘役"]
        if charge in ("强奸罪", "拐卖妇女、儿童罪"):
            options.append("无期徒刑")
        sentence = build.rng.choice(options)
    else:
        sentence = build.rng.choice(("有期徒刑", "有期徒刑", "拘役", "管制", "单处罚金", "免予刑事处罚"))
    probation = "是" if sentence in ("有期徒刑", "拘役") and build.rng.random() < 0.3 else "否"
    return sentence, probation


def add_offence(build, name: str, id_number: str | None, birth: dt.date, charge: str,
                effective_on: dt.date) -> None:
    sentence, probation = _sentence(build, charge)
    add_judgment(build, name, id_number, birth, charge, effective_on, sentence, probation)


def _effective(build, as_of: dt.date, charge: str) -> dt.date:
    first = CARE_DUTY_SINCE if charge == "负有照护职责人员性侵罪" else dt.date(2006, 1, 1)
    return rand_date(build, first, as_of - dt.timedelta(days=60))


def _expect(build, p: Person, judgments: list[tuple[str, dt.date]], by_id: bool) -> None:
    child = 1 if any(charge in CHILD_CHARGES for charge, _ in judgments) else 0
    latest = max(on for _, on in judgments)
    build.expect(MODEL, p.id_number, None, rank_key=[child, latest.toordinal()], confidence=1.0 if by_id else 0.9)


def plant(build, as_of: dt.date) -> None:
    """Add the rows and expected clues of this model."""
    per_kind = 3
    for kind in ("id_child", "id_listed", "name_birth", "two_judgments", "moved", "two_posts", "resigned",
                 "out_of_scope", "other_birth", "other_id", "judgment_invalid_id", "staff_invalid_id"):
        for i in range(per_kind):
            p = build.pop.person(born=(1960, 1998))
            charge = build.rng.choice(CHILD_CHARGES if kind == "id_child" else
                                      OTHER_LISTED if kind == "id_listed" else LISTED)
            on = _effective(build, as_of, charge)
            if kind in ("id_child", "id_listed"):
                add_staff(build, p, as_of=as_of)
                add_offence(build, p.name, p.id_number, p.birth, charge, on)
                _expect(build, p, [(charge, on)], by_id=True)
            elif kind == "name_birth":  # the judgment has no ID: equal name and birth date
                add_staff(build, p, as_of=as_of)
                add_offence(build, p.name, None, p.birth, charge, on)
                _expect(build, p, [(charge, on)], by_id=False)
            elif kind == "two_judgments":  # one clue; both judgments in its evidence
                second = build.rng.choice(LISTED)
                second_on = _effective(build, as_of, second)
                add_staff(build, p, as_of=as_of)
                add_offence(build, p.name, p.id_number, p.birth, charge, on)
                add_offence(build, p.name, None, p.birth, second, second_on)
                _expect(build, p, [(charge, on), (second, second_on)], by_id=True)
            elif kind == "moved":  # left one school, now serving at another: a clue through the 在职 row
                first, now = build.rng.sample(INSTITUTIONS, 2)
                add_staff(build, p, "离职", institution=first, as_of=as_of)
                add_staff(build, p, "在职", institution=now, as_of=as_of)
                add_offence(build, p.name, p.id_number, p.birth, charge, on)
                _expect(build, p, [(charge, on)], by_id=True)
            elif kind == "two_posts":  # serving at two institutions: still one clue per person
                for institution in build.rng.sample(INSTITUTIONS, 2):
                    add_staff(build, p, institution=institution, as_of=as_of)
                by_id = i % 2 == 0  # matched by ID, or (no ID) by name and birth date
                add_offence(build, p.name, p.id_number if by_id else None, p.birth, charge, on)
                _expect(build, p, [(charge, on)], by_id=by_id)
            elif kind == "resigned":  # 离职: no clue
                add_staff(build, p, "离职", as_of=as_of)
                add_offence(build, p.name, p.id_number, p.birth, build.rng.choice(CHILD_CHARGES), on)
            elif kind == "out_of_scope":  # general crimes are not on the list, by ID or by name and birth date
                add_staff(build, p, as_of=as_of)
                add_offence(build, p.name, p.id_number, p.birth, build.rng.choice(UNRELATED), on)
                add_offence(build, p.name, None, p.birth, build.rng.choice(UNRELATED), on - dt.timedelta(days=400))
            elif kind == "other_birth":  # same name, no ID, another birth date: another person
                add_staff(build, p, as_of=as_of)
                shift = build.rng.choice((-1, 1)) * build.rng.randrange(1, 800)
                add_offence(build, p.name, None, p.birth + dt.timedelta(days=shift), charge, on)
            elif kind == "other_id":  # same name and birth date, but the judgment names another (valid) ID
                add_staff(build, p, as_of=as_of)
                twin = build.pop.id_for(p.birth, female=p.gender == "女")
                add_offence(build, p.name, twin, p.birth, charge, on)
            elif kind == "judgment_invalid_id":  # the judgment's ID fails its check: no equality, no fallback
                add_staff(build, p, as_of=as_of)
                add_offence(build, p.name, sequence_typo(build, p.id_number), p.birth, charge, on)
            elif kind == "staff_invalid_id":  # the staff row's ID fails its check: it never joins, not even
                # through a judgment without an ID (the typo sits in the sequence, so the birth date is intact)
                add_staff(build, p, id_number=sequence_typo(build, p.id_number), as_of=as_of)
                add_offence(build, p.name, p.id_number if i % 2 == 0 else None, p.birth, charge, on)
    _background(build, as_of)


def _background(build, as_of: dt.date) -> None:
    """Staff without any judgment, and judgments of people who are not staff."""
    for _ in range(max(build.scale // 4, 20)):
        p = build.pop.person(born=(1960, 2002))
        add_staff(build, p, "在职" if build.rng.random() < 0.85 else "离职", as_of=as_of)
    for _ in range(max(build.scale // 4, 20)):
        p = build.pop.person(born=(1955, 2002))
        charge = build.rng.choice(LISTED + UNRELATED * 3)
        add_offence(build, p.name, p.id_number if build.rng.random() < 0.7 else None, p.birth, charge,
                     _effective(build, as_of, charge))
