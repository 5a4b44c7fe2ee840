"""Rows an analysis needs before its workflow starts (the API creates them in production)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import session_scope
from schema import names
from schema.models import Analysis, Route, SubscriptionTier, User, Video


@dataclass
class SeededAnalysis:
    user_id: str
    video_id: str
    analysis_id: str
    route_id: str
    video_key: str


async def seed_analysis(
    engine: AsyncEngine, *, tier: SubscriptionTier = SubscriptionTier.PREMIUM
) -> SeededAnalysis:
    user = User(
        email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-", subscription_tier=tier
    )
    video = Video(user_id=user.id, storage_url="")
    video.storage_url = names.upload_key(str(user.id), str(video.id))
    route = Route(user_id=user.id, photo_key=f"routes/{user.id}/wall.jpg")
    analysis = Analysis(video_id=video.id, user_id=user.id, route_id=route.id)
    async with session_scope(engine) as session:
        session.add(user)
        await session.flush()
        session.add_all([video, route])
        await session.flush()
        session.add(analysis)
        await session.commit()
    return SeededAnalysis(
        str(user.id), str(video.id), str(analysis.id), str(route.id), video.storage_url
    )
