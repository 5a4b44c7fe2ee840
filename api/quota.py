"""The monthly analysis quota: one atomic count per start, in the caller's transaction.

Each plan allows `Tier.monthly_analyses` starts per calendar month (UTC), counted in
``usage_quotas``. Counting is one upsert guarded by the limit, so two concurrent starts can never
both take the last one; a start that could not run is given back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ApiError
from schema.models import UsageQuota, User, utcnow


def _period(now: datetime) -> str:
    return now.strftime("%Y-%m")


def _next_month(now: datetime) -> str:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).strftime("%-d %B %Y")


async def consume_quota(session: AsyncSession, user: User) -> None:
    """One atomic upsert: counts the start, or changes nothing when the month's quota is spent."""
    limit = user.subscription_tier.monthly_analyses
    now = utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = UsageQuota.__table__  # type: ignore[attr-defined]
    upsert = (
        insert(table)
        .values(user_id=user.id, period=_period(now), used=1)
        .on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.period],
            set_={"used": table.c.used + 1},
            where=table.c.used < limit,
        )
        .returning(table.c.used)
    )
    used = (await session.exec(upsert)).scalar_one_or_none()
    if used is None:
        raise ApiError(
            402,
            "quota_exceeded",
            f"you have used all {limit} analyses of the {user.subscription_tier.value} plan "
            f"this month; upgrade your plan or wait until {_next_month(now)}",
            details={"limit": limit, "tier": user.subscription_tier.value},
        )


async def refund_quota(session: AsyncSession, user_id: uuid.UUID, when: datetime) -> None:
    """Give back the start counted in the month of ``when`` (a start that never ran)."""
    quota = await session.get(UsageQuota, (user_id, _period(when)))
    if quota is not None and quota.used > 0:
        quota.used -= 1
        session.add(quota)
