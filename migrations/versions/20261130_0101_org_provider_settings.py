"""Per-org telephony provider settings: the provider, an encrypted Vapi API key with its
fingerprint, an optional Vapi base URL, and a random webhook token (existing orgs get one).

Revision ID: 0101
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orgs", sa.Column("provider", sa.String(20), server_default="simulated", nullable=False)
    )
    op.add_column("orgs", sa.Column("vapi_api_key_encrypted", sa.Text(), nullable=True))
    op.add_column("orgs", sa.Column("vapi_api_key_fingerprint", sa.String(8), nullable=True))
    op.add_column("orgs", sa.Column("vapi_base_url", sa.Text(), nullable=True))
    # A volatile default is computed per row: existing orgs each get their own token too.
    token = sa.text(
        "replace(((gen_random_uuid())::text || (gen_random_uuid())::text), '-'::text, ''::text)"
    )
    op.add_column(
        "orgs", sa.Column("webhook_token", sa.String(64), server_default=token, nullable=False)
    )
    op.create_unique_constraint(op.f("uq_orgs_webhook_token"), "orgs", ["webhook_token"])
    op.create_check_constraint(
        op.f("ck_orgs_provider_valid"), "orgs", "provider IN ('simulated', 'vapi')"
    )
    op.create_check_constraint(
        op.f("ck_orgs_vapi_key_fingerprint"),
        "orgs",
        "(vapi_api_key_encrypted IS NULL) = (vapi_api_key_fingerprint IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_orgs_vapi_needs_key"),
        "orgs",
        "provider <> 'vapi' OR vapi_api_key_encrypted IS NOT NULL",
    )


def downgrade() -> None:
    for name in ("vapi_needs_key", "vapi_key_fingerprint", "provider_valid"):
        op.drop_constraint(op.f(f"ck_orgs_{name}"), "orgs", type_="check")
    op.drop_constraint(op.f("uq_orgs_webhook_token"), "orgs", type_="unique")
    for column in (
        "webhook_token",
        "vapi_base_url",
        "vapi_api_key_fingerprint",
        "vapi_api_key_encrypted",
        "provider",
    ):
        op.drop_column("orgs", column)
