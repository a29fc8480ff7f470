"""Hot reads called without FastAPI's per-request parameter machinery.

FastAPI resolves a handler's parameters on every request by walking their declarations
(for a query model, each of its fields' annotations, twice): about a quarter of the CPU of a
page read. The campaign reads (get, list, at both paths) take only a query model, the API
key, path parameters and the request, so a route whose endpoint is marked `@direct_read`
gets them here instead: the query string validated by the model in one call, the key by the
same `bearer` scheme, and the endpoint itself called with them.

Nothing is answered differently: whatever this does not take on as is (a query the model
refuses, dependency overrides) goes to FastAPI's own handler, which answers it as before
(the 400 of an invalid query included). Routes, the OpenAPI document and the endpoints stay
as declared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, get_args, get_origin

from fastapi import Request, Response
from fastapi.params import Depends
from pydantic import BaseModel, ValidationError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_MARK = "__direct_read__"


def direct_read(endpoint: Endpoint) -> Endpoint:
    """Mark a read endpoint whose parameters are all of: `query` (a pydantic model read from
    the query string), `credentials` (the key, from the dependency it declares: a security
    scheme called with the request), `request`, and `str` path parameters."""
    setattr(endpoint, _MARK, _Plan(endpoint))
    return endpoint


class _Plan:
    """How to call one endpoint: its query model and which of its parameters are which."""

    def __init__(self, endpoint: Callable[..., Any]) -> None:
        self.endpoint = endpoint
        self.query_model: type[BaseModel] | None = None
        self.credentials: Callable[[Request], Coroutine[Any, Any, Any]] | None = None
        self.path_params: list[str] = []
        for name, parameter in inspect.signature(endpoint, eval_str=True).parameters.items():
            annotation = parameter.annotation
            if name == "query":
                model = get_args(annotation)[0] if get_origin(annotation) else annotation
                assert issubclass(model, BaseModel), f"{endpoint.__name__}: query is no model"
                self.query_model = model
            elif name == "credentials":
                (scheme,) = [d.dependency for d in get_args(annotation) if isinstance(d, Depends)]
                self.credentials = scheme
            elif name != "request":
                assert annotation is str, f"{endpoint.__name__}: {name} is not a path parameter"
                self.path_params.append(name)

    async def arguments(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's arguments; None when FastAPI should resolve them (and answer)."""
        arguments: dict[str, Any] = {"request": request}
        if self.query_model is not None:
            try:
                arguments["query"] = self.query_model.model_validate(dict(request.query_params))
            except ValidationError:
                return None  # FastAPI's handler answers with the same 400 as always
        if self.credentials is not None:
            arguments["credentials"] = await self.credentials(request)
        path = request.path_params
        for name in self.path_params:
            arguments[name] = path[name]
        return arguments


def direct_handler(endpoint: Callable[..., Any], fallback: Handler) -> Handler:
    """The handler of a route with this endpoint: `fallback` (FastAPI's) unless the endpoint
    is marked `@direct_read`."""
    plan: _Plan | None = getattr(endpoint, _MARK, None)
    if plan is None:
        return fallback

    async def direct(request: Request) -> Response:
        if request.app.dependency_overrides:
            return await fallback(request)
        arguments = await plan.arguments(request)
        if arguments is None:
            return await fallback(request)
        response = await plan.endpoint(**arguments)
        assert isinstance(response, Response), "a direct read answers a ready Response"
        return response

    return direct
