from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from helpdesk.formatting import (
    compose,
    escape,
    plain_text,
    shorten,
    split_plain,
    user_link,
    utf16_len,
    visible_len,
)


def test_escape_keeps_quotes_in_text_and_escapes_them_in_attributes() -> None:
    assert escape('<O\'Neil & "Co">') == '&lt;O\'Neil &amp; "Co"&gt;'
    assert escape('a"b\'c', quote=True) == "a&quot;b&#x27;c"


def test_plain_text_drops_tags_and_unescapes() -> None:
    assert plain_text("<b>1 &lt; 2</b>\n<i>x</i>") == "1 < 2\nx"
    assert plain_text("<p>a</p><p>b</p>", tag_sep=" ") == " a  b "


def test_user_link() -> None:
    assert user_link(42, "Анна <Ш>") == '<a href="tg://user?id=42">Анна &lt;Ш&gt;</a>'
    assert user_link('1"2', "x") == '<a href="tg://user?id=1&quot;2">x</a>'


def test_utf16_counts_like_telegram() -> None:
    assert utf16_len("абв") == 3
    assert utf16_len("😀") == 2


def test_split_keeps_every_character_and_fits() -> None:
    text = ("Слово " * 3000).strip()
    parts = split_plain(text, 4096)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_split_without_spaces_and_with_emoji() -> None:
    text = "😀" * 5000
    parts = split_plain(text, 4096)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text


def test_compose_escapes_and_splits_before_escaping() -> None:
    body = "<b>&amp;</b> " * 1000
    parts = compose("<b>Заголовок</b>\n", body, 4096)
    assert len(parts) >= 2
    assert all(visible_len(p) <= 4096 for p in parts)
    assert parts[0].startswith("<b>Заголовок</b>\n&lt;b&gt;")
    assert "<b>&amp;" not in "".join(parts[1:])


def test_short_body_is_one_part() -> None:
    assert compose("H: ", "a < b") == ["H: a &lt; b"]
    assert escape('"q" & <t>') == '"q" &amp; &lt;t&gt;'


def test_shorten() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefgh", 5) == "abcd…"


@given(st.text(max_size=300))
def test_plain_message_html_is_aiograms(text: str) -> None:
    """html_of takes a short cut for a message without formatting; the result is aiogram's html_text."""
    from aiogram.types import Chat, Message

    from bot.inbound import html_of

    message = Message(
        message_id=1, date=datetime(2026, 9, 1, tzinfo=UTC), chat=Chat(id=1, type="private"), text=text or None
    )
    assert html_of(message) == (message.html_text if text else "")


def test_html_of_a_text_mention_without_its_user_is_the_plain_text() -> None:
    """Found by the fuzz test: aiogram's html_text fails on a text mention with no user (Telegram always sends
    one); the message is still taken, without its formatting."""
    import datetime

    from aiogram.types import Chat, Message, MessageEntity

    from bot.inbound import html_of

    message = Message(
        message_id=1,
        date=datetime.datetime(2026, 9, 1),
        chat=Chat(id=1, type="private"),
        text="Иванова <b>",
        entities=[MessageEntity(type="text_mention", offset=0, length=7)],
    )
    assert html_of(message) == "Иванова &lt;b&gt;"
