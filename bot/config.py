"""Settings read from the environment (and `.env`), validated once at start.

Every error names the variable and says what is expected, in one line. The token is a secret: it is
kept in a ``SecretStr``-like wrapper and never printed, logged or put into an exception message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{20,}$")
SUPPORTED_LOCALES = ("ru", "en")


class ConfigError(Exception):
    """A setting is missing or malformed. ``str()`` is one line for the person starting the bot."""


class MissingTokenError(ConfigError):
    pass


@dataclass(frozen=True)
class Secret:
    """A value that must never be shown. ``repr``/``str`` hide it."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "***" if self.value else ""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Settings:
    bot_token: Secret
    telegram_api_base: str
    staff_chat_id: int
    manager_chat_id: int | None
    director_chat_id: int | None
    database_path: Path
    timezone: ZoneInfo
    default_locale: str
    log_level: str = "INFO"
    school_profile: Path = ROOT / "school.example.toml"
    knowledge_dir: Path = ROOT / "knowledge"
    tick_seconds: float = 30.0
    remind_after_minutes: int | None = 30
    alert_unclaimed_minutes: int | None = 120
    alert_unanswered_minutes: int | None = 240
    daily_summary_at: time | None = time(8, 0)
    flood_control: bool = True
    kb_vectors: bool = False
    webhook_url: str = ""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/telegram/webhook"
    # The start-up check of Telegram (bot/startup.py): attempts, and the first pause (doubled each time).
    startup_attempts: int = 6
    startup_backoff: float = 2.0

    @property
    def uses_webhook(self) -> bool:
        return bool(self.webhook_url)

    conduct_cooldown_minutes: int = 60
    conduct_block_after: int = 3
    conduct_block_window_days: int = 30

    @property
    def uses_local_server(self) -> bool:
        return bool(self.telegram_api_base)


MISSING_TOKEN_HELP = (
    "BOT_TOKEN is not set: the bot needs a token from Telegram. "
    "Open @BotFather in Telegram, send /newbot, copy the token it gives and put "
    "BOT_TOKEN=<token> into the file .env next to main.py (see .env.example)."
)


def _chat_id(env: Mapping[str, str], name: str, *, required: bool) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        if required:
            raise ConfigError(
                f"{name} is not set: expected the numeric id of the Telegram chat, for example -1001234567890 "
                "(run `python main.py doctor` or see README, section 'Staff group')."
            )
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a numeric Telegram chat id such as -1001234567890, got {raw!r}."
        ) from None


