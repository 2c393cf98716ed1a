"""Dispatcher tier: updates fed one by one with ``dp.feed_update`` (no polling loop), state checked directly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram import F, Router
from aiogram.fsm.storage.base import StorageKey

from bot.config import load_settings
from bot.factory import App, create_app
from bot.states import AskQuestion, ConsentDialog
from fakegram import Actor, FakeTelegram
from tests.conftest import TOKEN


async def feed_all(app: App) -> int:
    """Fetch what the fake server queued and feed it to the dispatcher, like one polling round."""
    updates = await app.bot.get_updates(offset=app.extras.get("offset", 0), timeout=0)  # type: ignore[arg-type]
    for update in updates:
        await app.dp.feed_update(app.bot, update)
        app.extras["offset"] = update.update_id + 1
    return len(updates)


async def make_app(server: FakeTelegram, tmp_path: Path) -> App:
    group = server.add_group(title="staff", forum=False, members=[], admins=[], bot_is_admin=True)
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": server.base_url,
        "STAFF_CHAT_ID": str(group.id),
        "DATABASE_PATH": str(tmp_path / "d.sqlite3"),
    }
    app = await create_app(load_settings(env))
    await app.staff_moves.detect_mode(app.bot)
    return app


async def state_of(app: App, actor: Actor) -> str | None:
    key = StorageKey(bot_id=app.bot.id, chat_id=actor.chat.id, user_id=actor.user.id)
    return await app.dp.storage.get_state(key)


async def test_dialog_states_step_by_step(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    app = await make_app(fake_telegram, tmp_path)
    try:
        parent = fake_telegram.actor(fake_telegram.add_user(first_name="Анна"))
        await parent.send("/start")
        assert await feed_all(app) == 1
        # The greeting asks the role at once; the personal-data notice comes with the first question.
        assert await state_of(app, parent) == AskQuestion.role.state
        roles = parent.inbox[-1]
        assert len(roles.buttons) == 6

        # press_data() waits for the bot's answer; here we feed by hand, so run it alongside.
        data = next(d for t, d in roles.buttons if t.startswith("Родитель"))
        assert data == "r:par"
        pressing = asyncio.create_task(parent.press_data(roles, data, timeout=2))
        await asyncio.sleep(0.05)
        assert await feed_all(app) == 1
        answer = await pressing
        assert answer.text in (None, "")
        assert await state_of(app, parent) == AskQuestion.topic.state
        user = await app.store.users.by_chat("tg", parent.chat.id)
        assert user is not None and user.role is not None and user.role.value == "par"

        await parent.send_sticker()
        await feed_all(app)
        assert await state_of(app, parent) == AskQuestion.topic.state  # a sticker does not move the dialog
        # A question written before the notice is agreed to: kept as a draft, the notice shown.
        await parent.send("Не вижу оценки")
        await feed_all(app)
        assert await state_of(app, parent) == ConsentDialog.notice.state
        notice = parent.inbox[-1]
        assert "Персональные данные" in (notice.text or "")
        agreeing = asyncio.create_task(parent.press_data(notice, "pd:y", timeout=2))
        await asyncio.sleep(0.05)
        assert await feed_all(app) == 1
        await agreeing
        assert await state_of(app, parent) == AskQuestion.topic.state  # on where it stopped: the topic
        await parent.send("/cancel")
        await feed_all(app)
        assert await state_of(app, parent) is None
    finally:
        await app.close()


def _sync_callables(router: Router, path: str = "") -> list[str]:
    """Handlers and filters aiogram would run in a worker thread (it does so for every non-async one)."""
    found: list[str] = []
    where = f"{path}/{router.name}"
    for name, observer in router.observers.items():
        for f in observer._handler.filters or []:
            if not f.awaitable:
                found.append(f"{where} {name} router filter {f.callback!r}")
        for handler in observer.handlers:
            if not handler.awaitable:
                found.append(f"{where} {name} handler {handler.callback!r}")
            for f in handler.filters or []:
                if not f.awaitable:
                    found.append(
                        f"{where} {name} {getattr(handler.callback, '__name__', '?')} filter {f.callback!r}"
                    )
    for sub in router.sub_routers:
        found += _sync_callables(sub, where)
    return found


async def test_no_handler_or_filter_runs_in_a_thread(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    """A bare ``F...`` filter costs a thread round trip per check: routers use ``Is(F...)`` instead."""
    app = await make_app(fake_telegram, tmp_path)
    try:
        assert _sync_callables(app.dp) == []
        # And the check itself can fail: a bare magic filter is caught.
        probe = Router(name="probe")
        probe.message.filter(F.chat.type == "private")
        assert len(_sync_callables(probe)) == 1
    finally:
        await app.close()
