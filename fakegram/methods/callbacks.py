"""Answers to a user's interaction with a message: answerCallbackQuery, setMessageReaction."""

from __future__ import annotations

from ..spec import bad_request
from ..state import CallAnswer
from .base import BotApi
from .registry import Request, method

CALLBACK_ANSWER_LIMIT = 200


@method("answerCallbackQuery")
def answer_callback_query(api: BotApi, req: Request) -> bool:
    p = req.params
    qid = str(p["callback_query_id"])
    if qid not in api.w.callbacks or api.w.callbacks[qid] is not None:
        raise bad_request("query is too old and response timeout expired or query id is invalid")
    text = p.get("text")
    if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    api.w.callbacks[qid] = CallAnswer(
        text=str(text) if text is not None else None,
        show_alert=bool(p.get("show_alert", False)),
        url=p.get("url"),
        cache_time=p.get("cache_time"),
    )
    api.w.bump()
    return True


@method("setMessageReaction")
def set_message_reaction(api: BotApi, req: Request) -> bool:
    p = req.params
    chat = api.target_chat_for_edit(api.require(p, "chat_id"))
    msg = api.message_in(chat, p.get("message_id"), "react")
    if msg.kind == "service":
        raise bad_request("MESSAGE_ID_INVALID")
    return True
