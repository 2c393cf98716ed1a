"""Last-resort handlers: out-of-date buttons, and errors that escaped a handler."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery, ErrorEvent

from helpdesk.ports import DeliveryError
from helpdesk.texts import Tr
from storage.db import Database

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(outdated_button)
    router.errors.register(unhandled_error)
    return router


async def outdated_button(callback: CallbackQuery, tr: Tr) -> None:
    """A button from an old menu, a button for another state, or forged data."""
    await callback.answer(tr("menu.outdated"), show_alert=True)


async def unhandled_error(event: ErrorEvent, db: Database) -> bool:
    error: BaseException = event.exception
    if isinstance(error, DeliveryError) and error.__cause__ is not None:
        error = error.__cause__  # what Telegram said, as the core's port reported it
    log.exception("error while handling update %s", event.update.update_id, exc_info=error)
    db.note(error)  # the disk full, the file gone: the bot stops and says why (see bot/factory.py::serve)
    callback = event.update.callback_query
    if callback is not None:
        try:
            await callback.answer()
        except Exception:
            log.debug("could not answer the callback after an error")
    return True
