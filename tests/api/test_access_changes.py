"""A change of role or plan takes effect on the next request, whatever token the caller holds.

Access tokens live 24 h; the role in them is informational. Every request reads the account's
role and plan from the database, so a demotion or a downgrade cannot be outlived by a token.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from core.db import session_scope
from schema.analysis import Status, Tier
from schema.models import Analysis, Role, User, Video
from tests.api.conftest import ClimberFactory
from tests.api.test_analyses import V1, _uploaded_route, _uploaded_video

pytestmark = pytest.mark.integration


async def _set_account(app: FastAPI, user_id: uuid.UUID, **values: object) -> None:
    async with session_scope(app.state.resources.engine) as session:
        await session.exec(
            update(User).where(User.id == user_id).values(**values)  # type: ignore[arg-type]
        )
        await session.commit()


async def test_a_demoted_support_account_loses_support_access_at_once(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI
) -> None:
    someone = await climber()
    staff = await climber(role=Role.SUPPORT)
    async with session_scope(api_app.state.resources.engine) as session:
        video = Video(user_id=someone.id, storage_url=f"uploads/{someone.id}/v.mp4")
        session.add(video)
        await session.flush()
        analysis = Analysis(video_id=video.id, user_id=someone.id, status=Status.FAILED)
        session.add(analysis)
        await session.commit()
    support_path = f"{V1}/support/analyses/{analysis.id}"
    as_support = await api.get(support_path, headers=staff.headers)
    assert as_support.status_code == 200, as_support.text
    # Support staff may read anyone's analysis through the climber-facing route too.
    read = await api.get(f"{V1}/analysis/video/{analysis.id}", headers=staff.headers)
    assert read.status_code == 200

    await _set_account(api_app, staff.id, role=Role.USER)

    # Same access token, still within its 24 h: no longer support.
    assert (await api.get(support_path, headers=staff.headers)).status_code == 403
    read = await api.get(f"{V1}/analysis/video/{analysis.id}", headers=staff.headers)
    assert read.status_code == 404
    me = await api.get(f"{V1}/auth/me", headers=staff.headers)
    assert me.status_code == 200 and me.json()["role"] == "user"

    # And a promotion counts at once as well.
    await _set_account(api_app, someone.id, role=Role.SUPPORT)
    assert (await api.get(support_path, headers=someone.headers)).status_code == 200


async def test_a_downgraded_plan_counts_at_once(
    api: httpx.AsyncClient, climber: ClimberFactory, api_app: FastAPI
) -> None:
    me = await climber(Tier.PREMIUM)
    route_id = await _uploaded_route(api, me)
    video_id = await _uploaded_video(api, me)
    await _set_account(api_app, me.id, subscription_tier=Tier.FREEMIUM)
    ghost = await api.post(
        f"{V1}/analysis/video/start",
        json={"video_id": video_id, "route_id": route_id, "ghost": True},
        headers=me.headers,
    )
    assert ghost.status_code == 403, ghost.text
    assert ghost.json()["error"]["code"] == "ghost_not_in_plan"
