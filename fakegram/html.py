"""Telegram formatting: parse_mode HTML / MarkdownV2 / Markdown to plain text + MessageEntity list.

The HTML parser follows the algorithm of TDLib's ``parse_html`` (used by the Bot API server):
same set of tags, same error messages ("Unsupported start tag ... at byte offset N", "Can't find
end tag corresponding to start tag ...", ...), byte offsets counted in UTF-8 of the source and
entity offsets/lengths counted in UTF-16 code units of the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]


class EntityParseError(Exception):
    """Formatting error; str(e) is the detail after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "tg-emoji", "blockquote"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_URL_RE = re.compile(r"^(https?|tg|ftp)://[^\s]+$|^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/\S*)?$", re.IGNORECASE)


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    result_pos: int
    expandable: bool = False


def _is_space(ch: str) -> bool:
    return ch in " \t\r\n\f\v"


class _Src:
    """Source text with byte offsets (TDLib reports UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._prefix: list[int] = [0]
        for ch in text:
            self._prefix.append(self._prefix[-1] + len(ch.encode("utf-8")))

    def byte(self, i: int) -> int:
        return self._prefix[i]

    def at(self, i: int) -> str:
        return self.text[i] if i < len(self.text) else "\0"


def _decode_entity(text: str, i: int, strict: bool) -> tuple[str, int] | None:
    """Decode an HTML entity at text[i] == '&'; returns (char, new index) or None."""
    m = _ENTITY_RE.match(text, i)
    if not m:
        return None
    body = m.group(1)
    if body.startswith("#"):
        try:
            code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return None
            return chr(code), m.end()
        except ValueError:
            return None
    if body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body], m.end()
    if strict:
        raise _UnknownEntity(m.group(0))
    return None


class _UnknownEntity(Exception):
    pass


def parse_html(text: str, *, strict_entities: bool = True) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML; returns (plain text, entities) or raises EntityParseError.

    ``strict_entities``: reject unknown named entities such as ``&nbsp;`` (Telegram documents
    only &lt; &gt; &amp; &quot;); TDLib itself would keep them as literal text.
    """
    src = _Src(text)
    result: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    stack: list[_Open] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            try:
                dec = _decode_entity(text, i, strict_entities)
            except _UnknownEntity as e:
                raise EntityParseError(
                    f'Unsupported HTML entity "{e.args[0]}" at byte offset {src.byte(i)}'
                ) from None
            if dec is not None:
                ch, i = dec
                result.append(ch)
                utf16 += utf16_len(ch)
                continue
        if c != "<":
            result.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if src.at(i) != "/":
            while i < n and not _is_space(text[i]) and text[i] != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {src.byte(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _ALLOWED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {src.byte(begin)}')
            argument = ""
            expandable = False
            while src.at(i) != ">":
                while i < n and _is_space(text[i]):
                    i += 1
                if src.at(i) == ">":
                    break
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {src.byte(begin)}')
                attr_begin = i
                while i < n and not _is_space(text[i]) and text[i] not in "=>":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {src.byte(begin)}'
                    )
                while i < n and _is_space(text[i]):
                    i += 1
                if src.at(i) != "=":
                    if tag == "blockquote" and attr_name.lower() == "expandable":
                        expandable = True
                        continue
                    if i >= n:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {src.byte(begin)}')
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {src.byte(begin)}"
                    )
                i += 1
                while i < n and _is_space(text[i]):
                    i += 1
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {src.byte(begin)}')
                value_chars: list[str] = []
                if text[i] not in "'\"":
                    token_begin = i
                    while i < n and (text[i].isalnum() or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if src.at(i) != ">" and not _is_space(src.at(i)):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {src.byte(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            try:
                                dec = _decode_entity(text, i, False)
                            except _UnknownEntity:  # pragma: no cover - strict=False never raises
                                dec = None
                            if dec is not None:
                                value_chars.append(dec[0])
                                i = dec[1]
                                continue
                        value_chars.append(text[i])
                        i += 1
                    if i >= n:
                        raise EntityParseError(f"Unclosed start tag at byte offset {src.byte(begin)}")
                    i += 1
                    value = "".join(value_chars)
                name = attr_name.lower()
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and name == "expandable":
                    expandable = True
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {src.byte(begin)}'
                )
            i += 1  # skip '>'
            stack.append(_Open(tag, argument, utf16, len(result), expandable))
        else:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {src.byte(begin)}")
            i += 1
            name_begin = i
            while i < n and not _is_space(text[i]) and text[i] != ">":
                i += 1
            end_tag = text[name_begin:i].lower()
            while i < n and _is_space(text[i]):
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {src.byte(begin)}")
            i += 1
            top = stack[-1]
            if end_tag and end_tag != top.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {src.byte(begin)}, expected "</{top.tag}>", '
                    f'found "</{end_tag}>"'
                )
            stack.pop()
            if utf16 > top.utf16_offset:
                _close_entity(top, utf16, "".join(result[top.result_pos :]), entities)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    plain = "".join(result)
    return plain, _merge_pre_code(entities)


def _close_entity(top: _Open, utf16_end: int, inner: str, entities: list[Entity]) -> None:
    length = utf16_end - top.utf16_offset
    ent: Entity = {"offset": top.utf16_offset, "length": length}
    if top.tag in _SIMPLE_TAGS:
        ent["type"] = _SIMPLE_TAGS[top.tag]
        if top.tag == "code" and top.argument:
            ent["language"] = top.argument  # merged into an enclosing <pre> below
    elif top.tag == "a":
        url = top.argument or inner
        if url.startswith("tg://user?id="):
            try:
                uid = int(url[len("tg://user?id=") :])
            except ValueError:
                return
            ent["type"] = "text_mention"
            ent["user"] = {"id": uid, "is_bot": False, "first_name": inner or str(uid)}
        elif _URL_RE.match(url):
            ent["type"] = "text_link"
            ent["url"] = url if "://" in url else "http://" + url
        else:
            return  # TDLib silently drops links with invalid URLs
    elif top.tag == "tg-emoji":
        if not top.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        ent["type"] = "custom_emoji"
        ent["custom_emoji_id"] = top.argument
    elif top.tag == "blockquote":
        ent["type"] = "expandable_blockquote" if top.expandable else "blockquote"
    entities.append(ent)


def _merge_pre_code(entities: list[Entity]) -> list[Entity]:
    """<pre><code class="language-x">...</code></pre> is one pre entity with language x."""
    out: list[Entity] = []
    for e in entities:
        if e["type"] == "pre":
            for other in entities:
                if (
                    other["type"] == "code"
                    and other["offset"] == e["offset"]
                    and other["length"] == e["length"]
                    and "language" in other
                ):
                    e = {**e, "language": other["language"]}
                    other["_drop"] = True
        out.append(e)
    result = []
    for e in out:
        if e.pop("_drop", False):
            continue
        if e["type"] == "code":
            e.pop("language", None)
        result.append(e)
    result.sort(key=lambda x: (x["offset"], -x["length"]))
    return result


# --- MarkdownV2 ---------------------------------------------------------------------------

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKS = [("||", "spoiler"), ("__", "underline"), ("*", "bold"), ("_", "italic"), ("~", "strikethrough")]
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
}


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """MarkdownV2 subset: *bold* _italic_ __underline__ ~strike~ ||spoiler|| `code` ```pre```
    [text](url), \\-escapes and > blockquotes; unescaped reserved characters are rejected with
    Telegram's message "Character 'X' is reserved and must be escaped with the preceding '\\'"."""
    src = _Src(text)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    stack: list[tuple[str, int, int]] = []  # (type, utf16 offset, byte offset)
    link_stack: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    quote_start: int | None = None
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == ">":
            if quote_start is None:
                quote_start = utf16
            i += 1
            line_start = False
            continue
        if c == "\n":
            if quote_start is not None and not text.startswith(">", i + 1):
                if utf16 > quote_start:
                    entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
                quote_start = None
            out.append(c)
            utf16 += 1
            i += 1
            line_start = True
            continue
        line_start = False
        if c == "\\":
            if i + 1 < n and 1 <= ord(text[i + 1]) <= 126:
                out.append(text[i + 1])
                utf16 += utf16_len(text[i + 1])
                i += 2
                continue
            raise EntityParseError("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if c == "`":
            if text.startswith("```", i):
                end = text.find("```", i + 3)
                if end < 0:
                    raise EntityParseError(f"Can't find end of Pre entity at byte offset {src.byte(i)}")
                body = text[i + 3 : end]
                language = ""
                if "\n" in body:
                    first, rest = body.split("\n", 1)
                    if first and not _is_space(first[0]):
                        language, body = first, rest
                body = re.sub(r"\\([`\\])", r"\1", body)
                ent: Entity = {"type": "pre", "offset": utf16, "length": utf16_len(body)}
                if language:
                    ent["language"] = language
                if body:
                    entities.append(ent)
                out.append(body)
                utf16 += utf16_len(body)
                i = end + 3
                continue
            end = i + 1
            while end < n and text[end] != "`":
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {src.byte(i)}")
            body = re.sub(r"\\([`\\])", r"\1", text[i + 1 : end])
            if body:
                entities.append({"type": "code", "offset": utf16, "length": utf16_len(body)})
            out.append(body)
            utf16 += utf16_len(body)
            i = end + 1
            continue
        if c == "[":
            link_stack.append((utf16, src.byte(i)))
            i += 1
            continue
        if c == "]" and link_stack:
            start16, _ = link_stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError("Character ']' is reserved and must be escaped with the preceding '\\'")
            end = text.find(")", i + 2)
            if end < 0:
                raise EntityParseError(f"Can't find end of a URL at byte offset {src.byte(i + 1)}")
            url = text[i + 2 : end].replace("\\)", ")").replace("\\\\", "\\")
            if utf16 > start16:
                if url.startswith("tg://user?id="):
                    uid = int(url.split("=", 1)[1]) if url.split("=", 1)[1].isdigit() else 0
                    entities.append(
                        {
                            "type": "text_mention",
                            "offset": start16,
                            "length": utf16 - start16,
                            "user": {"id": uid, "is_bot": False, "first_name": str(uid)},
                        }
                    )
                else:
                    entities.append({"type": "text_link", "offset": start16, "length": utf16 - start16, "url": url})
            i = end + 1
            continue
        matched = False
        for mark, etype in _MDV2_MARKS:
            if text.startswith(mark, i):
                if stack and stack[-1][0] == etype:
                    _, off, _b = stack.pop()
                    if utf16 > off:
                        entities.append({"type": etype, "offset": off, "length": utf16 - off})
                elif any(s[0] == etype for s in stack):
                    raise EntityParseError(
                        f"Can't find end of {_MDV2_NAMES[etype]} entity at byte offset "
                        f"{next(s[2] for s in stack if s[0] == etype)}"
                    )
                else:
                    stack.append((etype, utf16, src.byte(i)))
                i += len(mark)
                matched = True
                break
        if matched:
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        out.append(c)
        utf16 += utf16_len(c)
        i += 1
    if stack:
        etype, _, byte_off = stack[-1]
        raise EntityParseError(f"Can't find end of {_MDV2_NAMES[etype]} entity at byte offset {byte_off}")
    if link_stack:
        raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {link_stack[-1][1]}")
    if quote_start is not None and utf16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
    entities.sort(key=lambda x: (x["offset"], -x["length"]))
    return "".join(out), entities


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url)."""
    src = _Src(text)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        if c in "*_`[":
            if c == "`" and text.startswith("```", i):
                end = text.find("```", i + 3)
                if end < 0:
                    raise EntityParseError(f"Can't find end of the entity starting at byte offset {src.byte(i)}")
                body = text[i + 3 : end]
                ent: Entity = {"type": "pre", "offset": utf16, "length": utf16_len(body)}
                if body:
                    entities.append(ent)
                out.append(body)
                utf16 += utf16_len(body)
                i = end + 3
                continue
            close = "]" if c == "[" else c
            end = text.find(close, i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {src.byte(i)}")
            body = text[i + 1 : end]
            if c == "[":
                if not text.startswith("(", end + 1) or text.find(")", end + 2) < 0:
                    raise EntityParseError(f"Can't find end of the entity starting at byte offset {src.byte(i)}")
                url_end = text.find(")", end + 2)
                url = text[end + 2 : url_end]
                if body:
                    entities.append({"type": "text_link", "offset": utf16, "length": utf16_len(body), "url": url})
                i = url_end + 1
            else:
                etype = {"*": "bold", "_": "italic", "`": "code"}[c]
                if body:
                    entities.append({"type": etype, "offset": utf16, "length": utf16_len(body)})
                i = end + 1
            out.append(body)
            utf16 += utf16_len(body)
            continue
        out.append(c)
        utf16 += utf16_len(c)
        i += 1
    return "".join(out), entities


def parse_formatted(text: str, parse_mode: str | None, *, strict_entities: bool = True) -> tuple[str, list[Entity]]:
    """Dispatch on parse_mode (case-insensitive, like Telegram). Raises EntityParseError or ValueError
    (unsupported parse_mode)."""
    mode = (parse_mode or "").lower()
    if mode in ("", "none"):
        return text, []
    if mode == "html":
        return parse_html(text, strict_entities=strict_entities)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError(parse_mode)


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim leading/trailing whitespace like Telegram, keeping entity offsets consistent."""
    left = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift = utf16_len(text[:left])
    total = utf16_len(stripped)
    out: list[Entity] = []
    for e in entities:
        start = max(0, e["offset"] - shift)
        end = min(total, e["offset"] + e["length"] - shift)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return stripped, out


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Render text + entities back to Telegram HTML (used to show copies/edits in sandboxes)."""
    data = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    tags = {
        "bold": ("<b>", "</b>"),
        "italic": ("<i>", "</i>"),
        "underline": ("<u>", "</u>"),
        "strikethrough": ("<s>", "</s>"),
        "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
        "code": ("<code>", "</code>"),
        "pre": ("<pre>", "</pre>"),
        "blockquote": ("<blockquote>", "</blockquote>"),
        "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
    }
    for e in sorted(entities, key=lambda x: (x["offset"], -x["length"])):
        if e["type"] == "text_link":
            pair = (f'<a href="{_escape(e.get("url", ""))}">', "</a>")
        elif e["type"] in tags:
            pair = tags[e["type"]]
        else:
            continue
        opens.setdefault(e["offset"], []).append(pair[0])
        closes.setdefault(e["offset"] + e["length"], []).insert(0, pair[1])
    parts: list[str] = []
    units = len(data) // 2
    pos = 0
    while pos <= units:
        parts.extend(closes.get(pos, []))
        parts.extend(opens.get(pos, []))
        if pos == units:
            break
        step = 2 if 0xD800 <= int.from_bytes(data[pos * 2 : pos * 2 + 2], "little") <= 0xDBFF else 1
        parts.append(_escape(data[pos * 2 : (pos + step) * 2].decode("utf-16-le", errors="replace")))
        pos += step
    return "".join(parts)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
