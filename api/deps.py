"""FastAPI dependencies: the process's resources, a database session, and who is calling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from api.errors import ApiError, unauthorized
from api.events.hub import EventHub
from api.resources import ApiResources
from api.security import InvalidToken, TokenService
from schema.models import AuthSession, Role, SubscriptionTier, User


def get_resources(connection: HTTPConnection) -> ApiResources:
    """The process's resources, for HTTP routes and WebSockets alike."""
    return connection.app.state.resources


Resources = Annotated[ApiResources, Depends(get_resources)]


def get_event_hub(resources: Resources) -> EventHub | None:
    """The running WebSocket fan-out; None before the lifespan started it or after it stopped."""
    return resources.events


LiveEvents = Annotated[EventHub | None, Depends(get_event_hub)]


async def get_session(resources: Resources) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="The access token from login or refresh.")


@dataclass(frozen=True)
class Principal:
    """The signed-in caller, with the role and plan the database gives the account now."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    role: Role
    tier: SubscriptionTier = SubscriptionTier.FREEMIUM


async def authenticate(tokens: TokenService, session: AsyncSession, token: str) -> Principal:
    """Check the JWT and that its sign-in session is still open (logout and reuse revoke it).

    Role and plan come from the account's row on every request, never from the token (which
    lives 24 h): a demotion or a downgrade counts from the next request. Both rows are read
    in one query, by primary key.
    """
    try:
        claims = tokens.decode_access(token)
    except InvalidToken:
        raise unauthorized() from None
    return await signed_in(session, claims.user_id, claims.session_id)


async def signed_in(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> Principal:
    """The caller of a token naming this sign-in, as long as the sign-in is still open; the
    viewer's links (`api.routes.viewer`) end with the sign-in that issued them too."""
    statement = (
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(col(AuthSession.id) == session_id)
    )
    found = (await session.exec(statement)).first()
    if found is None:
        raise unauthorized("this sign-in has ended; sign in again")
    auth_session, user = found
    if auth_session.revoked_at is not None or auth_session.user_id != user_id:
        raise unauthorized("this sign-in has ended; sign in again")
    return Principal(user_id, session_id, user.role, user.subscription_tier)


async def current_principal(
    resources: Resources,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("sign in first: this request needs an access token")
    return await authenticate(resources.tokens, session, credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def support_principal(principal: CurrentUser) -> Principal:
    if principal.role is not Role.SUPPORT:
        raise ApiError(403, "forbidden", "this needs a support account")
    return principal


SupportUser = Annotated[Principal, Depends(support_principal)]
