"""Burst pacing: the staff group takes 20 messages a minute (a forum's topics share them).

When the budget runs low, new tickets wait without a card and are listed in a digest instead (number,
topic, first line), so staff see every waiting question quickly; their cards follow as the budget allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.delivery import Gateway
from bot.inflight import InFlight
from bot.staff_chat import StaffChat
from helpdesk.formatting import TEXT_LIMIT, escape, visible_len
from helpdesk.ports import Destination
from helpdesk.texts import Texts
from storage.tickets import Ticket


class Pacing:
    # Cards stop while fewer than this many sends are left in the group's minute, so that a digest can
    # always go out at once; digests go out at most once per interval, so the reserve lasts the minute
    # (5 x 12 s). Once a burst is over, listed tickets' cards may use all but one send.
    digest_reserve = 5
    digest_interval = 12.0

    def __init__(
        self,
        *,
        gateway: Gateway,
        staff_chat: StaffChat,
        group_room: Callable[[int], int],
        texts: Texts,
        in_flight: InFlight,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway = gateway
        self.staff_chat = staff_chat
        self.group_room = group_room
        self.texts = texts
        self.in_flight = in_flight
        self.monotonic = monotonic
        self.digest_at = -self.digest_interval
        self.burst_until = 0.0
        self.listed: set[int] = set()
        # Set when cards wait for the budget: the digest task keeps posting them, oldest first.
        self.deferred = False

    def busy(self, cost: int = 0, *, listed: bool = False) -> bool:
        """Would ``cost`` more sends eat into the reserve kept for digests? A card of a ticket the staff
        have already seen listed may use all but one send of it once the burst is over."""
        reserve = self.digest_reserve
        if listed and self.monotonic() > self.burst_until:
            reserve = 1
        return self.group_room(self.staff_chat.id) - cost < reserve

    def burst_started(self) -> None:
        self.burst_until = self.monotonic() + self.digest_interval * self.digest_reserve

    def _new(self, waiting: list[Ticket]) -> list[Ticket]:
        return [t for t in waiting if t.id not in self.listed and not self.in_flight.busy(ticket_id=t.id)]

    def digest_due(self, waiting: list[Ticket]) -> bool:
        return self.monotonic() - self.digest_at >= self.digest_interval and bool(self._new(waiting))

    async def post_digest(self, waiting: list[Ticket]) -> None:
        """List the tickets that wait for a card (number, topic, first line), in as few messages as fit:
        at most once per ``digest_interval``, so that the reserve kept for digests lasts the minute."""
        new = self._new(waiting)
        if not new:
            return
        if self.monotonic() - self.digest_at < self.digest_interval:
            self.deferred = True  # listed at the next one (the digest task comes back)
            return
        self.digest_at = self.monotonic()
        tr = self.texts.staff
        lines = []
        for ticket in new:
            first = (ticket.question.splitlines() or [""])[0][:70]
            lines.append(
                tr(
                    "staff.digest_line",
                    number=ticket.id,
                    topic=tr(f"topic.short.{ticket.topic.value}"),
                    category=tr(f"category.{ticket.category.value}"),
                    text=escape(first),
                )
            )
        header = tr("staff.digest", count=len(new))
        parts: list[str] = []
        current = header
        for line in lines:
            if visible_len(current) + visible_len(line) + 1 > TEXT_LIMIT - 50:
                parts.append(current)
                current = header
            current += "\n" + line
        parts.append(current)
        for part in parts:
            await self.gateway.send(Destination(self.staff_chat.id), part)
        self.listed.update(t.id for t in new)
