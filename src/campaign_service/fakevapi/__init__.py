"""A fake of Vapi's call API for tests and local runs (`campaign-service fake-vapi`)."""

from campaign_service.fakevapi.config import FakeOrg, FakeVapiConfig, Timings
from campaign_service.fakevapi.fake import FakeVapi
from campaign_service.fakevapi.record import RecordSnapshot
from campaign_service.fakevapi.server import RunningFakeVapi, ServerThread, run_fake_vapi

__all__ = [
    "FakeOrg",
    "FakeVapi",
    "FakeVapiConfig",
    "RecordSnapshot",
    "RunningFakeVapi",
    "ServerThread",
    "Timings",
    "run_fake_vapi",
]
