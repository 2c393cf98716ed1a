"""getUpdates: long polling, offsets, allowed_updates, and the 409 for a second poller or an active webhook."""

from __future__ import annotations

import copy

from ..spec import ApiError
from ..world import DEFAULT_UPDATE_TYPES
from .base import BotApi
from .registry import JsonDict, Request, method


@method("getUpdates")
async def get_updates(api: BotApi, req: Request) -> list[JsonDict]:
    p = req.params
    w = api.w
    if w.webhook.active:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
    w.poll_generation += 1
    generation = w.poll_generation
    w.bump()  # wakes an older long poll, which then gets 409
    if "allowed_updates" in p and p["allowed_updates"] is not None:
        allowed = [str(x) for x in p["allowed_updates"]]
        w.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
    offset = p.get("offset")
    if offset is not None:
        offset = int(offset)
        if offset < 0:
            w.updates = w.updates[offset:] if -offset < len(w.updates) else w.updates
        else:
            w.updates = [u for u in w.updates if u["update_id"] >= offset]
    limit = int(p.get("limit") or 100)
    limit = max(1, min(100, limit))
    timeout = max(0, int(p.get("timeout") or 0))

    def available() -> list[JsonDict]:
        w.updates = [u for u in w.updates if _update_kind(u) in w.allowed_updates]
        return w.updates[:limit]

    if not available() and timeout > 0:
        await w.wait_for(lambda: bool(available()) or w.poll_generation != generation, float(timeout))
    if w.poll_generation != generation:
        raise ApiError(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            rejected=False,
        )
    batch = available()
    if batch:
        w.fetched_upto = max(w.fetched_upto, batch[-1]["update_id"])
        w.bump()
    return copy.deepcopy(batch)


def _update_kind(update: JsonDict) -> str:
    return next(k for k in update if k != "update_id")
