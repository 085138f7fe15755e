"""Passwords, web sessions and API tokens (登录与令牌).

Passwords are hashed with scrypt (``hashlib.scrypt``: memory-hard, in the standard library) and a
random salt per user. Session cookies and API tokens are random strings given to the client
once; the database keeps only their SHA-256, so a copy of the database logs nobody in.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from states.errors import InvalidInput, NotFound, Unauthenticated
from states.model import ApiToken, User, WebSession
from states.org import actor_of, user_by_name
from states.permissions import Actor, require
from states.store import transaction

#: scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB and ~50 ms per hash on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD = 8
SESSION_HOURS = 12
TOKEN_PREFIX = "rf_"
TOKEN_TOUCH = dt.timedelta(minutes=5)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAXMEM)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=SCRYPT_MAXMEM, dklen=len(expected))  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_new_password(password: str) -> str:
    """The password, or :class:`InvalidInput` when it is too short."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("密码", "******", f"至少 {MIN_PASSWORD} 个字符")
    return password


@transaction
def set_password(session: Session, actor: Actor | None, username: str, password: str) -> None:
    """Set a user's password (admin, or the user themself; anyone while no password exists yet).

    Raises:
        InvalidInput: the password is too short.
        NotFound: no such user.
        PermissionDenied: neither admin nor the user.
    """
    user = user_by_name(session, username)
    anyone = session.scalar(select(User.id).where(User.password_hash.is_not(None)).limit(1)) is None
    if not anyone and (actor is None or actor.id != user.id):
        if actor is None:
            raise InvalidInput("操作人", "", "请用 --as 指定操作人")
        require(actor, "manage")
    user.password_hash = hash_password(check_new_password(password))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A new web session: the cookie value and the form token (CSRF) for this session."""

    token: str
    csrf: str
    actor: Actor


@transaction
def login(session: Session, username: str, password: str, now: dt.datetime,
          hours: int = SESSION_HOURS) -> LoggedIn:  # fmt: skip
    """Check the password and open a session.

    Raises:
        Unauthenticated: unknown user or wrong password (the same message for both).
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password(password, _DUMMY)  # the same work whether or not the user exists
        raise Unauthenticated("用户名或密码错误")
    if not check_password(password, user.password_hash):
        raise Unauthenticated("用户名或密码错误")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf=csrf, created_at=now,
                           expires_at=now + dt.timedelta(hours=hours)))  # fmt: skip
    return LoggedIn(token=token, csrf=csrf, actor=actor_of(user))


_DUMMY = hash_password("dummy-password-for-timing", n=SCRYPT_N)


def session_actor(session: Session, token: str | None, now: dt.datetime) -> tuple[Actor, str] | None:
    """The actor and CSRF token of a live session, or ``None`` (no cookie, unknown, expired)."""
    if not token:
        return None
    row = session.execute(
        select(User, WebSession.csrf)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == _digest(token), WebSession.expires_at > now)
    ).first()
    return None if row is None else (actor_of(row[0]), row[1])


@transaction
def logout(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


@dataclass(frozen=True, slots=True)
class NewToken:
    """A created API token: shown once, never stored in clear."""

    id: int
    token: str
    username: str


@transaction
def create_token(session: Session, actor: Actor | None, username: str, name: str, now: dt.datetime) -> NewToken:
    """Create an API token acting as ``username`` (admin).

    Raises:
        NotFound: no such user.
        PermissionDenied: the actor is not an admin.
    """
    if actor is None:
        raise InvalidInput("操作人", "", "请用 --as 指定管理员")
    require(actor, "manage")
    user = user_by_name(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip() or "api", token_hash=_digest(token), created_at=now)
    session.add(row)
    session.flush()
    return NewToken(id=row.id, token=token, username=user.username)


@transaction
def revoke_token(session: Session, actor: Actor | None, token_id: int, now: dt.datetime) -> None:
    if actor is None:
        raise InvalidInput("操作人", "", "请用 --as 指定管理员")
    require(actor, "manage")
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("令牌", token_id)
    row.revoked_at = row.revoked_at or now


def tokens(session: Session, actor: Actor) -> list[ApiToken]:
    require(actor, "manage")
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def token_actor(session: Session, token: str | None, now: dt.datetime) -> Actor:
    """The actor of a live API token; records when it was last used.

    Raises:
        Unauthenticated: missing, unknown or revoked token.
    """
    if not token:
        raise Unauthenticated("缺少接口令牌（Authorization: Bearer …）")
    row = session.execute(
        select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthenticated("接口令牌无效或已吊销")
    user, token_id, last_used = row
    if last_used is None or now - last_used > TOKEN_TOUCH:  # one write per token per few minutes, not per request
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.commit()
    return actor_of(user)
