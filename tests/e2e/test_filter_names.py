"""End to end (issue 14): names and initials that look like obscene words or insults pass through the whole
bot — a parent's question naming teachers reaches the staff group as a normal ticket, with no session end and
no alert; reported speech in quotation marks too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakegram import FakeTelegram
from tests.e2e.helpers import ask
from tests.e2e.test_conduct import ConductHarness, _run


@pytest.fixture
async def plain(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[ConductHarness]:
    async for h in _run(fake_telegram, tmp_path, False):
        yield h


async def test_teacher_initials_and_lookalike_surname_reach_the_staff_group(plain: ConductHarness) -> None:
    h = plain
    parent = h.user("Ольга", last_name="Дуракова")
    question = "Учитель Петрова Е.Н. не выставила оценки Дуракову Артёму, а Х.Е. Кузьмина говорит ждать"
    number, card = await ask(h, parent, question)
    assert question in card.content
    for text in (
        "С уважением, Дуракова О.Е.",
        "Классный руководитель — Е.Б. Сукина, кабинет 214",
        "Одноклассник назвал сына «сукой», это тоже прошу учесть",
    ):
        await parent.send(text)
        await h.staff().expect(text)
    await h.server.wait_idle()
    alerts = h.server.chat_messages(h.manager_chat) + h.server.chat_messages(h.director_chat)
    assert not [m for m in alerts if "регламент" in m.content or "Нарушение" in m.content]
    assert not [m for m in h.server.chat_messages(parent.chat) if "не передано специалистам" in m.content]
    assert await h.events(parent) == []
    assert number == 1
