"""An HTTP client of Vapi's call API with typed results: no database, no engine.

One `httpx.AsyncClient` (one connection pool) per `VapiClient`; every request is paced by a
per-org token bucket so a large campaign stays under Vapi's own rate limits. Nothing is retried
here: the caller decides, and before re-placing a call whose outcome is `Unknown` it asks
`find_call` whether the first attempt created it, so no customer is dialed twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from campaign_service.settings import Settings
from campaign_service.telephony.rate_limit import Clock, PerKeyRateLimit, Sleep
from campaign_service.telephony.vapi_reports import parse_instant
from campaign_service.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

CONCURRENCY_LIMIT_REACHED = "call.start.error-subscription-concurrency-limit-reached"
# find_call looks this much earlier than asked, for clock skew between us and Vapi.
FIND_CALL_SKEW = timedelta(minutes=5)
_MAX_PAGES = 50


@dataclass(frozen=True)
class VapiCall:
    """The parts of Vapi's Call the project reads; `body` is the whole JSON object."""

    id: str
    status: str | None
    ended_reason: str | None
    created_at: datetime | None
    phone_number_id: str | None
    customer_number: str | None
    call_tag: str | None
    campaign_tag: str | None
    blocked: bool
    body: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> VapiCall:
        """Raises ValueError if `data` is not a Call (an object with an id)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise ValueError("not a Vapi call")
        overrides = data.get("assistantOverrides")
        metadata = overrides.get("metadata") if isinstance(overrides, Mapping) else None
        metadata = metadata if isinstance(metadata, Mapping) else {}
        customer = data.get("customer") if isinstance(data.get("customer"), Mapping) else {}
        limits = data.get("subscriptionLimits")
        blocked = data.get("endedReason") == CONCURRENCY_LIMIT_REACHED or (
            isinstance(limits, Mapping) and limits.get("concurrencyBlocked") is True
        )
        return cls(
            id=data["id"],
            status=data.get("status"),
            ended_reason=data.get("endedReason"),
            created_at=parse_instant(data.get("createdAt")),
            phone_number_id=data.get("phoneNumberId"),
            customer_number=(customer or {}).get("number"),
            call_tag=_text(metadata.get("callId")),
            campaign_tag=_text(metadata.get("campaignId")),
            blocked=blocked,
            body=data,
        )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


@dataclass(frozen=True)
class Created:
    call: VapiCall


@dataclass(frozen=True)
class NoCapacity:
    """Vapi refused for lack of concurrency or rate; try again after `retry_after` if given."""

    retry_after: float | None = None


@dataclass(frozen=True)
class Rejected:
    """Vapi refused this call for good; `ended_reason` is the closest Vapi endedReason."""

    ended_reason: str
    message: str


@dataclass(frozen=True)
class AuthFailed:
    message: str


@dataclass(frozen=True)
class Unknown:
    """No usable answer. `maybe_created` is False only when the request never left (connect
    failures), so the call surely does not exist."""

    reason: str
    maybe_created: bool = True


@dataclass(frozen=True)
class Found:
    call: VapiCall


@dataclass(frozen=True)
class Absent:
    """Vapi answered, and the call is not there."""


CreateResult = Created | NoCapacity | Rejected | AuthFailed | Unknown
LookupResult = Found | Absent | AuthFailed | Unknown


def error_message(response: httpx.Response) -> str:
    """The text of a Vapi error answer (its `message`, joined if it is a list)."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return response.text[:500]
    if isinstance(message, list):
        return "; ".join(str(m) for m in message)
    return str(message) if message is not None else response.text[:500]


def rejection_reason(message: str) -> str:
    """The Vapi endedReason closest to a 400/404 refusal, judged by its first message."""
    first = message.split("; ")[0].lower()
    if "customer" in first:
        return "call.start.error-get-customer"
    if "phone number" in first or "phonenumber" in first:
        return "call.start.error-get-phone-number"
    if any(word in first for word in ("assistant", "squad", "workflow")):
        return "call.start.error-get-assistant"
    if any(word in first for word in ("credit", "billing", "wallet")):
        return "call.start.error-subscription-insufficient-credits"
    return "call.start.error-get-resources-validation"


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), if the answer has one."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - utcnow()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def classify_create(response: httpx.Response) -> CreateResult:
    """What a POST /call answer means for the caller."""
    status = response.status_code
    if response.is_success:
        try:
            call = VapiCall.from_json(response.json())
        except ValueError:
            return Unknown(f"Vapi answered {status} without a readable call")
        return NoCapacity() if call.blocked else Created(call)
    if status == 429:
        return NoCapacity(retry_after(response))
    if status in (401, 403):
        return AuthFailed(error_message(response))
    if status in (400, 404, 422):
        message = error_message(response)
        if "concurrency" in message.lower():
            return NoCapacity(retry_after(response))
        return Rejected(rejection_reason(message), message)
    return Unknown(f"Vapi answered {status}: {error_message(response)[:200]}")


# Failures before any byte of the request left: the call surely was not created.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
)


