from __future__ import annotations

import pytest

from fakegram.html import EntityParseError, entities_to_html, parse_html, parse_markdown_v2, utf16_len


def test_plain_and_nested_entities() -> None:
    text, ents = parse_html("<b>Привет, <i>мир</i></b> &lt;3 &amp; &quot;q&quot; &#33;&#x21;")
    assert text == 'Привет, мир <3 & "q" !!'
    assert {"type": "bold", "offset": 0, "length": 11} in ents
    assert {"type": "italic", "offset": 8, "length": 3} in ents


def test_utf16_offsets_after_emoji() -> None:
    text, ents = parse_html("👋 <b>x</b>")
    assert utf16_len("👋 ") == 3
    assert ents == [{"type": "bold", "offset": 3, "length": 1}]
    assert text == "👋 x"


def test_all_tags() -> None:
    src = (
        '<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>'
        '<span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler><a href="https://example.com">j</a>'
        '<tg-emoji emoji-id="5368324170671202286">k</tg-emoji><code>l</code>'
        '<pre><code class="language-python">m</code></pre><blockquote>n</blockquote>'
        "<blockquote expandable>o</blockquote>"
    )
    text, ents = parse_html(src)
    assert text == "abcdefghijklmno"
    types = [e["type"] for e in ents]
    assert types == [
        "bold", "italic", "underline", "underline", "strikethrough", "strikethrough", "strikethrough",
        "spoiler", "spoiler", "text_link", "custom_emoji", "code", "pre", "blockquote", "expandable_blockquote",
    ]
    pre = next(e for e in ents if e["type"] == "pre")
    assert pre["language"] == "python"


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("5 <b", "Unclosed start tag at byte offset 2"),
        ("AT&nbsp;T", 'Unsupported HTML entity "&nbsp;" at byte offset 2'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Ы <br>", 'Unsupported start tag "br" at byte offset 3'),
    ],
)
def test_errors(source: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as exc:
        parse_html(source)
    assert str(exc.value) == detail


def test_bare_ampersand_is_text() -> None:
    assert parse_html("AT&T & co")[0] == "AT&T & co"
    assert parse_html("&nbsp;", strict_entities=False)[0] == "&nbsp;"


def test_invalid_link_is_dropped_like_tdlib() -> None:
    text, ents = parse_html('<a href="not a url">x</a>')
    assert text == "x" and ents == []


def test_roundtrip_to_html() -> None:
    text, ents = parse_html("<b>a<i>b</i></b> & <code>c</code>")
    assert entities_to_html(text, ents) == "<b>a<i>b</i></b> &amp; <code>c</code>"


def test_markdown_v2() -> None:
    text, ents = parse_markdown_v2(r"*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://x.ru) 1\.5")
    assert text == "bold it u s sp c l 1.5"
    assert [e["type"] for e in ents] == ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link"]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Версия 1.5")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*bold")
