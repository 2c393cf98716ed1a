"""Handlers for users in private chats with the bot."""

from aiogram import Router

from bot.filters import PrivateChat
from handlers.private import commands, faq, privacy, question, rating, schedule, ticket


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.include_routers(
        schedule.create_router(),
        commands.create_router(),
        privacy.create_router(),
        rating.create_router(),
        faq.create_router(),
        question.create_router(),
        ticket.create_router(),
    )
    return router
