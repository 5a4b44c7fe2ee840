"""initial schema: seed 000 tables, routes, auth, quotas, event log

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21 01:02:34.173222
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analysis_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", AutoString(length=255), nullable=False),
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("routing_key", AutoString(length=255), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        "idx_analysis_events_user_id_id", "analysis_events", ["user_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_analysis_events_analysis_id"), "analysis_events", ["analysis_id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("email", AutoString(length=255), nullable=False),
        sa.Column(
            "subscription_tier",
            sa.Enum("freemium", "premium", "infinity", name="tier", native_enum=False, length=50),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("password_hash", AutoString(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("user", "support", name="role", native_enum=False, length=50),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", AutoString(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"], unique=False)
    op.create_table(
        "routes",
        sa.Column("name", AutoString(length=255), nullable=True),
        sa.Column("photo_key", AutoString(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "hold_map",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("hold_map_validated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_routes_user_id"), "routes", ["user_id"], unique=False)
    op.create_table(
        "usage_quotas",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("period", AutoString(length=7), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("user_id", "period"),
    )
    op.create_table(
        "videos",
        sa.Column("storage_url", AutoString(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("saved", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "idx_videos_expires_at",
        "videos",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("saved = FALSE"),
        sqlite_where=sa.text("saved = 0"),
    )
    op.create_index(op.f("ix_videos_user_id"), "videos", ["user_id"], unique=False)
    op.create_table(
        "analyses",
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processing",
                "awaiting_hold_validation",
                "completed",
                "failed",
                "cancelled",
                name="status",
                native_enum=False,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("stage", AutoString(length=50), nullable=True),
        sa.Column("failure_reason", AutoString(), nullable=True),
        sa.Column("processing_time_ms", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", AutoString(length=255), nullable=True),
        sa.Column("ghost_requested", sa.Boolean(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("route_id", sa.Uuid(), nullable=True),
        sa.Column(
            "result_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_analyses_user_idempotency_key"),
    )
    op.create_index(
        "idx_analyses_user_created", "analyses", ["user_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_analyses_route_id"), "analyses", ["route_id"], unique=False)
    op.create_index(op.f("ix_analyses_status"), "analyses", ["status"], unique=False)
    op.create_index(op.f("ix_analyses_user_id"), "analyses", ["user_id"], unique=False)
    op.create_index(op.f("ix_analyses_video_id"), "analyses", ["video_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_sha256", AutoString(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index(
        op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"], unique=False
    )
    op.create_table(
        "analysis_metrics",
        sa.Column("max_reach_cm", sa.Float(), nullable=True),
        sa.Column("avg_tension", sa.Float(), nullable=True),
        sa.Column("movement_efficiency", sa.Float(), nullable=True),
        sa.Column("hold_count", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("analysis_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["analyses.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_analysis_metrics_analysis_id"), "analysis_metrics", ["analysis_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_analysis_metrics_analysis_id"), table_name="analysis_metrics")
    op.drop_table("analysis_metrics")
    op.drop_index(op.f("ix_refresh_tokens_session_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(op.f("ix_analyses_video_id"), table_name="analyses")
    op.drop_index(op.f("ix_analyses_user_id"), table_name="analyses")
    op.drop_index(op.f("ix_analyses_status"), table_name="analyses")
    op.drop_index(op.f("ix_analyses_route_id"), table_name="analyses")
    op.drop_index("idx_analyses_user_created", table_name="analyses")
    op.drop_table("analyses")
    op.drop_index(op.f("ix_videos_user_id"), table_name="videos")
    op.drop_index(
        "idx_videos_expires_at",
        table_name="videos",
        postgresql_where=sa.text("saved = FALSE"),
        sqlite_where=sa.text("saved = 0"),
    )
    op.drop_table("videos")
    op.drop_table("usage_quotas")
    op.drop_index(op.f("ix_routes_user_id"), table_name="routes")
    op.drop_table("routes")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_index(op.f("ix_users_email"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_analysis_events_analysis_id"), table_name="analysis_events")
    op.drop_index("idx_analysis_events_user_id_id", table_name="analysis_events")
    op.drop_table("analysis_events")
