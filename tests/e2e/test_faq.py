"""End to end: /faq browsing and search, and /contacts from the school profile."""

from __future__ import annotations

from helpdesk.domain import Topic
from tests.conftest import Harness


async def test_browse_by_topic(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Дарья")
    await parent.send("/faq")
    home = await parent.expect("Справка по электронному журналу и дневнику")
    labels = [label for label, _ in home.buttons]
    assert labels[:2] == ["Электронный дневник (ЭД)", "Электронный журнал (ЭЖ)"]
    assert "🔎 Поиск" in labels

    await parent.press("Электронный дневник")
    await h.server.wait_idle()
    assert h.app is not None
    diary = h.app.kb.by_topic(Topic.DIARY)
    assert len(diary) == 17  # a wall of buttons before: now three pages of six, six and five
    assert f"Статей: {len(diary)}" in home.text and "Страница 1 из 3." in home.text

    def ids() -> list[str]:
        return [str(data).split(":")[3] for label, data in home.buttons if str(data).startswith("fq:a:")]

    def labels() -> list[str]:
        return [label for label, _ in home.buttons]

    assert ids() == [a.id for a in diary[:6]]
    assert labels()[6:] == ["Ещё ›", "« Разделы"]
    assert "Забыли пароль или логин от электронного дневника" in labels()
    assert all(len(str(data).encode()) <= 64 for _, data in home.buttons)

    await parent.press("Ещё")
    await h.server.wait_idle()
    assert "Страница 2 из 3." in home.text and ids() == [a.id for a in diary[6:12]]
    assert labels()[6:] == ["‹ Назад", "Ещё ›", "« Разделы"]

    # An article opened from page 2 goes back to page 2.
    await parent.press("Не видно домашнего задания")
    await h.server.wait_idle()
    assert home.text.startswith("Не видно домашнего задания")
    assert labels() == ["‹ К списку", "« Разделы"]
    await parent.press("К списку")
    await h.server.wait_idle()
    assert "Страница 2 из 3." in home.text and ids() == [a.id for a in diary[6:12]]

    await parent.press("Ещё")
    await h.server.wait_idle()
    assert "Страница 3 из 3." in home.text and ids() == [a.id for a in diary[12:]]
    assert labels()[5:] == ["‹ Назад", "« Разделы"]
    await parent.press("Назад")
    await h.server.wait_idle()
    assert "Страница 2 из 3." in home.text

    # A forged or stale page number shows the nearest page.
    await parent.press_data(home, "fq:t:ed::42")
    await h.server.wait_idle()
    assert "Страница 3 из 3." in home.text

    await parent.press("Разделы")
    await h.server.wait_idle()
    assert "Выберите раздел" in home.text


async def test_search_by_words_with_word_forms(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Ева")
    await parent.send("/faq паролем от дневника")
    results = await parent.expect("Статьи по запросу «паролем от дневника»")
    assert results.buttons[0][0] == "Забыли пароль или логин от электронного дневника"
    await parent.press("Забыли пароль")
    await h.server.wait_idle()
    assert "Госуслуг" in results.text
    assert [label for label, _ in results.buttons] == ["« Разделы"]

    # The search button: the next message is the words.
    await parent.send("/faq")
    await parent.expect("Выберите раздел")
    await parent.press("Поиск")
    await parent.expect("Напишите, что ищете")
    await parent.send("не приходят уведомления")
    found = await parent.expect("Статьи по запросу «не приходят уведомления»")
    assert found.buttons[0][0] == "Уведомления об оценках и сообщениях не приходят"
    # The search is over: the next message is an ordinary one again (it starts a question).
    await parent.send("Как записаться на приём?")
    await parent.expect("уточните, пожалуйста, тему")

    await parent.send("/faq абырвалг")
    await parent.expect("ничего не нашлось")


async def test_contacts_from_the_school_profile(plain_desk: Harness) -> None:
    h = plain_desk
    user = h.user("Жанна")
    await user.send("/contacts")
    got = await user.expect("Контакты школы")
    assert h.app is not None
    school = h.app.school
    assert school.phone in got.text and school.email in got.text
    assert "График консультаций" in got.text
    assert school.vendor.name in got.text
    assert school.vendor.hours in got.text
    assert "/faq" in got.text and "/seminars" in got.text
