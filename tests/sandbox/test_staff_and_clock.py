"""The sandbox without a browser: its staff are the example profile's specialists (linked, so answers are signed
with their names and the one who takes a question is told privately), messages carry the bot's clock, and the
clock's presets land inside the consultations they are named for."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpdesk.rules.schedule import windows_on
from helpdesk.school import SpecialistKind, load_profile
from sandbox.clock import PRESETS, preset_moment
from sandbox.core import Sandbox
from tests.sandbox.conftest import ROOT, UnpacedSandbox

MSK = ZoneInfo("Europe/Moscow")
PROFILE = load_profile(ROOT / "school.example.toml")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = UnpacedSandbox(database_path=tmp_path / "sandbox.sqlite3", forum=True)
    await box.start()
    try:
        assert box.status == "running"
        yield box
    finally:
        box.closing = True
        await box.stop()


async def test_staff_are_the_profiles_specialists_signed_and_told_privately(sandbox: Sandbox) -> None:
    server, group = sandbox.server, sandbox.group
    assert server is not None and group is not None
    sandbox.set_clock(preset="login")  # Monday 14:30: the technical specialist consults
    parent = server.actor(sandbox.people["parent"].user)
    tech = sandbox.people["staff:tech"].user
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.expect("Выберите тему")
    await parent.press("Вход и пароль")
    await parent.expect("Опишите")
    await parent.send("Не могу войти в дневник, забыла пароль")
    await parent.press("✅ Согласен(на)")  # the personal-data notice, before the question goes to staff
    await parent.expect("Проверьте")
    await parent.press("Отправить")
    await parent.expect("принят")

    # The technical specialist is told in his own chat with the bot, as a linked specialist is.
    notice = await server.actor(tech).expect("для Вас", timeout=10)
    assert "№1" in notice.text
    card = await server.actor(tech, chat=group).expect("Вопрос №1", timeout=10)
    assert "Иванов И. И." in card.text
    await server.actor(tech, chat=group).in_thread(card.thread_id).send("Пароль можно сбросить через Госуслуги.")  # type: ignore[arg-type]
    answer = await parent.expect("Госуслуги", timeout=10)
    assert "Иванов И. И., технический специалист" in answer.text
    assert "Иван," not in answer.text


async def test_messages_carry_the_bots_clock(sandbox: Sandbox) -> None:
    server = sandbox.server
    assert server is not None
    sandbox.set_clock(preset="saturday")
    parent = server.actor(sandbox.people["parent"].user)
    sent = await parent.send("/start")
    greeting = await parent.expect("Здравствуйте")
    bot_time = sandbox.clock().timestamp()
    for msg in (sent, greeting):
        assert abs(msg.raw["date"] - bot_time) < 60, (msg.raw["date"], bot_time)
        assert abs(msg.raw["date"] - time.time()) > 3600  # not the machine's clock
        local = datetime.fromtimestamp(msg.raw["date"], MSK)
        assert (local.weekday(), local.hour) == (5, 20)
    view = next(m for m in sandbox.snapshot()["messages"] if m["message_id"] == greeting.message_id)
    assert view["date"] == greeting.raw["date"]


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p.kind is not None])
def test_presets_land_inside_the_consultations_they_are_named_for(name: str) -> None:
    """From any day of the school year (holidays, and the change that gives a slot to somebody else,
    included) the preset is a moment at which its kind of helper consults by the example profile."""
    kind = PRESETS[name].kind
    start = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    for day in range(0, 300, 1):
        now = start + timedelta(days=day, hours=day % 11)
        moment = preset_moment(name, now, MSK, PROFILE).astimezone(MSK)
        assert moment > now
        running = [w for w in windows_on(PROFILE, moment.date()) if w.contains(moment)]
        assert any(w.specialist.kind == kind for w in running), (name, now, moment, running)


def test_the_consultation_presets_name_the_right_helpers() -> None:
    assert PRESETS["login"].kind is SpecialistKind.TECH and PRESETS["weekday"].kind is SpecialistKind.DEPUTY
    # Winter holidays (28.12–11.01): Tuesday's preset goes to the first Tuesday after them.
    moment = preset_moment("weekday", datetime(2026, 12, 26, 12, 0, tzinfo=MSK), MSK, PROFILE).astimezone(MSK)
    assert moment == datetime(2027, 1, 12, 15, 30, tzinfo=MSK)
