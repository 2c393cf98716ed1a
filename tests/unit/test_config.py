from __future__ import annotations

import pytest

from bot.config import ConfigError, MissingTokenError, load_settings

TOKEN = "123456789:AAEexampleexampleexampleexample12"


def env(**overrides: str) -> dict[str, str]:
    base = {"BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": "-1001234567890"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v != "<unset>"}


def test_defaults() -> None:
    s = load_settings(env())
    assert s.staff_chat_id == -1001234567890
    assert s.manager_chat_id is None and s.director_chat_id is None
    assert s.timezone.key == "Europe/Moscow"
    assert s.default_locale == "ru"
    assert s.telegram_api_base == ""
    assert str(s.database_path).endswith(".sqlite3")


def test_missing_token_says_how_to_get_one() -> None:
    with pytest.raises(MissingTokenError) as err:
        load_settings(env(BOT_TOKEN="<unset>"))
    assert "BOT_TOKEN" in str(err.value) and "@BotFather" in str(err.value) and ".env" in str(err.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", "12345"),
        ("STAFF_CHAT_ID", "<unset>"),
        ("STAFF_CHAT_ID", "staff"),
        ("MANAGER_CHAT_ID", "12a"),
        ("DIRECTOR_CHAT_ID", "-x"),
        ("TIMEZONE", "Moscow/Nowhere"),
        ("DEFAULT_LOCALE", "de"),
        ("TELEGRAM_API_BASE", "localhost:8081"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(**{name: value}))
    message = str(err.value)
    assert name in message
    assert "\n" not in message


def test_token_never_shown() -> None:
    s = load_settings(env())
    assert TOKEN not in repr(s) and TOKEN not in str(s.bot_token)
    bad = TOKEN[:-5] + " oops"
    with pytest.raises(ConfigError) as err:
        load_settings(env(BOT_TOKEN=bad))
    assert bad not in str(err.value) and TOKEN[:15] not in str(err.value)
