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
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogs(path: Path = LOCALES_DIR) -> list[Path]:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older. Returns the files written."""
    written: list[Path] = []
    for po in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as src:
            catalog = read_po(src, locale=po.parent.parent.name)
        with mo.open("wb") as dst:
            write_mo(dst, catalog)
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
