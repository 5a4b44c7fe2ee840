"""Passwords, access tokens (JWT, HS256) and refresh tokens: pure functions over the settings.

- Passwords: argon2id with the library's defaults (RFC 9106 second recommendation); hashing
  runs in a worker thread because it deliberately takes tens of milliseconds.
- Access tokens: JWTs signed with HS256 through joserfc (authlib's JOSE layer). Decoding accepts
  HS256 only, so ``alg: none`` or an algorithm swap is refused before any claim is read.
- Refresh tokens: 256 random bits, opaque to the client; the database keeps only their SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from core.settings import Settings
from schema.models import Role

ALGORITHM = "HS256"
_hasher = PasswordHasher()
#: Verified against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired, or not ours."""


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


def load_jwt_secret(settings: Settings) -> bytes:
    """The configured key, or a random one kept (mode 600) in the data folder."""
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
        if len(secret) < 32:
            raise ValueError("ASCENSION_JWT_SECRET must be at least 32 bytes long")
        return secret
    path: Path = settings.data_dir / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: Role
    expires_at: int


class TokenService:
    """Issues and checks access tokens for one issuer and key."""

    def __init__(self, secret: bytes, *, issuer: str, access_ttl_s: int) -> None:
        self._key = OctKey.import_key(secret)
        self._issuer = issuer
        self.access_ttl_s = access_ttl_s
        #: The overlay viewer's links, under the same key and issuer.
        self.viewer = ViewerTokens(secret, issuer=issuer)
        self._claims = jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            exp={"essential": True},
            sid={"essential": True},
            typ={"essential": True, "value": "access"},
        )

    def issue_access(self, user_id: uuid.UUID, session_id: uuid.UUID, role: Role) -> str:
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "sub": str(user_id),
            "sid": str(session_id),
            "role": role.value,
            "typ": "access",
            "iat": now,
            "exp": now + self.access_ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, [ALGORITHM])

    def decode_access(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._key, [ALGORITHM])
            self._claims.validate(decoded.claims)
            claims = decoded.claims
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                role=Role(claims.get("role", Role.USER.value)),
                expires_at=int(claims["exp"]),
            )
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(type(exc).__name__) from exc


@dataclass(frozen=True)
class ViewerClaims:
    """A viewer link's grant: one analysis, read-only, for the sign-in that asked for it."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    analysis_id: uuid.UUID
    expires_at: int


class ViewerTokens:
    """Short-lived tokens of the overlay viewer's links (``typ: viewer``), signed with the
    access tokens' key.

    Their own ``typ`` keeps the two apart both ways: a viewer token is refused wherever an
    access token is asked for (it reads one analysis, nothing else), and an access token is
    refused by the viewer.
    """

    def __init__(self, secret: bytes, *, issuer: str) -> None:
        self._key = OctKey.import_key(secret)
        self._issuer = issuer
        self._claims = jwt.JWTClaimsRegistry(
            leeway=5,
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            exp={"essential": True},
            sid={"essential": True},
            aid={"essential": True},
            typ={"essential": True, "value": "viewer"},
        )

    def issue(
        self, user_id: uuid.UUID, session_id: uuid.UUID, analysis_id: uuid.UUID, *, ttl_s: int
    ) -> tuple[str, ViewerClaims]:
        now = int(time.time())
        grant = ViewerClaims(user_id, session_id, analysis_id, now + ttl_s)
        claims = {
            "iss": self._issuer,
            "sub": str(user_id),
            "sid": str(session_id),
            "aid": str(analysis_id),
            "typ": "viewer",
            "iat": now,
            "exp": grant.expires_at,
        }
        token = jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, [ALGORITHM])
        return token, grant

    def decode(self, token: str) -> ViewerClaims:
        try:
            decoded = jwt.decode(token, self._key, [ALGORITHM])
            self._claims.validate(decoded.claims)
            claims = decoded.claims
            return ViewerClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                analysis_id=uuid.UUID(claims["aid"]),
                expires_at=int(claims["exp"]),
            )
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(type(exc).__name__) from exc


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the SHA-256 the database keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_digest(token)


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
