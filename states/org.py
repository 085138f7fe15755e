"""The organisation: departments (科室) and users, and the lookups the services need."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states.errors import InvalidInput, NotFound
from states.model import ROLES, Department, User
from states.permissions import ROLES_SEEING_ALL, Actor, require
from states.store import transaction

DEPARTMENT_KINDS = ("functional", "clinical", "other")


def department_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Map department names to ids, in the given order.

    Raises:
        NotFound: a name that is not a department; every unknown name is listed.
    """
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not wanted:
        return {}
    rows = session.execute(select(Department.name, Department.id).where(Department.name.in_(wanted)))
    found: dict[str, int] = {name: id_ for name, id_ in rows}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound("科室", "、".join(missing))
    return {n: found[n] for n in wanted}


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("用户", username)
    return user


def actor(session: Session, username: str) -> Actor:
    """Resolve the acting user once, at the edge.

    Raises:
        NotFound: no such user.
    """
    return actor_of(user_by_name(session, username))


def actor_of(u: User) -> Actor:
    return Actor(id=u.id, username=u.username, name=u.name, role=u.role, department_id=u.department_id)


def has_users(session: Session) -> bool:
    return (session.scalar(select(func.count(User.id))) or 0) > 0


@transaction
def add_department(session: Session, actor: Actor | None, name: str, kind: str = "functional") -> Department:
    """Create a department (admin; anyone while the database has no user yet).

    Raises:
        InvalidInput: an empty name, an unknown kind, or a name already taken.
    """
    _require_admin(session, actor)
    name = name.strip()
    if not name:
        raise InvalidInput("科室名称", name, "不能为空")
    if kind not in DEPARTMENT_KINDS:
        raise InvalidInput("科室类型", kind, f"可选值：{', '.join(DEPARTMENT_KINDS)}")
    if session.scalar(select(Department.id).where(Department.name == name)) is not None:
        raise InvalidInput("科室名称", name, "已存在")
    dept = Department(name=name, kind=kind)
    session.add(dept)
    session.flush()
    return dept


@transaction
def add_user(
    session: Session,
    actor: Actor | None,
    *,
    username: str,
    name: str,
    role: str,
    department: str | None = None,
    email: str | None = None,
    title: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user (admin; the very first user may be created by anyone and must be an admin).

    Raises:
        InvalidInput: unknown role, a department member without a department, a taken username,
            an e-mail address without ``@``.
        NotFound: the department does not exist.
    """
    first = not has_users(session)
    if first and role != "admin":
        raise InvalidInput("角色", role, "第一个用户必须是管理员（admin）")
    if not first:
        _require_admin(session, actor)
    _check_user(session, username, role, department, email)
    department = department.strip() if department else None
    dept_id = department_ids(session, [department])[department] if department else None
    user = User(username=username, name=name, role=role, department_id=dept_id, email=email, title=title,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def _check_user(
    session: Session, username: str, role: str, department: str | None, email: str | None
) -> None:
    if not username.strip():
        raise InvalidInput("用户名", username, "不能为空")
    if role not in ROLES:
        raise InvalidInput("角色", role, f"可选值：{', '.join(ROLES)}")
    if role == "department" and not department:
        raise InvalidInput("科室", "", "科室人员必须属于一个科室")
    if email and "@" not in email:
        raise InvalidInput("邮箱", email, "格式不正确")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput("用户名", username, "已存在")


def _require_admin(session: Session, actor: Actor | None) -> None:
    if actor is None:
        if has_users(session):
            raise InvalidInput("操作人", "", "请用 --as 指定操作人")
        return
    require(actor, "manage")


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.id)))


def users(session: Session, actor: Actor) -> list[User]:
    """Users the actor may see: everyone for the office, leaders and admins; a department its own."""
    q = select(User).order_by(User.id)
    if actor.role not in ROLES_SEEING_ALL:
        q = q.where(User.department_id == actor.department_id)
    return list(session.scalars(q))
