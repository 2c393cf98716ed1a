"""Personal data: the pure rules (versions, the gate, the minimum to staff, what is due), the profile's
[privacy] table, real erasure in the SQLite file, and no message text in the logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpdesk.domain import Role
from helpdesk.privacy import staff_label
from helpdesk.rules.privacy import (
    DEFAULT_PRIVACY,
    Gate,
    PrivacySettings,
    cutoffs,
    due_daily,
    gate,
    needs_consent,
    notice_version,
    staff_name,
)
from helpdesk.school import ProfileError, load_profile
from storage.db import Database
from storage.users import User

EXAMPLE = Path(__file__).resolve().parents[2] / "school.example.toml"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_the_version_follows_the_words_not_the_spacing() -> None:
    v = notice_version("Школа хранит  Ваши вопросы\n400 дней")
    assert v == notice_version("Школа хранит Ваши вопросы 400 дней")
    assert v != notice_version("Школа хранит Ваши вопросы 300 дней")
    assert needs_consent(None, v) and needs_consent("n-old", v) and not needs_consent(v, v)


def test_the_gate() -> None:
    v = "n1"
    assert gate(agreed_version=None, current_version=v, role=None, parent_confirmed=False,
                settings=DEFAULT_PRIVACY) is Gate.CONSENT
    assert gate(agreed_version=v, current_version=v, role=Role.STUDENT, parent_confirmed=False,
                settings=DEFAULT_PRIVACY) is Gate.OPEN
    strict = PrivacySettings(students_need_parent=True)
    assert gate(agreed_version=v, current_version=v, role=Role.STUDENT, parent_confirmed=False,
                settings=strict) is Gate.PARENT
    assert gate(agreed_version=v, current_version=v, role=Role.STUDENT, parent_confirmed=True,
                settings=strict) is Gate.OPEN
    assert gate(agreed_version=v, current_version=v, role=Role.PARENT, parent_confirmed=False,
                settings=strict) is Gate.OPEN


def _user(**kw: object) -> User:
    base: dict[str, object] = dict(
        id=1, channel="tg", external_id="42", chat_id=42, first_name="Анна", last_name="Петрова", username="anna",
        client_language="ru", locale=None, role=Role.PARENT, unreachable=False, staff_thread_id=None,
    )
    base.update(kw)
    return User(**base)  # type: ignore[arg-type]


def test_staff_see_the_first_name_unless_the_school_says_more() -> None:
    assert staff_name("Анна", "Петрова", DEFAULT_PRIVACY) == "Анна"
    assert staff_name("Анна", "Петрова", PrivacySettings(show_full_name=True)) == "Анна Петрова"
    assert staff_label(_user(), DEFAULT_PRIVACY) == "Анна"
    assert staff_label(_user(first_name="<b>"), DEFAULT_PRIVACY) == "&lt;b&gt;"
    linked = staff_label(_user(), PrivacySettings(show_full_name=True, show_profile_link=True))
    assert linked == '<a href="tg://user?id=42">Анна Петрова</a>'


def test_what_is_due() -> None:
    due = cutoffs(NOW, PrivacySettings(ticket_texts_days=400, inactive_user_days=300, conduct_days=1095,
                                       service_days=30))
    assert due.ticket_texts == NOW - timedelta(days=400)
    assert due.inactive_users == NOW - timedelta(days=300)
    assert due.conduct == NOW - timedelta(days=1095)
    assert due.service == NOW - timedelta(days=30)
    assert due_daily(None, NOW)
    assert not due_daily(NOW - timedelta(hours=23), NOW)
    assert due_daily(NOW - timedelta(hours=24), NOW)


def test_the_profile_defaults_and_checks_the_privacy_table(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert load_profile(EXAMPLE).privacy == DEFAULT_PRIVACY
    path = tmp_path / "school.toml"
    path.write_text(text.replace("show_full_name = false", 'show_full_name = "да"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="show_full_name"):
        load_profile(path)
    path.write_text(text.replace("ticket_texts_days = 400", "ticket_texts_days = 0"), encoding="utf-8")
    with pytest.raises(ProfileError, match="ticket_texts_days"):
        load_profile(path)
    path.write_text(text.replace("[privacy]", "[privacy]\nretain_forever = true"), encoding="utf-8")
    with pytest.raises(ProfileError, match="retain_forever"):
        load_profile(path)
    path.write_text(
        text.replace("# policy_url =", "policy_url =").replace("students_need_parent = false",
                                                              "students_need_parent = true"),
        encoding="utf-8",
    )
    privacy = load_profile(path).privacy
    assert privacy.students_need_parent and (privacy.policy_url or "").startswith("https://")


async def test_deleted_text_is_zeroed_in_the_file_and_the_log(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "d.sqlite3")
    try:
        secret = "Секрет QX-UNIT-77 " * 20
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO fsm (key, state, data, updated_at) VALUES ('k', NULL, ?, ?)", (secret, NOW.isoformat())
            )
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM fsm WHERE key = 'k'")
        assert await db.checkpoint()
        wal = tmp_path / "d.sqlite3-wal"
        data = (tmp_path / "d.sqlite3").read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert b"QX-UNIT-77" not in data
        # The control: the same with secure_delete off (some SQLite builds' default) leaves the text behind.
        for conn in (db.conn, db.writer):
            assert conn is not None
            assert (await conn.execute_fetchall("PRAGMA secure_delete"))[0][0] == 1  # type: ignore[index]
        await db.conn.execute("PRAGMA secure_delete=OFF")
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO fsm (key, state, data, updated_at) VALUES ('k', NULL, ?, ?)", (secret, NOW.isoformat())
            )
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM fsm WHERE key = 'k'")
        assert await db.checkpoint()
        assert b"QX-UNIT-77" in (tmp_path / "d.sqlite3").read_bytes()
    finally:
        await db.close()


async def test_no_message_text_in_the_log_even_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("aiosqlite").setLevel(logging.DEBUG)  # someone turns it on: the filter still holds
    db = await Database.open(tmp_path / "d.sqlite3")
    try:
        logging.getLogger("aiosqlite").setLevel(logging.DEBUG)
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO fsm (key, state, data, updated_at) VALUES ('k', NULL, ?, ?)",
                ("Мой вопрос QX-LOG-78", NOW.isoformat()),
            )
    finally:
        await db.close()
    assert "QX-LOG-78" not in caplog.text


def test_management_alerts_carry_only_an_excerpt(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from helpdesk.conduct_desk import ConductDesk
    from helpdesk.texts import Texts

    long_text = "Плохие слова " + "и ещё много текста " * 50 + "КОНЕЦ-QX"
    desk = SimpleNamespace(school=load_profile(EXAMPLE), staff_tr=Texts().staff)
    excerpt = ConductDesk.evidence(desk, long_text)  # type: ignore[arg-type]
    assert excerpt.startswith("Плохие слова") and "КОНЕЦ-QX" not in excerpt
    assert len(excerpt) <= DEFAULT_PRIVACY.alert_excerpt
    path = tmp_path / "school.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("alert_excerpt = 200", "alert_excerpt = 0"),
                    encoding="utf-8")
    none = ConductDesk.evidence(SimpleNamespace(school=load_profile(path), staff_tr=Texts().staff), long_text)  # type: ignore[arg-type]
    assert "Плохие" not in none
