"""The bot's HTTP session: aiogram's aiohttp session, sending calls as JSON.

aiogram encodes every call as an HTML form (``application/x-www-form-urlencoded``): each field is turned
into a string (nested objects JSON-encoded first), then percent-encoded by aiohttp, byte by byte for every
Cyrillic letter. The Bot API takes ``application/json`` bodies for every call that uploads no file, and one
``json.dumps`` of the whole call costs a fraction of that: about a tenth of the bot's time per message under
load (see README, "Performance and reliability"). Calls with a file to upload keep aiogram's multipart form.

Everything else (the request middlewares with the delivery guarantees, timeouts, how answers and errors are
read) is aiogram's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from aiohttp import ClientError, ClientTimeout, InvalidURL, TooManyRedirects

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

JSON_HEADERS = {"Content-Type": "application/json"}
PREPARED_CACHE = 4096
# Sent even when empty: an empty caption is how ``copyMessage`` is told to drop the original one.
EMPTY_MEANS_SOMETHING = frozenset({"caption"})


class RedirectLoop(TelegramNetworkError):
    """The Bot API's address (or a proxy before it) redirects in a loop: a set-up error, not an outage."""


def _network_error(method: TelegramMethod[Any], exc: BaseException, token: str) -> TelegramNetworkError:
    """aiohttp's errors quote the URL, and the URL carries the token: say what happened without it."""
    if isinstance(exc, TooManyRedirects):
        return RedirectLoop(method=method, message="the Bot API address redirects in a loop")
    if isinstance(exc, InvalidURL):
        return TelegramNetworkError(method=method, message="the Bot API address is not a valid URL")
    text = f"{type(exc).__name__}: {exc}"
    if token:
        text = text.replace(token, "***")
    return TelegramNetworkError(method=method, message=text)


class JsonSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Prepared forms of frozen objects, by identity (the bot's default link-preview options go with every
        # message, the dialog's keyboards with most), as JSON text; each entry keeps its object alive so that
        # its id is not reused.
        self._prepared: dict[int, tuple[TelegramObject, str]] = {}

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call as a JSON body, or None when it uploads a file (multipart is needed then).

        Fields are prepared as aiogram prepares form fields (defaults resolved, objects dumped, enums and
        dates converted), and left out when aiogram leaves them out of the form (None or empty text).
        """
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        ready: list[str] = []  # fields already in JSON: `"key":value`
        for key, value in method:
            if isinstance(value, Default):
                value = bot.default[value.name]
            if isinstance(value, Enum):
                value = value.value  # ParseMode.HTML as "HTML"
            if value is None:
                continue
            if isinstance(value, str):
                if value or (key in EMPTY_MEANS_SOMETHING and key in method.model_fields_set):
                    payload[key] = value
                continue
            if isinstance(value, bool | int | float):
                payload[key] = value
                continue
            if isinstance(value, datetime | timedelta):
                # A date as Unix time, an integer (aiogram's form sends its digits as text).
                payload[key] = int(self.prepare_value(value, bot=bot, files=files))
                continue
            if isinstance(value, TelegramObject):
                hit = self._prepared.get(id(value))
                if hit is not None and hit[0] is value:
                    ready.append(f'"{key}":{hit[1]}')
                    continue
            prepared = (
                self._prepare_object(value, bot, files)
                if isinstance(value, TelegramObject)
                else self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            )
            if prepared is not None and prepared != "":
                payload[key] = prepared
        if files:
            return None
        body = self.json_dumps(payload)
        if ready:
            # A JSON object ends with "}": the fields prepared before go in just before it.
            body = body[:-1] + ("," if payload else "") + ",".join(ready) + "}"
        return body.encode()

    def _prepare_object(self, value: TelegramObject, bot: Bot, files: dict[str, Any]) -> Any:
        """A frozen object is prepared once (kept as JSON text); a mutable one, or one carrying a file, every
        time."""
        before = len(files)
        prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if len(files) == before and value.model_config.get("frozen") and prepared not in (None, ""):
            if len(self._prepared) >= PREPARED_CACHE:
                self._prepared.clear()
            self._prepared[id(value)] = (value, self.json_dumps(prepared))
        return prepared

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.build_json(bot, method)
        if body is None:
            try:
                return await super().make_request(bot, method, timeout)
            except TelegramNetworkError as e:
                # aiogram's own message quotes aiohttp's error, and with it the URL with the token.
                if not isinstance(e.__cause__, ClientError):
                    raise
                raise _network_error(method, e.__cause__, bot.token) from None
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError:
            raise TelegramNetworkError(method=method, message="Request timeout error") from None
        except ClientError as e:
            raise _network_error(method, e, bot.token) from None
        if resp.status >= 500 and not raw_result.lstrip().startswith("{"):
            # A proxy's error page (nginx's "502 Bad Gateway" in HTML): a server error like Telegram's own.
            raise TelegramServerError(
                method=method, message=f"HTTP {resp.status} with a page that is not the Bot API's JSON"
            )
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)

    async def close(self) -> None:
        """aiogram waits a quarter of a second after closing, for TLS connections to shut down cleanly. A
        plain-HTTP API server (a local Bot API server, the fake one in tests) has none: nothing to wait for."""
        if not self.api.base.startswith("http://"):
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()
