"""Inbound mapping: a Telegram message as the core's :class:`helpdesk.ports.Inbound` value."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.text_decorations import html_decoration

from helpdesk.ports import Inbound
from helpdesk.rules.roles import ANONYMOUS_ADMIN_ID


def html_of(message: Message) -> str:
    """A message's text or caption as HTML, its formatting kept (aiogram's ``html_text``, which takes a
    while to find out that a plain message has no formatting)."""
    if message.entities or message.caption_entities:
        try:
            return message.html_text
        except (UnicodeDecodeError, AttributeError):
            # Entities Telegram never sends (one that cuts a character in half, a text mention without its
            # user; the fuzz test makes them): the text without formatting.
            pass
    return html_decoration.quote(message.text or message.caption or "")


def message_kind(message: Message) -> str:
    if message.text is not None:
        return "text"
    for kind in ("photo", "document", "video", "audio", "voice", "animation", "sticker", "video_note"):
        if getattr(message, kind, None):
            return kind
    if message.location or message.venue:
        return "location"
    if message.contact:
        return "contact"
    return "other"


def file_id_of(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    for kind in ("document", "video", "audio", "voice", "animation"):
        media = getattr(message, kind, None)
        if media is not None:
            return str(media.file_id)
    return None


def inbound(message: Message, *, forum: bool = False, with_html: bool = False) -> Inbound:
    """The core's view of ``message``. ``forum``: the staff group has topics (a message in a topic carries
    its thread). ``with_html``: keep the formatting (a specialist's answer), which costs a little."""
    text = message.text or message.caption or ""
    author = message.from_user
    reply = message.reply_to_message
    if (
        author is not None
        and author.id == ANONYMOUS_ADMIN_ID
        and message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
    ):
        # An administrator posting anonymously: no person to name but their custom title, if any.
        author_id, author_name = ANONYMOUS_ADMIN_ID, message.author_signature or ""
    else:
        author_id, author_name = (author.id, author.first_name) if author else (0, "—")
    return Inbound(
        kind=message_kind(message),
        text=text,
        chat_id=message.chat.id,
        message_id=message.message_id,
        author_id=author_id,
        author_name=author_name,
        html=html_of(message) if with_html and text else None,
        file_id=file_id_of(message),
        thread_id=message.message_thread_id if forum and message.is_topic_message else None,
        reply_to=reply.message_id if reply is not None else None,
        reply_to_topic_start=reply is not None and reply.forum_topic_created is not None,
    )
