"""HTTP routes of the fake Vapi: Vapi's call API plus control endpoints under /_fake/.

/_fake/ is a path Vapi does not have: tests read the record and switch faults there when the
fake runs in another process. It needs no key; bind the fake to a loopback address.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from campaign_service.fakevapi import bodies
from campaign_service.fakevapi.config import FakeOrg
from campaign_service.fakevapi.fake import Answer, FakeVapi
from campaign_service.fakevapi.faults import FaultSpec
from campaign_service.fakevapi.validation import FakeHttpError

Handler = Callable[[Request], Awaitable[Response]]


def _json(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def _vapi_errors(handler: Handler) -> Handler:
    """FakeHttpError becomes Vapi's error body."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except FakeHttpError as exc:
            body = bodies.error_body(exc.status, exc.message)
            return _json(Answer(exc.status, body, exc.headers))

    return wrapped


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise FakeHttpError(400, ["request body is not valid JSON"]) from None


def _call_routes(fake: FakeVapi) -> list[Route]:
    @_vapi_errors
    async def create_call(request: Request) -> Response:
        authorization = request.headers.get("authorization")
        base_url = str(request.base_url).rstrip("/")
        return _json(await fake.create_call(authorization, await request.body(), base_url))

    @_vapi_errors
    async def list_calls(request: Request) -> Response:
        org = fake.authenticate(request.headers.get("authorization"), "read")
        fake.refuse_read()
        return JSONResponse(fake.list_calls(org, dict(request.query_params)))

    @_vapi_errors
    async def get_call(request: Request) -> Response:
        org = fake.authenticate(request.headers.get("authorization"), "read")
        fake.refuse_read()
        return JSONResponse(fake.get_call(org, request.path_params["call_id"]))

    return [
        Route("/call", create_call, methods=["POST"]),
        Route("/call", list_calls, methods=["GET"]),
        Route("/call/{call_id}", get_call, methods=["GET"]),
    ]


def _control_routes(fake: FakeVapi) -> list[Route]:
    async def record(_: Request) -> Response:
        return JSONResponse(fake.record().as_json())

    @_vapi_errors
    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            fake.clear_faults()
        elif request.method == "POST":
            try:
                spec = FaultSpec.model_validate(await _body(request))
            except ValidationError as exc:
                raise FakeHttpError(400, _problems(exc)) from None
            fake.faults.inject(spec)
            return JSONResponse(spec.model_dump(by_alias=True), status_code=201)
        return JSONResponse([s.model_dump(by_alias=True) for s in fake.faults.active()])

    async def recording(request: Request) -> Response:
        call = fake.answered_call(request.path_params["call_id"])
        if call is None:
            raise HTTPException(404)
        return Response(silent_wav(min(call.talk_seconds, 3.0)), media_type="audio/wav")

    return [
        Route("/_fake/record", record, methods=["GET"]),
        Route("/_fake/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_fake/recordings/{call_id}.wav", recording, methods=["GET"]),
    ]


def _key_routes(fake: FakeVapi) -> list[Route]:
    @_vapi_errors
    async def add_key(request: Request) -> Response:
        raw = await _body(request)
        try:
            org = FakeOrg(
                api_key=str(raw["apiKey"]),
                concurrency_limit=int(raw.get("concurrencyLimit", 10)),
                org_id=str(raw.get("orgId") or ""),
                server_url=raw.get("serverUrl"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FakeHttpError(400, f"bad key: {exc}") from None
        fake.add_org(org)
        return JSONResponse({"orgId": org.org_id}, status_code=201)

    @_vapi_errors
    async def revoke_key(request: Request) -> Response:
        if not fake.revoke_key(request.path_params["api_key"]):
            raise FakeHttpError(404, "no such key")
        return JSONResponse({"revoked": True})

    return [
        Route("/_fake/keys", add_key, methods=["POST"]),
        Route("/_fake/keys/{api_key}", revoke_key, methods=["DELETE"]),
    ]


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()]


def silent_wav(seconds: float) -> bytes:
    """A short silent recording (8 kHz mono), so recording URLs lead somewhere real."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * max(seconds, 0.1)))
    return buffer.getvalue()


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"Cannot {request.method} {request.url.path}"
    return JSONResponse(bodies.error_body(status, message), status_code=status)


def create_fake_app(fake: FakeVapi) -> Starlette:
    """The ASGI app serving `fake`."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await fake.startup()
        try:
            yield
        finally:
            await fake.shutdown()

    return Starlette(
        routes=_call_routes(fake) + _control_routes(fake) + _key_routes(fake),
        exception_handlers={HTTPException: _not_found},
        lifespan=lifespan,
    )
