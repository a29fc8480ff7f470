"""Campaign and call counts by status, read from the database when /metrics is scraped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.calls.status import CallStatus
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.readmodel.stats import status_counts

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_SECONDS = 5.0


class Snapshot:
    """Metric families computed for one scrape; passes for a registry in generate_latest."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def _by_status(
    name: str, doc: str, known: tuple[str, ...], counts: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["status"])
    for status in (*known, *sorted(set(counts) - set(known))):
        family.add_metric([status], counts.get(status, 0))
    return family


async def _counts(engine: AsyncEngine) -> tuple[dict[str, int], dict[str, int]]:
    async with engine.connect() as conn:
        return await status_counts(conn)


async def database_snapshot(engine: AsyncEngine) -> Snapshot:
    """Status gauges, or only `..._database_up 0` when the database does not answer in time."""
    up = GaugeMetricFamily(
        "campaign_service_metrics_database_up",
        "1 if the database answered the status count queries of this scrape.",
    )
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS):
            campaigns, calls = await _counts(engine)
    except Exception:
        log.warning("metrics: database status counts unavailable", exc_info=True)
        up.add_metric([], 0)
        return Snapshot([up])
    up.add_metric([], 1)
    return Snapshot(
        [
            up,
            _by_status(
                "campaign_service_campaigns",
                "Non-archived campaigns by status.",
                tuple(CampaignStatus),
                campaigns,
            ),
            _by_status(
                "campaign_service_calls",
                "Live call records by status: every open call, and the ended calls of campaigns "
                "still running (archived campaigns excluded).",
                tuple(CallStatus),
                calls,
            ),
        ]
    )
