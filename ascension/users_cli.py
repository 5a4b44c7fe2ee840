"""`ascension users ...`: an operator's view of the climbers, and the two changes support needs.

They write the users table directly and take effect at once: each request reads the climber's
role and plan from the database (a token carries neither), so nobody has to sign in again.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def add_parser(sub: Any) -> None:
    users = sub.add_parser("users", help="list climbers, set a plan, grant the support role")
    commands = users.add_subparsers(dest="users_command", required=True)
    listing = commands.add_parser("list", help="every account: email, plan, role, created")
    listing.add_argument("--limit", type=int, default=200, help="newest first")
    set_tier = commands.add_parser("set-tier", help="change a climber's plan")
    set_tier.add_argument("email")
    set_tier.add_argument("tier", help="freemium, premium or infinity")
    for name, text in (
        ("grant-support", "make an account support staff"),
        ("revoke-support", "make a support account a climber again"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("email")


def cmd_users(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from sqlmodel import col, select

    from core.db import make_engine, migrate, session_scope
    from core.settings import get_settings
    from schema.analysis import Tier
    from schema.models import Role, User

    engine = make_engine(get_settings().effective_database_url)
    try:
        await migrate(engine)
        async with session_scope(engine) as session:
            if args.users_command == "list":
                rows = await session.exec(
                    select(User).order_by(col(User.created_at).desc()).limit(args.limit)
                )
                table = Table(title="accounts")
                for column in ("email", "plan", "role", "created"):
                    table.add_column(column)
                for row in rows.all():
                    table.add_row(
                        row.email,
                        row.subscription_tier.value,
                        row.role.value,
                        row.created_at.isoformat(timespec="seconds"),
                    )
                console.print(table)
                return 0
            email = args.email.strip().lower()
            user = (await session.exec(select(User).where(User.email == email))).first()
            if user is None:
                console.print(f"[red]no account with the email {email}[/]")
                return 1
            if args.users_command == "set-tier":
                try:
                    user.subscription_tier = Tier(args.tier)
                except ValueError:
                    allowed = ", ".join(tier.value for tier in Tier)
                    console.print(f"[red]unknown plan {args.tier!r}; one of: {allowed}[/]")
                    return 2
                change = f"plan {user.subscription_tier.value}"
            else:
                user.role = Role.SUPPORT if args.users_command == "grant-support" else Role.USER
                change = f"role {user.role.value}"
            session.add(user)
            await session.commit()
            console.print(f"{email}: {change} (in effect from its next request)")
            return 0
    finally:
        await engine.dispose()
