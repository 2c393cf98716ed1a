"""The method registry: Bot API method name -> implementation.

Each family module registers its methods with ``@method("sendMessage")``; :meth:`BotApi.call` looks the name
up in :data:`METHODS`. Importing :mod:`fakegram.methods` imports every family, so the registry is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..spec import Upload

if TYPE_CHECKING:
    from .base import BotApi

JsonDict = dict[str, Any]


@dataclass
class Request:
    method: str
    params: JsonDict
    uploads: dict[str, Upload] = field(default_factory=dict)


Handler = Callable[["BotApi", Request], Any]
"""An implementation: ``(api, request) -> result``, or an awaitable of the result."""
H = TypeVar("H", bound=Handler)

METHODS: dict[str, Handler] = {}
"""Exact Bot API method name (as ``spec.resolve_method`` spells it) -> its implementation."""


def method(name: str) -> Callable[[H], H]:
    """Register the decorated function as the implementation of the Bot API method ``name``."""

    def register(fn: H) -> H:
        if name in METHODS:
            raise ValueError(f"fakegram: method {name} is registered twice")
        METHODS[name] = fn
        return fn

    return register
