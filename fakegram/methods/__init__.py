"""Implementations of the emulated Bot API methods (state checks + results), one module per method family.

- :mod:`.registry` — ``Request``, the ``METHODS`` dict and the ``@method("name")`` decorator that fills it;
- :mod:`.base` — ``BotApi``: the world, dispatch through ``METHODS``, and the helpers families share;
- :mod:`.messages`, :mod:`.edits`, :mod:`.chats`, :mod:`.topics`, :mod:`.callbacks`, :mod:`.settings`,
  :mod:`.updates`, :mod:`.files` — the methods, registered on import.
"""

from . import callbacks, chats, edits, files, messages, settings, topics, updates  # noqa: F401 (registers the methods)
from .base import BotApi
from .registry import METHODS, Handler, JsonDict, Request, method

__all__ = [
    "METHODS",
    "BotApi",
    "Handler",
    "JsonDict",
    "Request",
    "method",
]
