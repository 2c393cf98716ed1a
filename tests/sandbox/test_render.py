"""Pure parts of the sandbox: Telegram entities to browser HTML, the reply keyboard, the offset clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fakegram import parse_html
from helpdesk.clock import ManualClock
from sandbox.clock import OffsetClock, parse_local, preset_moment
from sandbox.render import entities_to_html, message_view, reply_keyboard, safe_url

MSK = ZoneInfo("Europe/Moscow")


def render(telegram_html: str) -> str:
    """What the page shows for a message the bot sent with parse_mode=HTML."""
    text, entities = parse_html(telegram_html)
    return entities_to_html(text, entities)


def test_formatting_is_rendered_and_user_text_stays_escaped() -> None:
    assert render("<b>Вопрос №1</b> &lt;script&gt;alert(1)&lt;/script&gt;") == (
        "<b>Вопрос №1</b> &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert render("<i>курсив</i> и <code>код</code>") == "<i>курсив</i> и <code>код</code>"
    assert render("<blockquote>цитата</blockquote>") == "<blockquote>цитата</blockquote>"
    assert 'class="spoiler"' in render("<tg-spoiler>пароль</tg-spoiler>")


def test_links_open_outside_and_only_safe_schemes_become_links() -> None:
    html = render('<a href="https://school.example/help?a=1&amp;b=2">справка</a>')
    assert html == (
        '<a href="https://school.example/help?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">справка</a>'
    )
    assert safe_url("javascript:alert(1)") is None
    bad_link = {"type": "text_link", "offset": 0, "length": 1, "url": "javascript:alert(1)"}
    assert entities_to_html("x", [bad_link]) == '<span class="link">x</span>'
    assert safe_url("school.example") == "https://school.example"


def test_offsets_are_utf16_and_nesting_is_kept() -> None:
    # 👍 is two UTF-16 code units: the bold part must start after it, not inside it.
    text = "👍 жирный курсив"
    entities = [
        {"type": "bold", "offset": 3, "length": 13},
        {"type": "italic", "offset": 10, "length": 6},
    ]
    assert entities_to_html(text, entities) == "👍 <b>жирный <i>курсив</i></b>"


def test_overlapping_entities_are_closed_and_reopened() -> None:
    entities = [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 2, "length": 4}]
    assert entities_to_html("abcdef", entities) == "<b>ab<i>cd</i></b><i>ef</i>"


def test_message_view_carries_buttons_reply_and_media() -> None:
    raw = {
        "message_id": 7,
        "chat": {"id": -100, "type": "supergroup"},
        "from": {"id": 1, "first_name": "Помощник", "is_bot": True},
        "date": 1,
        "caption": "снимок",
        "photo": [
            {"file_id": "small", "width": 90, "height": 60},
            {"file_id": "big", "width": 800, "height": 600},
        ],
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Взять", "callback_data": "t:1"}, {"text": "Сайт", "url": "https://x.ru"}]
            ]
        },
        "reply_to_message": {
            "message_id": 3,
            "chat": {"id": -100},
            "from": {"id": 2, "first_name": "Анна"},
            "text": "вопрос",
        },
    }
    view = message_view(raw, from_bot=True, deleted=False, edited=True, is_service=False)
    assert view["html"] == "снимок"
    assert view["media"]["file_id"] == "big"
    assert view["buttons"] == [[{"text": "Взять", "data": "t:1"}, {"text": "Сайт", "url": "https://x.ru"}]]
    assert view["reply_to"] == {
        "message_id": 3,
        "sender": "Анна",
        "snippet": "вопрос",
        "is_topic_start": False,
    }
    assert view["edited"] is True


def test_reply_keyboard_changes() -> None:
    shown = reply_keyboard('{"keyboard": [[{"text": "Да"}, {"text": "Нет"}]], "one_time_keyboard": true}')
    assert shown == {"rows": [["Да", "Нет"]], "one_time": True, "placeholder": None}
    assert reply_keyboard({"remove_keyboard": True}) is None
    assert reply_keyboard({"inline_keyboard": []}) is False
    assert reply_keyboard(None) is False


def test_offset_clock_runs_on_from_the_chosen_moment() -> None:
    base = ManualClock(datetime(2026, 9, 2, 9, 0, tzinfo=UTC))  # a Wednesday, 12:00 in Moscow
    clock = OffsetClock(base)
    assert clock() == base() and not clock.shifted
    saturday = preset_moment("saturday", clock(), MSK)
    assert saturday.astimezone(MSK).isoformat() == "2026-09-05T20:00:00+03:00"
    clock.set(saturday)
    base.advance(minutes=5)
    assert clock() == saturday + timedelta(minutes=5) and clock.shifted
    clock.advance(timedelta(days=1))
    assert clock().astimezone(MSK).weekday() == 6
    clock.reset()
    assert clock() == base()


def test_presets_and_typed_moments() -> None:
    tuesday_evening = datetime(2026, 9, 8, 18, 0, tzinfo=MSK)
    # Tuesday 15:30 has passed: the next one is a week later.
    assert preset_moment("weekday", tuesday_evening, MSK).astimezone(MSK) == datetime(
        2026, 9, 15, 15, 30, tzinfo=MSK
    )
    assert parse_local("2026-09-12T20:00", MSK) == datetime(2026, 9, 12, 20, 0, tzinfo=MSK)
    with pytest.raises(ValueError):
        parse_local("суббота", MSK)
    with pytest.raises(ValueError):
        OffsetClock().set(datetime(2026, 9, 12, 20, 0))
