"""What the page shows: Telegram messages turned into browser HTML and JSON, the way the clients draw them.

Pure functions over fakegram's stored ``Message`` objects. Text is rendered from ``text`` + ``entities`` (what a
Telegram client receives), not from the HTML the bot sent, so the page shows what Telegram would show.
"""

from __future__ import annotations

import html
import json
from typing import Any

JsonDict = dict[str, Any]

_SAFE_URL_SCHEMES = ("http://", "https://", "tg://", "mailto:", "tel:")

# entity type -> (opening tag, closing tag) in browser HTML
_TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler" title="Нажмите, чтобы показать">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "bot_command": ('<span class="cmd">', "</span>"),
    "mention": ('<span class="mention">', "</span>"),
    "hashtag": ('<span class="mention">', "</span>"),
    "email": ('<span class="mention">', "</span>"),
    "phone_number": ('<span class="mention">', "</span>"),
}


def safe_url(url: str) -> str | None:
    url = url.strip()
    if url.lower().startswith(_SAFE_URL_SCHEMES):
        return url
    if "://" not in url and ":" not in url.split("/", 1)[0] and "." in url:
        return "https://" + url
    return None


def _link(url: str | None) -> tuple[str, str]:
    if url is None:
        return '<span class="link">', "</span>"
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">', "</a>"


def _pair(entity: JsonDict, text_units: bytes) -> tuple[str, str] | None:
    kind = entity.get("type")
    if kind == "text_link":
        return _link(safe_url(str(entity.get("url", ""))))
    if kind == "url":
        start, length = int(entity["offset"]), int(entity["length"])
        shown = text_units[start * 2 : (start + length) * 2].decode("utf-16-le", errors="replace")
        return _link(safe_url(shown))
    if kind == "text_mention":
        return '<span class="mention">', "</span>"
    if kind == "pre" and entity.get("language"):
        lang = html.escape(str(entity["language"]), quote=True)
        return f'<pre data-language="{lang}">', "</pre>"
    return _TAGS.get(str(kind))


def entities_to_html(text: str, entities: list[JsonDict]) -> str:
    """Browser HTML for ``text`` with Telegram ``entities`` (offsets in UTF-16 code units).

    Every character of ``text`` is escaped; only the tags above are produced. Entities that overlap without
    nesting are closed and re-opened around the boundary, as HTML requires.
    """
    data = text.encode("utf-16-le")
    units = len(data) // 2
    spans: list[tuple[int, int, tuple[str, str]]] = []
    for e in entities:
        try:
            start, end = int(e["offset"]), int(e["offset"]) + int(e["length"])
        except (KeyError, TypeError, ValueError):
            continue
        start, end = max(0, start), min(units, end)
        pair = _pair(e, data)
        if pair is not None and end > start:
            spans.append((start, end, pair))
    spans.sort(key=lambda s: (s[0], -s[1]))
    boundaries = sorted({0, units, *(s[0] for s in spans), *(s[1] for s in spans)})
    parts: list[str] = []
    stack: list[tuple[int, int, tuple[str, str]]] = []
    for i, pos in enumerate(boundaries):
        # Close what ends here; anything opened after it is closed first and re-opened if it goes on.
        ending = [s for s in stack if s[1] <= pos]
        if ending:
            lowest = min(stack.index(s) for s in ending)
            reopen = [s for s in stack[lowest:] if s[1] > pos]
            for s in reversed(stack[lowest:]):
                parts.append(s[2][1])
            del stack[lowest:]
            for s in reopen:
                parts.append(s[2][0])
                stack.append(s)
        for s in spans:
            if s[0] == pos:
                parts.append(s[2][0])
                stack.append(s)
        if i + 1 < len(boundaries):
            chunk = data[pos * 2 : boundaries[i + 1] * 2].decode("utf-16-le", errors="replace")
            parts.append(html.escape(chunk, quote=False))
    for s in reversed(stack):
        parts.append(s[2][1])
    return "".join(parts)


def sender_name(raw: JsonDict) -> str:
    sender = raw.get("from") or {}
    name = " ".join(str(x) for x in (sender.get("first_name"), sender.get("last_name")) if x)
    return name or str(raw.get("chat", {}).get("title") or "")


