"""Shapes of the campaign-events extension: a campaign's recent deliveries. Not part of
Vapi's API (a new path); Vapi's SDKs never call it."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from campaign_service.schema_types import InputModel, OutputModel, Timestamp

DeliveryState = Literal["pending", "delivered", "dead"]


class DeliveryQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=100, ge=1, le=1000, description="Most events listed, newest first.")
    state: DeliveryState | None = Field(
        default=None, description="Only events in this state (dead: given up after retrying)."
    )


class Delivery(OutputModel):
    """One campaign event and how its delivery stands."""

    id: str = Field(description="The event's stable id (its `webhook-id` header).")
    type: str = Field(description="The event type, as listed in serverMessages.")
    state: DeliveryState = Field(
        description="pending: not delivered yet (due again at nextAttemptAt); delivered; "
        "dead: every attempt failed until the retry time ran out (lastError says why)."
    )
    attempts: int = Field(description="POSTs made so far.")
    lastStatusCode: int | None = Field(default=None, description="HTTP status of the last try.")
    lastError: str | None = Field(default=None, description="Why the last attempt failed.")
    nextAttemptAt: Timestamp | None = Field(default=None, description="When it is tried again.")
    deliveredAt: Timestamp | None = Field(default=None, description="When the server took it.")
    createdAt: Timestamp = Field(description="When the change it reports was made.")


class DeliveryList(OutputModel):
    """Extension: a campaign's recent events (serverMessages) and their delivery."""

    results: list[Delivery] = Field(description="The events, newest first.")
