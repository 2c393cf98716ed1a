"""Texts: gettext catalogs in ``locales/`` (message keys as msgids), compiled to ``.mo`` by Babel.

Handlers receive a locale-bound :class:`Tr`. Jobs and cross-user messages (a specialist's answer that
goes to a user) ask :class:`Texts` for the recipient's locale explicitly.

``python -m bot.texts compile`` compiles the catalogs; start-up also compiles them when stale, so a
fresh clone works without a separate step.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogs(path: Path = LOCALES_DIR) -> list[Path]:
    """Compile each locale's catalogs into one ``messages.mo``, when it is missing or older than a source.

    A locale may have several ``.po`` files in ``LC_MESSAGES/`` (one per feature: ``messages.po``,
    ``schedule.po``, ...); they are merged, and a key defined twice is an error.
    """
    written: list[Path] = []
    for folder in sorted(path.glob("*/LC_MESSAGES")):
        sources = sorted(folder.glob("*.po"))
        if not sources:
            continue
        mo = folder / f"{DOMAIN}.mo"
        newest = max(src.stat().st_mtime for src in sources)
        if mo.exists() and mo.stat().st_mtime >= newest:
            continue
        locale = folder.parent.name
        merged = Catalog(locale=locale, domain=DOMAIN)
        for src in sources:
            with src.open("rb") as f:
                catalog = read_po(f, locale=locale)
            for message in catalog:
                if not message.id:
                    continue
                if merged.get(message.id) is not None:
                    raise ValueError(f"{src}: text key {message.id!r} is defined twice in locale {locale}")
                merged.add(message.id, message.string)
        with mo.open("wb") as dst:
            write_mo(dst, merged)
        written.append(mo)
    return written


class Tr:
    """Texts in one locale: ``tr("ticket.created", number=5)``."""

    def __init__(self, i18n: I18n, locale: str) -> None:
        self.i18n = i18n
        self.locale = locale

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.i18n.gettext(key, locale=self.locale)
        return text.format(**params) if params else text


class Texts:
    def __init__(self, path: Path = LOCALES_DIR, default_locale: str = "ru") -> None:
        compile_catalogs(path)
        self.i18n = I18n(path=path, default_locale=default_locale, domain=DOMAIN)
        self.default_locale = default_locale
        self._bound: dict[str, Tr] = {}

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self.i18n.available_locales))

    def __call__(self, locale: str | None = None) -> Tr:
        locale = locale if locale in self.i18n.available_locales else self.default_locale
        assert locale is not None
        bound = self._bound.get(locale)
        if bound is None:
            bound = self._bound[locale] = Tr(self.i18n, locale)
        return bound


def main(argv: list[str]) -> int:
    if argv[1:] == ["compile"]:
        for mo in compile_catalogs():
            print(f"compiled {mo.relative_to(LOCALES_DIR.parent)}")
        return 0
    print("usage: python -m bot.texts compile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
