"""Accounts and tokens: registration, login, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from api.errors import ApiError
from api.ratelimit import RateLimiter
from tests.api.conftest import ClimberFactory

pytestmark = pytest.mark.integration

AUTH = "/api/v1/auth"


async def test_register_then_login_and_me(api: httpx.AsyncClient) -> None:
    email = f"New-{uuid.uuid4().hex[:8]}@Example.com"
    registered = await api.post(f"{AUTH}/register", json={"email": email, "password": "x" * 12})
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["user"]["email"] == email.lower()
    assert body["user"]["subscription_tier"] == "freemium"
    assert "password_hash" not in body["user"]
    assert body["expires_in"] == 24 * 3600

    login = await api.post(f"{AUTH}/login", json={"email": email, "password": "x" * 12})
    assert login.status_code == 200
    me = await api.get(
        f"{AUTH}/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["email"] == email.lower()


async def test_register_rejects_duplicates_and_weak_input(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    someone = await climber()
    again = await api.post(
        f"{AUTH}/register", json={"email": someone.email.upper(), "password": "y" * 12}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"

    short = await api.post(f"{AUTH}/register", json={"email": "a@b.co", "password": "short"})
    assert short.status_code == 422
    error = short.json()["error"]
    assert error["code"] == "invalid_request"
    assert "password" in error["message"]

    not_email = await api.post(f"{AUTH}/register", json={"email": "nope", "password": "z" * 12})
    assert not_email.status_code == 422


async def test_wrong_password_and_unknown_email_look_the_same(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    someone = await climber()
    wrong = await api.post(f"{AUTH}/login", json={"email": someone.email, "password": "nope"})
    unknown = await api.post(
        f"{AUTH}/login", json={"email": "ghost@example.com", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_refresh_rotates_and_reuse_revokes_the_family(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    someone = await climber()
    first = await api.post(f"{AUTH}/refresh", json={"refresh_token": someone.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != someone.refresh_token
    second = await api.post(f"{AUTH}/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200
    newest = second.json()

    # The first token presented again: a thief or a replay. The whole family is revoked.
    reused = await api.post(f"{AUTH}/refresh", json={"refresh_token": someone.refresh_token})
    assert reused.status_code == 401
    assert "already used" in reused.json()["error"]["message"]

    # Every token of that sign-in is dead now, including the newest pair.
    refreshed = await api.post(f"{AUTH}/refresh", json={"refresh_token": newest["refresh_token"]})
    assert refreshed.status_code == 401
    me = await api.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {newest['access_token']}"})
    assert me.status_code == 401
    # Another sign-in of the same climber is unaffected.
    login = await api.post(
        f"{AUTH}/login", json={"email": someone.email, "password": someone.password}
    )
    assert login.status_code == 200


async def test_logout_ends_access_and_refresh(
    api: httpx.AsyncClient, climber: ClimberFactory
) -> None:
    someone = await climber()
    assert (await api.post(f"{AUTH}/logout", headers=someone.headers)).status_code == 204
    assert (await api.get(f"{AUTH}/me", headers=someone.headers)).status_code == 401
    refresh = await api.post(f"{AUTH}/refresh", json={"refresh_token": someone.refresh_token})
    assert refresh.status_code == 401


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_tampered_expired_and_foreign_tokens_are_refused(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app
) -> None:
    someone = await climber()
    other = await climber()
    header, payload, signature = _segments(someone.access_token)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    # Claims changed to another user, signature kept.
    forged = dict(claims, sub=str(other.id))
    tampered = f"{header}.{_b64(forged)}.{signature}"
    # alg "none" with no signature.
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    # Signed with the right key but another algorithm.
    secret = api_app.state.resources.tokens._key  # the app's own key
    hs512 = jwt.encode({"alg": "HS512"}, claims, secret, ["HS512"])
    # Signed with another key.
    foreign = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(b"k" * 40), ["HS256"])
    # Expired a while ago.
    expired = jwt.encode(
        {"alg": "HS256"}, dict(claims, exp=int(time.time()) - 3600), secret, ["HS256"]
    )
    for token in (tampered, unsigned, hs512, foreign, expired, "garbage", ""):
        response = await api.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await api.get(f"{AUTH}/me")).status_code == 401


def test_rate_limiter_allows_a_window_then_refuses_with_retry_after() -> None:
    now = [1000.0]
    limiter = RateLimiter("sign-in", 3, clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("1.2.3.4")
    limiter.hit("5.6.7.8")  # other clients have their own window
    with pytest.raises(ApiError) as refused:
        limiter.hit("1.2.3.4")
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "60"}
    now[0] += 60.5
    limiter.hit("1.2.3.4")


async def test_login_is_rate_limited_per_client(api_settings) -> None:
    from api.app import create_app

    app = create_app(api_settings.model_copy(update={"rate_limit_login_per_min": 2}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            guess = {"email": "victim@example.com", "password": "guess"}
            codes = [(await client.post(f"{AUTH}/login", json=guess)).status_code for _ in range(2)]
            assert codes == [401, 401]
            limited = await client.post(f"{AUTH}/login", json=guess)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["retry-after"]) > 0
