"""End to end: who may do what on the staff side. Management (named in the school profile: the harness
names its deputy director) may invite, unlink, announce, list sign-ups, unblock; a plain member of the
staff group and an administrator who is not named are refused every such command and button."""

from __future__ import annotations

from fakegram import Actor
from fakegram.state import full_rights
from tests.conftest import Harness
from tests.e2e.helpers import ask, press_on

REFUSED = "только руководству школы"
MANAGEMENT_COMMANDS = (
    "/invite tech",
    "/unlink tech",
    "/relink 1",
    "/seminar 03.09 15:00; Тема; https://evil.example; родители",
    "/signups",
    "/kbstats",
    "/kbgaps",
    "/kbreload",
    "/kbforget 1",
)


def _deputy(h: Harness) -> Actor:
    return h.server.actor(h.deputy, chat=h.group)


def _unnamed_admin(h: Harness) -> Actor:
    admin = h.server.add_user(first_name="Админ", last_name="Группы")
    h.group.members[admin.id] = admin
    h.group.admins[admin.id] = full_rights()
    return h.server.actor(admin, chat=h.group)


async def test_plain_members_and_unnamed_admins_are_refused_management_commands(plain_desk: Harness) -> None:
    h = plain_desk
    for actor in (h.staff(), _unnamed_admin(h)):
        for command in MANAGEMENT_COMMANDS:
            await actor.send(command)
            await actor.expect(REFUSED)
        await actor.send("/unblock id1")
        await actor.expect("может только руководство школы")
    # Nothing was created: no invite link, no seminar draft.
    texts = [m.text for m in h.server.chat_messages(h.group)]
    assert not any("start=inv_" in t or "Проверьте объявление" in t for t in texts)


async def test_seminar_buttons_check_the_presser_and_the_preview_shows_link_domains(forum_desk: Harness) -> None:
    h = forum_desk
    deputy = _deputy(h)
    await deputy.send("/seminar 03.09 15:00; Вход в ЭЖ; https://evil.example/login; родители")
    preview = await deputy.expect("Проверьте объявление")
    assert "evil.example" in preview.text and "Ссылки в объявлении ведут на" in preview.text
    for actor in (h.staff(), _unnamed_admin(h)):
        for button in ("Объявить", "Не объявлять"):
            answer = await actor.press(button)
            assert answer.show_alert and REFUSED in (answer.text or ""), answer
    # Still a draft: management may announce it.
    answer = await deputy.press("Не объявлять")
    assert not answer.show_alert
    await h.server.wait_idle(timeout=5)
    assert any("Объявление не отправлено" in m.text for m in h.server.chat_messages(h.group))


async def test_invites_expire_are_one_time_and_do_not_replace_a_link_without_management(
    plain_desk: Harness,
) -> None:
    h = plain_desk
    deputy = _deputy(h)

    async def invite() -> str:
        await deputy.send("/invite tech")
        reply = await deputy.expect("Одноразовая ссылка")
        assert "72 ч" in reply.text
        link = next(part for part in reply.text.split() if "start=inv_" in part)
        return link.split("start=")[1]

    # Expired after 72 hours.
    payload = await invite()
    h.clock.advance(hours=73)
    tech = h.user("Иван")
    await tech.send(f"/start {payload}")
    await tech.expect("Срок действия этой ссылки истёк")

    # One time only.
    payload = await invite()
    await tech.send(f"/start {payload}")
    await tech.expect("Вы подключены как")
    stranger = h.user("Чужой")
    await stranger.send(f"/start {payload}")
    await stranger.expect("недействительна")

    # A new invite opened by someone else does not replace the link on its own.
    payload = await invite()
    await stranger.send(f"/start {payload}")
    await stranger.expect("уже подключён с другого аккаунта")
    ask = await deputy.expect("Запрос на замену аккаунта")
    number = ask.text.split("/relink ")[1].split()[0]
    staff = h.staff()
    await staff.send(f"/relink {number}")
    await staff.expect(REFUSED)
    await deputy.send("/specialists")
    assert "✅ Иванов И. И." in (await deputy.expect("Специалисты")).text
    await deputy.send(f"/relink {number}")
    await deputy.expect("теперь подключён как Чужой")
    await deputy.send(f"/relink {number}")
    await deputy.expect("нет или он уже рассмотрен")


async def test_audit_for_management_and_ticket_history_for_staff(desk: Harness) -> None:
    h = desk
    deputy = _deputy(h)
    staff = h.staff()
    parent = h.user("Анна")
    number, card = await ask(h, parent)
    await press_on(staff, card, "Взять")
    await parent.expect("взял в работу")
    await press_on(staff, card, "Закрыть")
    await parent.expect("Специалист закрыл")
    await deputy.send("/invite tech")
    await deputy.expect("Одноразовая ссылка")

    await staff.send(f"/ticket {number}")
    history = await staff.expect(f"Вопрос №{number}")
    lines = history.text.splitlines()[1:]
    assert "Соколова" not in lines[0] and "Ирина" in lines[0] and "взял(а) в работу" in lines[0], lines
    assert "закрыл(а)" in lines[1], lines

    await staff.send("/audit")
    await staff.expect(REFUSED)
    await deputy.send("/audit")
    trail = await deputy.expect("Журнал действий")
    assert trail.text.index("создал(а) приглашение") < trail.text.index("закрыл(а)")
    assert f"id {h.deputy.id}" in trail.text and f"№{number}" in trail.text


async def test_an_anonymous_administrators_answer_reaches_the_user(desk: Harness) -> None:
    """An admin with «Remain anonymous» on: GroupAnonymousBot writes, ``sender_chat`` is the group."""
    h = desk
    parent = h.user("Вера")
    number, card = await ask(h, parent)
    titled = h.server.anonymous_admin(h.group, signature="Завуч")
    untitled = h.server.anonymous_admin(h.group)
    if h.forum:
        assert card.thread_id is not None
        await titled.in_thread(card.thread_id).send("Оценки выставят сегодня")
    else:
        await titled.reply_to(card, "Оценки выставят сегодня")
    signed = await parent.expect("Оценки выставят сегодня")
    assert signed.text.startswith("Завуч, специалист школы:"), signed.text
    if h.forum:
        assert card.thread_id is not None
        await untitled.in_thread(card.thread_id).send("Проверьте ещё раз вечером")
    else:
        await untitled.reply_to(card, "Проверьте ещё раз вечером")
    plain = await parent.expect("Проверьте ещё раз вечером")
    assert plain.text.startswith("Специалист школы:"), plain.text
    # Never management: an anonymous admin's management command is refused.
    await untitled.send("/invite tech")
    await untitled.expect(REFUSED)
    assert number
