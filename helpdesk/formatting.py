"""Telegram HTML helpers: escaping, links, measuring and splitting texts to fit a message.

The project's only HTML escaper, tag pattern and user-link builder live here. Pure functions. Limits are counted as Telegram counts them: characters of the text *after* the
HTML is parsed, in UTF-16 code units.
"""

from __future__ import annotations

import html
import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# A tag of our own, well-formed HTML (not a parser for arbitrary HTML).
TAG_RE = re.compile(r"<[^>]+>")


def escape(text: str, *, quote: bool = False) -> str:
    """``text`` made safe for Telegram HTML. Quotes stay as they are in text; an attribute value
    needs ``quote=True``."""
    return html.escape(text, quote=quote)


def plain_text(html_text: str, *, tag_sep: str = "") -> str:
    """What our HTML says, as plain text: tags replaced by ``tag_sep``, entities unescaped."""
    return html.unescape(TAG_RE.sub(tag_sep, html_text))


def user_link(user_id: int | str, name: str) -> str:
    """A mention of a Telegram user: ``name`` (plain text; "—" when empty) linked to ``tg://user?id=...``."""
    return f'<a href="tg://user?id={escape(str(user_id), quote=True)}">{escape(name or "—")}</a>'


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(html_text: str) -> int:
    """Length of what Telegram shows for ``html_text`` (our own, well-formed HTML)."""
    return utf16_len(plain_text(html_text))


def split_plain(text: str, limit: int) -> list[str]:
    """Split plain ``text`` into chunks of at most ``limit`` UTF-16 units, at line or word breaks."""
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # Largest prefix that fits, then back off to a natural break in its second half.
        cut = _fit(rest, limit)
        window = rest[:cut]
        for sep in ("\n\n", "\n", ". ", " "):
            pos = window.rfind(sep)
            if pos >= cut // 2:
                cut = pos + len(sep)
                break
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _fit(text: str, limit: int) -> int:
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def compose(header_html: str, body_plain: str, limit: int = TEXT_LIMIT) -> list[str]:
    """HTML messages: ``header_html`` + escaped ``body_plain``, split so that every part fits ``limit``.

    The header goes with the first part only; the body is split before escaping, so no entity or tag is
    ever cut in half.
    """
    room_first = limit - visible_len(header_html)
    if room_first < 200:
        raise ValueError("header too long for one message")
    if utf16_len(body_plain) <= room_first:
        return [header_html + escape(body_plain)]
    first, *_ = split_plain(body_plain, room_first)
    rest = body_plain[len(first) :].lstrip()
    parts = [header_html + escape(first)]
    parts.extend(escape(chunk) for chunk in split_plain(rest, limit))
    return parts


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut plain ``text`` to at most ``limit`` UTF-16 units, marking the cut."""
    if utf16_len(text) <= limit:
        return text
    return text[: _fit(text, limit - utf16_len(ellipsis))].rstrip() + ellipsis
