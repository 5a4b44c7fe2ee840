"""Accounts and sign-in: register, login, refresh (rotation with reuse detection), logout, me."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.deps import CurrentUser, Resources, Session
from api.errors import ApiError, responses, unauthorized
from api.ratelimit import client_key
from api.security import hash_password, new_refresh_token, refresh_token_digest, verify_password
from schema.models import AuthSession, RefreshToken, User, UserPublic, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class Credentials(BaseModel):
    email: str = Field(max_length=255, examples=["climber@example.com"])
    password: str = Field(min_length=1, max_length=128)

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        value = value.strip().lower()
        if not _EMAIL.match(value):
            raise ValueError("is not an email address")
        return value


class Registration(Credentials):
    password: str = Field(min_length=10, max_length=128, description="10 to 128 characters.")


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    #: Seconds until the access token expires.
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class RegisteredUser(TokenPair):
    user: UserPublic


async def _open_session(resources: Resources, session: Session, user: User) -> TokenPair:
    """Start a sign-in session with its first refresh token; the caller commits."""
    auth_session = AuthSession(user_id=user.id)
    session.add(auth_session)
    refresh, digest = new_refresh_token()
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_sha256=digest,
            expires_at=utcnow() + timedelta(seconds=resources.settings.refresh_token_ttl_s),
        )
    )
    access = resources.tokens.issue_access(user.id, auth_session.id, user.role)
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=resources.tokens.access_ttl_s
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisteredUser,
    responses=responses(409, 422, 429),
)
async def register(
    body: Registration, request: Request, resources: Resources, session: Session
) -> RegisteredUser:
    """Create a freemium account and sign it in."""
    resources.limits.register.hit(client_key(request))
    user = User(email=body.email, password_hash=await hash_password(body.password))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise ApiError(409, "email_taken", "an account with this email already exists") from None
    pair = await _open_session(resources, session, user)
    await session.commit()
    return RegisteredUser(user=UserPublic.model_validate(user), **pair.model_dump())


@router.post("/login", response_model=TokenPair, responses=responses(401, 422, 429))
async def login(
    body: Credentials, request: Request, resources: Resources, session: Session
) -> TokenPair:
    """Exchange email and password for an access token (24 h) and a refresh token."""
    resources.limits.login.hit(client_key(request))
    user = (await session.exec(select(User).where(User.email == body.email))).first()
    if not await verify_password(user.password_hash if user else None, body.password):
        raise unauthorized("the email or the password is wrong")
    assert user is not None
    pair = await _open_session(resources, session, user)
    await session.commit()
    return pair


@router.post("/refresh", response_model=TokenPair, responses=responses(401, 422))
async def refresh(body: RefreshRequest, resources: Resources, session: Session) -> TokenPair:
    """Rotate: the presented token is spent and a new pair issued.

    A spent token presented again means it leaked (or a client raced itself): the whole
    sign-in session is revoked, so whoever holds any of its tokens must sign in again.
    """
    digest = refresh_token_digest(body.refresh_token)
    now = utcnow()
    # One conditional UPDATE spends the token, so two concurrent refreshes cannot both win.
    spent = await session.exec(
        update(RefreshToken)
        .where(RefreshToken.token_sha256 == digest)  # type: ignore[arg-type]
        .where(RefreshToken.used_at.is_(None))  # type: ignore[union-attr]
        .where(RefreshToken.expires_at > now)  # type: ignore[arg-type]
        .values(used_at=now)
        .returning(col(RefreshToken.session_id))
    )
    session_id = spent.scalar_one_or_none()
    if session_id is None:
        token = (
            await session.exec(select(RefreshToken).where(RefreshToken.token_sha256 == digest))
        ).first()
        if token is not None and token.used_at is not None:
            await _revoke(session, token.session_id, "refresh token reuse")
            await session.commit()
            raise unauthorized(
                "this refresh token was already used; every device of this sign-in has been "
                "signed out for safety. Sign in again"
            )
        raise unauthorized("the refresh token is invalid or expired; sign in again")
    auth_session = await session.get(AuthSession, session_id)
    user = await session.get(User, auth_session.user_id) if auth_session else None
    if auth_session is None or auth_session.revoked_at is not None or user is None:
        await session.rollback()
        raise unauthorized("this sign-in has ended; sign in again")
    new_token, new_digest = new_refresh_token()
    session.add(
        RefreshToken(
            session_id=session_id,
            token_sha256=new_digest,
            expires_at=now + timedelta(seconds=resources.settings.refresh_token_ttl_s),
        )
    )
    await session.commit()
    access = resources.tokens.issue_access(user.id, session_id, user.role)
    return TokenPair(
        access_token=access, refresh_token=new_token, expires_in=resources.tokens.access_ttl_s
    )


async def _revoke(session: Session, session_id: uuid.UUID, reason: str) -> None:
    await session.exec(
        update(AuthSession)
        .where(AuthSession.id == session_id)  # type: ignore[arg-type]
        .where(AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401))
async def logout(principal: CurrentUser, session: Session) -> None:
    """End this sign-in: its access and refresh tokens stop working at once."""
    await _revoke(session, principal.session_id, "logout")
    await session.commit()


@router.get("/me", response_model=UserPublic, responses=responses(401))
async def me(principal: CurrentUser, session: Session) -> UserPublic:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise unauthorized()
    return UserPublic.model_validate(user)