def _snippet(raw: JsonDict) -> str:
    text = raw.get("text") or raw.get("caption")
    if text:
        return str(text)[:120]
    for kind, label in (
        ("photo", "Фото"),
        ("document", "Файл"),
        ("sticker", "Стикер"),
        ("voice", "Голосовое сообщение"),
        ("video_note", "Видеосообщение"),
        ("forum_topic_created", "Тема создана"),
    ):
        if kind in raw:
            return label
    return "Сообщение"


def _service_text(raw: JsonDict) -> str | None:
    for key, label in (
        ("forum_topic_created", "Создана тема «{name}»"),
        ("forum_topic_edited", "Тема изменена: «{name}»"),
        ("forum_topic_closed", "Тема закрыта"),
        ("forum_topic_reopened", "Тема снова открыта"),
        ("pinned_message", "Сообщение закреплено"),
    ):
        if key in raw:
            value = raw[key] if isinstance(raw[key], dict) else {}
            return label.format(name=value.get("name", ""))
    return None


def _media(raw: JsonDict) -> JsonDict | None:
    if raw.get("photo"):
        biggest = max(raw["photo"], key=lambda p: int(p.get("width", 0)) * int(p.get("height", 0)))
        return {
            "type": "photo",
            "file_id": biggest["file_id"],
            "width": biggest.get("width"),
            "height": biggest.get("height"),
            "spoiler": bool(raw.get("has_media_spoiler")),
        }
    for kind in ("document", "voice", "video_note", "audio", "video", "animation", "sticker"):
        if raw.get(kind):
            d = raw[kind]
            return {
                "type": kind,
                "file_id": d.get("file_id"),
                "file_name": d.get("file_name"),
                "mime_type": d.get("mime_type"),
                "size": d.get("file_size"),
                "emoji": d.get("emoji"),
            }
    if raw.get("location"):
        loc = raw["location"]
        return {"type": "location", "latitude": loc.get("latitude"), "longitude": loc.get("longitude")}
    if raw.get("contact"):
        c = raw["contact"]
        return {"type": "contact", "phone_number": c.get("phone_number"), "first_name": c.get("first_name")}
    return None


def _buttons(raw: JsonDict) -> list[list[JsonDict]]:
    rows: list[list[JsonDict]] = []
    for row in (raw.get("reply_markup") or {}).get("inline_keyboard", []):
        out: list[JsonDict] = []
        for b in row:
            button: JsonDict = {"text": str(b.get("text", ""))}
            if b.get("callback_data") is not None:
                button["data"] = str(b["callback_data"])
            elif b.get("url"):
                button["url"] = safe_url(str(b["url"]))
            out.append(button)
        rows.append(out)
    return rows


def message_view(raw: JsonDict, *, from_bot: bool, deleted: bool, edited: bool, is_service: bool) -> JsonDict:
    """Everything the page needs to draw one message."""
    text = raw.get("text")
    caption = raw.get("caption")
    body = text if text is not None else caption
    entities = raw.get("entities") if text is not None else raw.get("caption_entities")
    reply = raw.get("reply_to_message")
    view: JsonDict = {
        "chat_id": int(raw["chat"]["id"]),
        "message_id": int(raw["message_id"]),
        "thread_id": raw.get("message_thread_id"),
        "from_bot": from_bot,
        "sender_id": (raw.get("from") or {}).get("id"),
        "sender": sender_name(raw),
        "date": raw.get("date"),
        "html": entities_to_html(str(body), list(entities or [])) if body else "",
        "media": _media(raw),
        "buttons": _buttons(raw),
        "edited": edited,
        "deleted": deleted,
        "service": _service_text(raw) if is_service else None,
        "reply_to": None,
        "forwarded": bool(raw.get("forward_origin")),
    }
    if reply is not None:
        view["reply_to"] = {
            "message_id": int(reply["message_id"]),
            "sender": sender_name(reply),
            "snippet": _snippet(reply),
            "is_topic_start": "forum_topic_created" in reply,
        }
    return view


def reply_keyboard(markup: Any) -> JsonDict | bool | None:
    """What a send call's ``reply_markup`` does to the chat's reply keyboard.

    Returns the keyboard to show, ``None`` to remove it, ``False`` to leave it as it is.
    """
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return False
    if not isinstance(markup, dict):
        return False
    if markup.get("remove_keyboard"):
        return None
    rows = markup.get("keyboard")
    if not isinstance(rows, list):
        return False
    return {
        "rows": [
            [str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row]
            for row in rows
            if isinstance(row, list)
        ],
        "one_time": bool(markup.get("one_time_keyboard")),
        "placeholder": markup.get("input_field_placeholder"),
    }
