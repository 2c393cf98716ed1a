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
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod

JSON_HEADERS = {"Content-Type": "application/json"}
PREPARED_CACHE = 4096


class JsonSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Prepared forms of frozen objects, by identity (the bot's default link-preview options go with every
        # message); each entry keeps its object alive so that its id is not reused.
        self._prepared: dict[int, tuple[TelegramObject, Any]] = {}

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call as a JSON body, or None when it uploads a file (multipart is needed then).

        Fields are prepared as aiogram prepares form fields (defaults resolved, objects dumped, enums and
        dates converted), and left out when aiogram leaves them out of the form (None or empty text).
        """
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        for key, value in method:
            if isinstance(value, Default):
                value = bot.default[value.name]
            if isinstance(value, Enum):
                value = value.value  # ParseMode.HTML as "HTML"
            if value is None:
                continue
            if isinstance(value, str):
                if value:
                    payload[key] = value
                continue
            if isinstance(value, bool | int | float):
                payload[key] = value
                continue
            if isinstance(value, datetime | timedelta):
                # A date as Unix time, an integer (aiogram's form sends its digits as text).
                payload[key] = int(self.prepare_value(value, bot=bot, files=files))
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
        return self.json_dumps(payload).encode()

    def _prepare_object(self, value: TelegramObject, bot: Bot, files: dict[str, Any]) -> Any:
        """A frozen object is prepared once; a mutable one, or one carrying a file, every time."""
        hit = self._prepared.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        before = len(files)
        prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if len(files) == before and value.model_config.get("frozen"):
            if len(self._prepared) >= PREPARED_CACHE:
                self._prepared.clear()
            self._prepared[id(value)] = (value, prepared)
        return prepared

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.build_json(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
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
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)

    async def close(self) -> None:
        """aiogram waits a quarter of a second after closing, for TLS connections to shut down cleanly. A
        plain-HTTP API server (a local Bot API server, the fake one in tests) has none: nothing to wait for."""
        if not self.api.base.startswith("http://"):
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()
