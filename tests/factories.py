"""Readable factories: the organisation of seed 000 and notices/items shaped like it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from states import intake, org, service
from states.model import Item
from states.permissions import Actor

DEPARTMENTS = ("医务科", "输血科", "感染管理科", "药剂科", "财务科", "人事科", "医患关系科", "物价科")


@dataclass(frozen=True)
class Org:
    admin: Actor
    office: Actor
    leader: Actor
    medical: Actor
    """A member of 医务科."""
    pharmacy: Actor
    """A member of 药剂科."""


def build_org(session: Session) -> Org:
    for name in DEPARTMENTS:
        org.add_department(session, None, name)
    org.add_user(session, None, username="admin", name="系统管理员", role="admin")
    admin = org.actor(session, "admin")
    people = [
        ("jxb", "王敏", "office", None),
        ("fyz", "张卫东", "leader", None),
        ("yz", "李建国", "leader", None),
        ("ywk", "赵立新", "department", "医务科"),
        ("yjk", "周海", "department", "药剂科"),
    ]
    for username, name, role, dept in people:
        org.add_user(
            session,
            admin,
            username=username,
            name=name,
            role=role,
            department=dept,
            email=f"{username}@hospital.example.cn",
        )
    a = {u: org.actor(session, u) for u in ("jxb", "fyz", "ywk", "yjk")}
    return Org(admin=admin, office=a["jxb"], leader=a["fyz"], medical=a["ywk"], pharmacy=a["yjk"])


def notice(
    session: Session, env: service.Env, o: Org, now: dt.datetime, received: dt.date | None = None
) -> int:
    n = intake.create_notice(
        session,
        env,
        o.office,
        now,
        title="关于20xx年县级公立医院综合绩效考评情况的通报",
        issuer="xx县卫生健康委员会",
        doc_number="x卫健医[2026]5号",
        received_on=received or now.date(),
    )
    return n.id


def item_spec(
    title: str = "临床输血管理不规范",
    lead: Sequence[str] = ("医务科",),
    coop: Sequence[str] = (),
    measures: str | None = "workdays:10",
    completion: str | None = "workdays:25",
    category: str = "医疗方面",
    start: dt.date | None = None,
    leader: str | None = None,
) -> intake.ItemSpec:
    return intake.ItemSpec(
        lead_leader=leader,
        category=category,
        title=title,
        lead_departments=list(lead),
        cooperating_departments=list(coop),
        measures_rule=measures,
        completion_rule=completion,
        start_on=start,
    )


def item(session: Session, env: service.Env, o: Org, now: dt.datetime, **kw: object) -> Item:
    """One item of a new notice, in state ``issued``."""
    nid = notice(session, env, o, now)
    (it,) = intake.create_items(session, env, nid, [item_spec(**kw)], o.office, now)  # type: ignore[arg-type]
    return it


def drive(session: Session, env: service.Env, o: Org, item_id: int, upto: str, now: dt.datetime) -> None:
    """Move an item along the main path (from wherever it is) until it reaches ``upto``."""
    steps = {
        "issued": (service.assign, o.office, {}),
        "assigned": (service.file_measures, o.medical, {"measures": "已组织全员培训"}),
        "measures_filed": (service.verify, o.office, {}),
        "verified": (service.close, o.office, {}),
    }
    while (state := service.get_item(session, item_id).state) != upto:
        fn, who, kw = steps[state]
        fn(session, env, item_id, who, now, **kw)