def _minutes(env: Mapping[str, str], name: str, default: int) -> int | None:
    """Minutes of consultation time; 0 switches the action off."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > 100_000:
        raise ConfigError(f"{name} must be a whole number of minutes (0 switches it off), got {raw!r}.")
    return int(raw) or None


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number of {unit} from {low} to {high}, got {raw!r}.")
    return int(raw)


def database_path_from(env: Mapping[str, str] | None = None) -> Path:
    """``DATABASE_PATH`` (default ``data/helpdesk.sqlite3``). Raises :class:`ConfigError` for a folder."""
    env = os.environ if env is None else env
    db_raw = env.get("DATABASE_PATH", "").strip() or "data/helpdesk.sqlite3"
    path = Path(db_raw)
    if path.exists() and path.is_dir():
        raise ConfigError(f"DATABASE_PATH must be a file path, but {db_raw!r} is a directory.")
    return path


def _valid_base(url: str) -> bool:
    """An http(s) URL that aiohttp can call: a host, a port in range, no spaces, no user info, no query."""
    if not re.match(r"^https?://[^\s/]+(:\d+)?(/\S*)?$", url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range
    except ValueError:
        return False
    if port == 0 or not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        return False
    return not any(c in parts.hostname for c in "[]<>%\\")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default: ``os.environ``). Raises :class:`ConfigError`."""
    env = os.environ if env is None else env
    token = env.get("BOT_TOKEN", "").strip()
    if not token:
        raise MissingTokenError(MISSING_TOKEN_HELP)
    if not TOKEN_RE.match(token):
        # Never echo the token back: a half-pasted secret is still a secret.
        raise ConfigError(
            "BOT_TOKEN looks malformed: expected the form 123456789:AAE... exactly as @BotFather gave it "
            f"({len(token)} characters were given; check for spaces or quotes)."
        )

    api_base = env.get("TELEGRAM_API_BASE", "").strip().rstrip("/")
    if api_base and not _valid_base(api_base):
        raise ConfigError(
            f"TELEGRAM_API_BASE must be an http(s) URL such as http://127.0.0.1:8081, got {api_base!r}; "
            "leave it empty to use Telegram."
        )

    staff = _chat_id(env, "STAFF_CHAT_ID", required=True)
    assert staff is not None
    manager = _chat_id(env, "MANAGER_CHAT_ID", required=False)
    director = _chat_id(env, "DIRECTOR_CHAT_ID", required=False)

    database_path = database_path_from(env)

    tz_name = env.get("TIMEZONE", "").strip() or "Europe/Moscow"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"TIMEZONE must be an IANA time zone name such as Europe/Moscow, got {tz_name!r}."
        ) from None

    locale = env.get("DEFAULT_LOCALE", "").strip() or "ru"
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, got {locale!r}.")

    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}.")

    profile_raw = env.get("SCHOOL_PROFILE", "").strip()
    if profile_raw:
        school_profile = Path(profile_raw)
    else:
        # A school's own school.toml wins; the example lets a fresh clone start.
        school_profile = Path("school.toml") if Path("school.toml").exists() else ROOT / "school.example.toml"
    if not school_profile.is_file():
        raise ConfigError(
            f"SCHOOL_PROFILE must point to the school's profile file, but {str(school_profile)!r} does not exist "
            "(copy school.example.toml to school.toml and fill it in)."
        )

    knowledge_raw = env.get("KNOWLEDGE_DIR", "").strip()
    knowledge_dir = Path(knowledge_raw) if knowledge_raw else ROOT / "knowledge"
    if not knowledge_dir.is_dir():
        raise ConfigError(
            f"KNOWLEDGE_DIR must be a folder of reference articles, {str(knowledge_dir)!r} is not."
        )

    tick_raw = env.get("TICK_SECONDS", "").strip() or "30"
    try:
        tick_seconds = float(tick_raw)
    except ValueError:
        tick_seconds = -1.0
    if not 0.05 <= tick_seconds <= 3600:
        raise ConfigError(
            f"TICK_SECONDS must be a number of seconds between 0.05 and 3600, got {tick_raw!r}."
        )

    escalation = {
        name: _minutes(env, name, default)
        for name, default in (
            ("ESCALATION_REMIND_MINUTES", 30),
            ("ESCALATION_ALERT_MINUTES", 120),
            ("ESCALATION_UNANSWERED_MINUTES", 240),
        )
    }
    summary_raw = env.get("DAILY_SUMMARY_TIME", "").strip() or "08:00"
    summary_at: time | None
    if summary_raw.lower() in {"off", "none", "-"}:
        summary_at = None
    else:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", summary_raw)
        if not match:
            raise ConfigError(
                f"DAILY_SUMMARY_TIME must be a time HH:MM such as 08:00 (or off), got {summary_raw!r}."
            )
        summary_at = time(int(match.group(1)), int(match.group(2)))

    conduct = {
        name: _whole(env, name, default, low, high, unit)
        for name, default, low, high, unit in (
            ("CONDUCT_COOLDOWN_MINUTES", 60, 0, 43_200, "minutes (0 = no pause)"),
            ("CONDUCT_BLOCK_AFTER", 3, 0, 100, "violations (0 = never block)"),
            ("CONDUCT_BLOCK_WINDOW_DAYS", 30, 1, 3650, "days"),
        )
    }

    flood_raw = (env.get("FLOOD_CONTROL", "").strip() or "on").lower()
    if flood_raw not in {"on", "off"}:
        raise ConfigError(f"FLOOD_CONTROL must be on or off, got {flood_raw!r}.")

    vectors_raw = (env.get("KB_VECTORS", "").strip() or "off").lower()
    if vectors_raw not in {"on", "off"}:
        raise ConfigError(f"KB_VECTORS must be on or off, got {vectors_raw!r}.")

    webhook_url = env.get("WEBHOOK_URL", "").strip()
    webhook_secret = env.get("WEBHOOK_SECRET", "").strip()
    webhook_path = "/telegram/webhook"
    if webhook_url:
        if not re.match(r"^https://[^\s/]+(:\d+)?/\S*$", webhook_url) and not re.match(
            r"^http://(127\.0\.0\.1|localhost)(:\d+)?/\S*$", webhook_url
        ):
            raise ConfigError(
                f"WEBHOOK_URL must be the public https:// address Telegram will call, e.g. "
                f"https://helpdesk.school.ru/telegram/webhook, got {webhook_url!r} (leave it empty for polling)."
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
            raise ConfigError(
                "WEBHOOK_SECRET must be set with WEBHOOK_URL: 16-256 characters of A-Z, a-z, 0-9, _ and - "
                '(for example the output of `python -c "import secrets; print(secrets.token_urlsafe(32))"`).'
            )
        webhook_path = (
            "/" + webhook_url.split("://", 1)[1].split("/", 1)[1]
            if "/" in webhook_url.split("://", 1)[1]
            else "/"
        )
    webhook_host = env.get("WEBHOOK_HOST", "").strip() or "127.0.0.1"
    port_raw = env.get("WEBHOOK_PORT", "").strip() or "8080"
    if not port_raw.isdigit() or not 1 <= int(port_raw) <= 65535:
        raise ConfigError(f"WEBHOOK_PORT must be a TCP port number 1-65535, got {port_raw!r}.")

    attempts = _whole(env, "STARTUP_ATTEMPTS", 6, 1, 100, "attempts")
    backoff_raw = env.get("STARTUP_BACKOFF_SECONDS", "").strip() or "2"
    try:
        backoff = float(backoff_raw)
    except ValueError:
        backoff = -1.0
    if not 0.01 <= backoff <= 60:
        raise ConfigError(
            f"STARTUP_BACKOFF_SECONDS must be a number of seconds between 0.01 and 60, got {backoff_raw!r}."
        )

    return Settings(
        bot_token=Secret(token),
        telegram_api_base=api_base,
        staff_chat_id=staff,
        manager_chat_id=manager,
        director_chat_id=director,
        database_path=database_path,
        timezone=tz,
        default_locale=locale,
        log_level=level,
        school_profile=school_profile,
        knowledge_dir=knowledge_dir,
        tick_seconds=tick_seconds,
        remind_after_minutes=escalation["ESCALATION_REMIND_MINUTES"],
        alert_unclaimed_minutes=escalation["ESCALATION_ALERT_MINUTES"],
        alert_unanswered_minutes=escalation["ESCALATION_UNANSWERED_MINUTES"],
        daily_summary_at=summary_at,
        conduct_cooldown_minutes=conduct["CONDUCT_COOLDOWN_MINUTES"],
        conduct_block_after=conduct["CONDUCT_BLOCK_AFTER"],
        conduct_block_window_days=conduct["CONDUCT_BLOCK_WINDOW_DAYS"],
        flood_control=flood_raw == "on",
        kb_vectors=vectors_raw == "on",
        webhook_url=webhook_url,
        webhook_secret=Secret(webhook_secret),
        webhook_host=webhook_host,
        webhook_port=int(port_raw),
        webhook_path=webhook_path,
        startup_attempts=attempts,
        startup_backoff=backoff,
    )
