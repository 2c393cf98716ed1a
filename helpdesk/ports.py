"""Ports: what the core needs from the outside world, as small protocols that the adapters implement.

The core says *what* to send and to whom; a channel adapter (Telegram today, MAX later) says how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from storage.users import User


@dataclass(frozen=True)
class Button:
    """A callback button: the label shown and the payload a press sends back.

    Payloads are compact ASCII (Telegram allows 64 bytes) and carry ids, never text.
    """

    label: str
    payload: str


class Delivery(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # this user cannot get it (blocked the bot, chat gone): do not try again
    DEFERRED = "deferred"  # the channel failed, not the user: try again later


class UserChannel(Protocol):
    """Sends a message to a user in the user's own channel."""

    async def send(self, user: User, html: str, buttons: Sequence[Button] = ()) -> Delivery:
        """Send ``html`` (the small HTML subset, known to fit) with ``buttons`` (one per row)."""
        ...
