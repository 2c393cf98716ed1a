"""The bot itself: getMe, logOut, close, the webhook (setWebhook, deleteWebhook, getWebhookInfo), commands,
the menu button, and the name and descriptions."""

from __future__ import annotations

import copy
import re
import time

from ..spec import ApiError, bad_request
from .base import BotApi
from .registry import JsonDict, Request, method

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@method("getMe")
def get_me(api: BotApi, req: Request) -> JsonDict:
    d = api.w.bot.to_dict()
    d.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return d


@method("logOut")
def log_out(api: BotApi, req: Request) -> bool:
    return True


@method("close")
def close(api: BotApi, req: Request) -> bool:
    return True


@method("setWebhook")
async def set_webhook(api: BotApi, req: Request) -> bool:
    url = str(req.params.get("url") or "")
    secret = req.params.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    if url and not url.startswith(("https://", "http://127.", "http://localhost")):
        raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    if req.params.get("drop_pending_updates"):
        api.w.updates.clear()
    if url:
        api.w.webhook.set(url, str(secret) if secret is not None else None)
    else:
        await api.w.webhook.clear()
    return True


@method("deleteWebhook")
async def delete_webhook(api: BotApi, req: Request) -> bool:
    if req.params.get("drop_pending_updates"):
        api.w.updates.clear()
    await api.w.webhook.clear()
    return True


@method("getWebhookInfo")
def get_webhook_info(api: BotApi, req: Request) -> JsonDict:
    info: JsonDict = {
        "url": api.w.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(api.w.updates),
    }
    if api.w.webhook.last_error:
        info["last_error_message"] = api.w.webhook.last_error
        info["last_error_date"] = int(time.time())
    return info


def _scope_key(p: JsonDict) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    key = ":".join(f"{k}={scope[k]}" for k in sorted(scope))
    return key, str(p.get("language_code") or "")


@method("setMyCommands")
def set_my_commands(api: BotApi, req: Request) -> bool:
    commands = req.params["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands")
    for c in commands:
        if not _COMMAND_RE.match(str(c["command"]).lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(c["description"]).strip()) <= 256:
            raise bad_request("command description must be non-empty")
    api.w.commands[_scope_key(req.params)] = [
        {"command": str(c["command"]).lstrip("/"), "description": str(c["description"])} for c in commands
    ]
    return True


@method("getMyCommands")
def get_my_commands(api: BotApi, req: Request) -> list[JsonDict]:
    return copy.deepcopy(api.w.commands.get(_scope_key(req.params), []))


@method("deleteMyCommands")
def delete_my_commands(api: BotApi, req: Request) -> bool:
    api.w.commands.pop(_scope_key(req.params), None)
    return True


@method("setChatMenuButton")
def set_chat_menu_button(api: BotApi, req: Request) -> bool:
    button = req.params.get("menu_button") or {"type": "default"}
    if req.params.get("chat_id") is not None:
        chat = api.chat_by_ref(req.params["chat_id"])
        if chat is None or not chat.is_private:
            raise bad_request("chat not found")
        chat.menu_button = button
    else:
        api.w.default_menu_button = button
    return True


@method("getChatMenuButton")
def get_chat_menu_button(api: BotApi, req: Request) -> JsonDict:
    if req.params.get("chat_id") is not None:
        chat = api.chat_by_ref(req.params["chat_id"])
        if chat is None or not chat.is_private:
            raise bad_request("chat not found")
        if chat.menu_button is not None:
            return copy.deepcopy(chat.menu_button)
    return copy.deepcopy(api.w.default_menu_button or {"type": "default"})


def _set_text(api: BotApi, req: Request, key: str) -> bool:
    api.w.bot_texts[f"{key}:{req.params.get('language_code') or ''}"] = str(req.params.get(key) or "")
    return True


@method("setMyName")
def set_my_name(api: BotApi, req: Request) -> bool:
    return _set_text(api, req, "name")


@method("setMyDescription")
def set_my_description(api: BotApi, req: Request) -> bool:
    return _set_text(api, req, "description")


@method("setMyShortDescription")
def set_my_short_description(api: BotApi, req: Request) -> bool:
    return _set_text(api, req, "short_description")


@method("getMyName")
def get_my_name(api: BotApi, req: Request) -> JsonDict:
    lang = req.params.get("language_code") or ""
    return {"name": api.w.bot_texts.get(f"name:{lang}", api.w.bot.first_name)}


@method("getMyDescription")
def get_my_description(api: BotApi, req: Request) -> JsonDict:
    return {"description": api.w.bot_texts.get(f"description:{req.params.get('language_code') or ''}", "")}


@method("getMyShortDescription")
def get_my_short_description(api: BotApi, req: Request) -> JsonDict:
    lang = req.params.get("language_code") or ""
    return {"short_description": api.w.bot_texts.get(f"short_description:{lang}", "")}
