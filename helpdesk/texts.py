"""Texts: gettext catalogs in ``locales/`` (message keys as msgids), compiled to ``.mo`` by Babel.

Handlers receive a locale-bound :class:`Tr`. Jobs and cross-user messages (a specialist's answer that
goes to a user) ask :class:`Texts` for the recipient's locale explicitly.

``python -m helpdesk.texts compile`` compiles the catalogs; start-up also compiles them when stale, so a
fresh clone works without a separate step.
"""

from __future__ import annotations

import gettext
import sys
from pathlib import Path
from typing import Any, Protocol

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

    def __init__(self, catalog: gettext.NullTranslations, locale: str) -> None:
        self.catalog = catalog
        self.locale = locale

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.catalog.gettext(key)
        return text.format(**params) if params else text


class HasLocale(Protocol):
    def effective_locale(self, default: str) -> str: ...


class Texts:
    def __init__(self, path: Path = LOCALES_DIR, default_locale: str = "ru") -> None:
        compile_catalogs(path)
        self.default_locale = default_locale
        # The standard library's gettext (aiogram's I18n is a wrapper of it): the core imports no aiogram.
        self._bound: dict[str, Tr] = {}
        for mo in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
            locale = mo.parent.parent.name
            with mo.open("rb") as f:
                self._bound[locale] = Tr(gettext.GNUTranslations(f), locale)

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self._bound))

    @property
    def staff(self) -> Tr:
        """The staff's texts: the default locale (the staff group's language)."""
        return self(self.default_locale)

    def of(self, user: HasLocale) -> Tr:
        """A user's texts: their chosen language, else their client's, else the default."""
        return self(user.effective_locale(self.default_locale))

    def __call__(self, locale: str | None = None) -> Tr:
        bound = self._bound.get(locale or self.default_locale)
        return bound if bound is not None else self._bound[self.default_locale]


def main(argv: list[str]) -> int:
    if argv[1:] == ["compile"]:
        for mo in compile_catalogs():
            print(f"compiled {mo.relative_to(LOCALES_DIR.parent)}")
        return 0
    print("usage: python -m helpdesk.texts compile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
