"""Every text exists in every locale with the same placeholders, and renders as valid Telegram HTML."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.pofile import read_po

from helpdesk.texts import LOCALES_DIR, Texts

ROOT = Path(__file__).resolve().parents[2]


def catalog(locale: str) -> dict[str, str]:
    """All texts of a locale: every ``.po`` file in its LC_MESSAGES folder."""
    merged: dict[str, str] = {}
    for po in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            cat = read_po(f, locale=locale)
        for m in cat:
            if m.id:
                assert str(m.id) not in merged, f"{po.name}: {m.id} defined twice"
                merged[str(m.id)] = str(m.string)
    return merged


def test_same_files_in_every_locale() -> None:
    names = {loc: sorted(p.name for p in (LOCALES_DIR / loc / "LC_MESSAGES").glob("*.po")) for loc in ("ru", "en")}
    assert names["ru"] == names["en"]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_and_placeholders_in_ru_and_en() -> None:
    ru, en = catalog("ru"), catalog("en")
    assert ru.keys() == en.keys()
    for key in ru:
        assert ru[key] and en[key], f"{key} is empty"
        assert placeholders(ru[key]) == placeholders(en[key]), key


def test_every_key_used_in_code_exists() -> None:
    keys = set(catalog("ru"))
    used: set[str] = set()
    pattern = re.compile(r"""\btr\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = used - keys
    assert not missing, missing


def test_texts_use_only_telegram_tags() -> None:
    allowed = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}
    for locale in ("ru", "en"):
        for key, text in catalog(locale).items():
            for tag in re.findall(r"</?([a-z-]+)", text):
                assert tag in allowed, (locale, key, tag)


def test_russian_addresses_the_user_politely() -> None:
    for key, text in catalog("ru").items():
        assert not re.search(r"\b(ты|тебя|тебе|твой|твоя|твои)\b", text, re.IGNORECASE), key


def test_texts_resolve_by_locale() -> None:
    texts = Texts()
    assert texts("ru")("role.par") == "Родитель (законный представитель)"
    assert texts("en")("role.par") == "Parent (legal guardian)"
    assert texts("de")("role.par") == "Родитель (законный представитель)"
