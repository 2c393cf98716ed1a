"""Deliveries in progress, so that the recovery does not start one a second time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class InFlight:
    """A small shared registry: the use cases mark what they are delivering (a ticket's card, a message),
    the recovery skips what is marked. One object for the whole staff side."""

    def __init__(self) -> None:
        self._in_flight: dict[tuple[str, int | None], int] = {}

    @contextlib.contextmanager
    def hold(self, *, row_id: int | None = None, ticket_id: int | None = None) -> Iterator[None]:
        """Mark a delivery as in progress. Nested use is fine (counted). Entering it has no ``await``, so a
        use case that enters it right after storing a ticket leaves no moment in which a scheduler tick
        could pick the ticket up too."""
        keys = [k for k in (("row", row_id), ("ticket", ticket_id)) if k[1] is not None]
        for key in keys:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            for key in keys:
                left = self._in_flight.get(key, 1) - 1
                if left:
                    self._in_flight[key] = left
                else:
                    self._in_flight.pop(key, None)

    def busy(self, *, row_id: int | None = None, ticket_id: int | None = None) -> bool:
        return ("row", row_id) in self._in_flight or ("ticket", ticket_id) in self._in_flight
