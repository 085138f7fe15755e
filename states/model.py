"""The SQLAlchemy model (typed ORM) of notices, items, departments, users and their records.

Times are stored as UTC (:class:`UTCDateTime`); calendar dates (received, due, closed) are
plain dates in the office's time zone. Item state is written only by :mod:`states.service`;
``version`` is SQLAlchemy's ``version_id_col``, so every UPDATE of an item checks the version
it was read at and a concurrent change surfaces as ``StaleDataError`` (turned into
:class:`states.errors.Conflict` by the service).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES: tuple[str, ...] = ("office", "department", "leader", "admin")
ROLE_LABELS = {"office": "督查办", "department": "科室人员", "leader": "院领导", "admin": "管理员"}
DEPARTMENT_ROLES: tuple[str, ...] = ("lead", "cooperating")
EXTENSION_STATUSES: tuple[str, ...] = ("pending", "approved", "denied")
TARGETS: tuple[str, ...] = ("measures_due", "completion_due")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime, stored naive-UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC time")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dt.date: Date(), dict[str, Any]: JSON()}


class Department(Base):
    """A department (科室 / 股室 / 处室): a unit that leads or helps with items."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: "functional" (职能科室), "clinical" (临床科室) or "other"; 各职能科 expands over a kind.
    kind: Mapped[str] = mapped_column(String(20), default="functional")


class User(Base):
    """A person who acts in the engine, with one role."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('office','department','leader','admin')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    """``scrypt$n$r$p$salt$hash`` (see :mod:`states.auth`); ``None``: the user cannot log in."""
    department: Mapped[Department | None] = relationship()


class Notice(Base):
    """The source document (通报 / 督查反馈 / 考评结果) whose problems become items."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(200))
    doc_number: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    items: Mapped[list[Item]] = relationship(back_populates="notice", order_by="Item.seq")


class ItemDepartment(Base):
    """Links an item to a lead (牵头) or cooperating (配合) department."""

    __tablename__ = "item_departments"
    __table_args__ = (CheckConstraint("role IN ('lead','cooperating')", name="role"),)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[Department] = relationship(lazy="joined")


class Item(Base):
    """One problem to rectify (整改事项), with its targets and lifecycle state."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(
            "state IN ('issued','assigned','measures_filed','verified','closed','withdrawn')", name="state"
        ),
        UniqueConstraint("notice_id", "seq"),
        # (state, measures_due, completion_due) also serves "no measures target, completion due in a window".
        Index("ix_items_state_measures_due", "state", "measures_due", "completion_due"),
        Index("ix_items_state_completion_due", "state", "completion_due"),
        # Covers the closure counts (states.queries._counts: an index scan, not a table scan) and the
        # dashboard's closures since a day (state = 'closed' AND closed_on >= …).
        Index("ix_items_state_closed_on", "state", "closed_on", "completion_due", "measures_due"),
        # A notice's items by state: "does this notice still have an open item?" on every closure
        # (the report request) is a few index seeks, not a walk past the notice's closed items.
        Index("ix_items_notice_id_state", "notice_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    seq: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    lead_leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the lead leader's name as an imported list wrote it, when no user of that name exists
    lead_leader_name: Mapped[str | None] = mapped_column(String(100))
    standard: Mapped[str | None] = mapped_column(Text)
    """考核标准 / 评分标准, from an imported list."""
    points: Mapped[float | None]
    """The indicator's score (分值), from an imported list."""
    responsible: Mapped[str | None] = mapped_column(String(100))
    """责任人, as written."""
    proposed_measures: Mapped[list[str] | None] = mapped_column(JSON)
    """整改措施 proposed by the notice text for the item's area."""
    state: Mapped[str] = mapped_column(String(20), default="issued")
    version: Mapped[int] = mapped_column(Integer, default=1)
    start_on: Mapped[dt.date]
    measures_rule: Mapped[str | None] = mapped_column(String(40))
    measures_due: Mapped[dt.date | None]
    completion_rule: Mapped[str | None] = mapped_column(String(40))
    completion_due: Mapped[dt.date | None]
    #: a due date was computed over a year without official calendar data
    provisional: Mapped[bool] = mapped_column(default=False)
    measures: Mapped[str | None] = mapped_column(Text)
    measures_filed_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    notice: Mapped[Notice] = relationship(back_populates="items")
    departments: Mapped[list[ItemDepartment]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(ItemDepartment.role.desc(), ItemDepartment.department_id)",
    )
    lead_leader: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def lead_names(self) -> list[str]:
        return [d.department.name for d in self.departments if d.role == "lead"]

    @property
    def cooperating_names(self) -> list[str]:
        return [d.department.name for d in self.departments if d.role == "cooperating"]


class ItemEvent(Base):
    """Append-only record of everything done to an item: who, when, from, to, why."""

    __tablename__ = "item_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]
    actor: Mapped[User | None] = relationship()