def _failure(exc: Exception) -> Unknown:
    return Unknown(f"{type(exc).__name__}: {exc}", maybe_created=not isinstance(exc, _NOT_SENT))


class VapiClient:
    """Vapi's call API for any number of orgs; each method takes the org's private key."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.vapi.ai",
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        requests_per_second: float = 10.0,
        burst: int = 20,
        page_size: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._rate = PerKeyRateLimit(requests_per_second, burst, clock=clock, sleep=sleep)

    @classmethod
    def from_settings(cls, settings: Settings) -> VapiClient:
        return cls(
            base_url=settings.vapi_base_url,
            connect_timeout=settings.vapi_connect_timeout,
            read_timeout=settings.vapi_read_timeout,
            requests_per_second=settings.vapi_requests_per_second,
            burst=settings.vapi_request_burst,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> VapiClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _request(
        self, method: str, path: str, api_key: str, base_url: str | None, **kwargs: Any
    ) -> httpx.Response:
        await self._rate.acquire(api_key)
        url = (base_url.rstrip("/") if base_url else self.base_url) + path
        headers = {"Authorization": f"Bearer {api_key}"}
        return await self._http.request(method, url, headers=headers, **kwargs)

    async def create_call(
        self, api_key: str, body: Mapping[str, Any], *, base_url: str | None = None
    ) -> CreateResult:
        """POST /call once (never retried here)."""
        try:
            response = await self._request("POST", "/call", api_key, base_url, json=body)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return _failure(exc)
        result = classify_create(response)
        log.debug("vapi create call: %s", type(result).__name__)
        return result

    async def get_call(
        self, api_key: str, call_id: str, *, base_url: str | None = None
    ) -> LookupResult:
        """GET /call/{id}. `Absent` is a 404; to decide whether a call may be placed again,
        use `find_call`, which never takes a failed request for absence."""
        try:
            response = await self._request("GET", f"/call/{call_id}", api_key, base_url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return _failure(exc)
        if response.status_code == 404:
            return Absent()
        failure = _failed_lookup(response)
        if failure is not None:
            return failure
        try:
            return Found(VapiCall.from_json(response.json()))
        except ValueError:
            return Unknown("Vapi answered 200 without a readable call")

    async def find_call(
        self,
        api_key: str,
        *,
        phone_number_id: str,
        customer_number: str | None,
        created_after: datetime,
        call_id_tag: str,
        base_url: str | None = None,
    ) -> LookupResult:
        """The call we placed earlier for `call_id_tag`, looked up with GET /call (filtered by
        phone number and creation time, newest first, paged). A call Vapi refused for lack of
        concurrency never rang, so it does not count as placed. `Absent` only when Vapi
        answered every page; otherwise `Unknown`."""
        since = iso_z(created_after - FIND_CALL_SKEW)
        params = {"phoneNumberId": phone_number_id, "createdAtGe": since}
        params["limit"] = str(self.page_size)
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = await self._list_calls(api_key, params, base_url)
            if not isinstance(page, list):
                return page
            match = next((c for c in page if _is_ours(c, call_id_tag, customer_number)), None)
            if match is not None:
                return Found(match)
            if len(page) < self.page_size:
                return Absent()
            upper = _next_page_end(page, seen)
            if upper is None:
                return Unknown("GET /call pages did not advance; cannot prove absence")
            params["createdAtLe"] = upper
        return Unknown(f"more than {_MAX_PAGES} pages of calls; cannot prove absence")

    async def _list_calls(
        self, api_key: str, params: dict[str, str], base_url: str | None
    ) -> list[VapiCall] | AuthFailed | Unknown:
        try:
            response = await self._request("GET", "/call", api_key, base_url, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return _failure(exc)
        failure = _failed_lookup(response)
        if failure is not None:
            return failure
        try:
            data = response.json()
            if not isinstance(data, list):
                raise ValueError("not a list")
            return [VapiCall.from_json(item) for item in data]
        except ValueError:
            return Unknown("Vapi answered 200 without a readable list of calls")


def _next_page_end(page: list[VapiCall], seen: set[str]) -> str | None:
    """createdAtLe for the page after a full one: its oldest call's creation time (inclusive,
    so calls created in that same millisecond are not skipped; repeats are recognised by id).
    None when the page brought no call not seen before."""
    fresh = [c for c in page if c.id not in seen]
    seen.update(c.id for c in page)
    oldest = min((c.created_at for c in page if c.created_at is not None), default=None)
    return iso_z(oldest) if fresh and oldest is not None else None


def _is_ours(call: VapiCall, call_id_tag: str, customer_number: str | None) -> bool:
    if call.call_tag != call_id_tag or call.blocked:
        return False
    return customer_number is None or call.customer_number == customer_number


def _failed_lookup(response: httpx.Response) -> AuthFailed | Unknown | None:
    """A read answer that carries no data: the key was refused, or Vapi failed."""
    if response.status_code in (401, 403):
        return AuthFailed(error_message(response))
    if response.status_code != 200:
        return Unknown(f"Vapi answered {response.status_code}: {error_message(response)[:200]}")
    return None
