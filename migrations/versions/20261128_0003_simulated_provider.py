"""Tables of the simulated telephony provider (its calls and their scheduled events).

The simulator keeps its state in the database, like a real provider keeps it on its own
servers: a call placed by one process is still answered and ended if that process dies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sim_calls",
        sa.Column("provider_call_id", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("dial_requests", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("provider_call_id", name=op.f("pk_sim_calls")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sim_calls_idempotency_key")),
    )
    op.create_table(
        "sim_call_steps",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider_call_id", sa.Text(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ended_reason", sa.Text(), nullable=True),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_call_id"],
            ["sim_calls.provider_call_id"],
            name=op.f("fk_sim_call_steps_provider_call_id_sim_calls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_call_steps")),
    )
    op.create_index(
        "ix_sim_call_steps_due",
        "sim_call_steps",
        ["due_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sim_call_steps_due", table_name="sim_call_steps")
    op.drop_table("sim_call_steps")
    op.drop_table("sim_calls")