class Extension(Base):
    """A request to move one target of an item (延期申请) and its decision."""

    __tablename__ = "extensions"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','denied')", name="status"),
        CheckConstraint("target IN ('measures_due','completion_due')", name="target"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    target: Mapped[str] = mapped_column(String(20))
    current_due: Mapped[dt.date | None]
    requested_due: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


class Evidence(Base):
    """A file filed as proof of measures (佐证材料); the bytes live at ``stored_path``."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("item_events.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime]


class OutboxMessage(Base):
    """A message to deliver (发件箱), written in the same transaction as what caused it.

    ``key`` makes every message unique (item, target, level, due date, recipient, channel for
    escalation levels; the event for transition notices), so writing it twice adds nothing.
    ``digest_key`` groups what one recipient gets on one channel and day into one delivery.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sending','sent','dead','cancelled')", name="status"),
        Index("ix_outbox_status_due_at", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(20))
    due: Mapped[dt.date | None]
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    digest_key: Mapped[str] = mapped_column(String(400))
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class Escalation(Base):
    """A rung of the ladder an item reached (升级记录): its pending target hit a level on a scan day.

    The daily scan writes one row per item, target, level and due date (the deadline version; an
    approved extension gives a new one), unique, so a second scan of the day adds nothing. The
    fan-out (:func:`states.escalation.fan_out`) turns each row into the outbox messages of the
    level's recipients, with keys (item, target, level, due date, recipient, channel); ``fanout``
    holds the token of the fan-out that claimed the row (``NULL`` until then).

    ``item_id`` is deliberately not a foreign key: rows are written only by the scan's
    ``INSERT … SELECT`` from ``items`` (which are never deleted), and SQLite's check reads the
    item's table page for every row, which tripled the scan on a million items.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("item_id", "target", "level", "due"),
        Index("ix_escalations_fanout", "fanout"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int]
    target: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    due: Mapped[dt.date]
    due_at: Mapped[dt.datetime]
    """When the level's messages go out (the send time of the scan's working day)."""
    created_at: Mapped[dt.datetime]
    fanout: Mapped[str | None] = mapped_column(String(32))


class Tick(Base):
    """A scheduled job's claim on one tick: the first process to insert the row runs the job."""

    __tablename__ = "ticks"
    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    tick: Mapped[dt.datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[dt.datetime]
    claimed_by: Mapped[str] = mapped_column(String(100))


class WebSession(Base):
    """A logged-in browser (登录会话): the cookie holds the token, the table its SHA-256."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class ApiToken(Base):
    """An API token (接口令牌), created from the CLI; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    user: Mapped[User] = relationship()


class ReportRequest(Base):
    """A rectification report to write (整改报告待生成), queued when a notice's last open item is done.

    The report job (embedded scheduler or Prefect flow) writes the files and tells the office.
    """

    __tablename__ = "report_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending','done','failed')", name="status"),
        UniqueConstraint("notice_id", "event_id"),
        Index("ix_report_requests_status", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("item_events.id"))
    """The closing or withdrawing event that left the notice with no open item."""
    requested_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    done_at: Mapped[dt.datetime | None]
    files: Mapped[list[str] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Failed attempts so far; a failed attempt is retried at ``retry_at`` until the limit."""
    retry_at: Mapped[dt.datetime | None]


RESULT_STATUSES: tuple[str, ...] = ("filed", "verified", "rejected")
ASSESSMENT_KINDS: tuple[str, ...] = ("bonus", "veto")


class IndicatorResult(Base):
    """A reported value of one assessment indicator (考核指标结果) for a period, and the office's decision.

    One row per ``(period, code)``: filing again (after a rejection, or before the office decided)
    updates the row in place and appends the earlier filing, with its decision, to ``history``.
    ``version`` is the row's revision (SQLAlchemy's version check: a concurrent change fails).
    """

    __tablename__ = "indicator_results"
    __table_args__ = (
        CheckConstraint("status IN ('filed','verified','rejected')", name="status"),
        UniqueConstraint("period", "code"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    """The indicator's code in the scoring rules."""
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    """The filing department (the indicator's responsible department when it was filed)."""
    value: Mapped[str] = mapped_column(String(50))
    """``true`` / ``false`` (done or not), or an exact decimal written as text."""
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Evidence files: ``{file_name, sha256, size, stored_path}`` each."""
    status: Mapped[str] = mapped_column(String(20), default="filed")
    version: Mapped[int] = mapped_column(Integer, default=1)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    """核验意见, or the reason of a rejection (退回原因)."""
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Earlier filings of this row, oldest first, each with its decision."""

    department: Mapped[Department] = relationship(lazy="joined")
    filer: Mapped[User] = relationship(foreign_keys=[filed_by], lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class AssessmentRecord(Base):
    """A bonus (加分事项) or veto (否决事项) the office recorded for a department and period."""

    __tablename__ = "assessment_records"
    __table_args__ = (
        CheckConstraint("kind IN ('bonus','veto')", name="kind"),
        Index("ix_assessment_records_period_department_id", "period", "department_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))
    """The bonus or veto code in the scoring rules."""
    level: Mapped[str | None] = mapped_column(String(50))
    """级别 of a bonus by level (市级/省级/国家级); ``None`` otherwise."""
    count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """Who withdrew a mistaken record (撤销); a revoked record is kept and no longer counts."""
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    department: Mapped[Department] = relationship(lazy="joined")


class Scorecard(Base):
    """A computed scorecard (考核评分表) of one department, kept with the rules it was computed by.

    ``data`` is :meth:`states.scoring.Scorecard.as_dict` (every line and the explanation);
    ``rules_sha256`` is the SHA-256 of the rules file's bytes, so a past score can be shown later
    with exactly the rules it used.
    """

    __tablename__ = "scorecards"
    __table_args__ = (Index("ix_scorecards_period_department", "period", "department"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(100))
    """The department as the rules name it (it need not exist in the database)."""
    rules_version: Mapped[str] = mapped_column(String(50))
    rules_sha256: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime]
    computed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    total: Mapped[str] = mapped_column(String(20))
    """The total as an exact decimal text (``87.5``)."""
    grade: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]]
