"""Factories: everything is built here; ``main.py`` and the tests call the same functions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

import handlers.conduct
import handlers.errors
import handlers.private
import handlers.seminars
import handlers.staff
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.delivery import DeliveryMiddleware, Gateway
from bot.desk import Desk
from bot.filters import StaffMembership
from bot.jobs import JobRunner
from bot.middlewares.conduct import ConductDesk, StaffConductMiddleware, UserConductMiddleware
from bot.middlewares.context import UserContextMiddleware
from bot.school import SchoolProfile, load_profile
from bot.seminar_notifier import SeminarNotifier
from bot.services.kb import KnowledgeBase, load_knowledge_base
from bot.services.tickets import TicketService
from bot.texts import Texts
from storage.db import Database
from storage.fsm import SQLiteStorage

log = logging.getLogger(__name__)

COMMANDS = ("start", "faq", "seminars", "help", "contacts", "role", "language", "cancel")
COMMAND_TEXTS = {
    "ru": {
        "start": "Задать вопрос",
        "faq": "Справочные статьи",
        "seminars": "Обучающие семинары",
        "help": "Справка",
        "contacts": "Контакты школы",
        "role": "Изменить роль",
        "language": "Язык / Language",
        "cancel": "Отменить",
    },
    "en": {
        "start": "Ask a question",
        "faq": "Help articles",
        "seminars": "Training seminars",
        "help": "Help",
        "contacts": "School contacts",
        "role": "Change role",
        "language": "Язык / Language",
        "cancel": "Cancel",
    },
}


def create_bot(settings: Settings) -> tuple[Bot, DeliveryMiddleware]:
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_base) if settings.telegram_api_base else PRODUCTION
    )
    session = AiohttpSession(api=api)
    delivery = DeliveryMiddleware()
    session.middleware(delivery)
    bot = Bot(
        settings.bot_token.value,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    return bot, delivery


@dataclass
class App:
    settings: Settings
    bot: Bot
    dp: Dispatcher
    db: Database
    texts: Texts
    service: TicketService
    desk: Desk
    delivery: DeliveryMiddleware
    clock: Clock
    school: SchoolProfile
    kb: KnowledgeBase
    runner: JobRunner
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        self.runner.stop()
        await self.bot.session.close()
        await self.db.close()


def create_dispatcher(
    *,
    settings: Settings,
    db: Database,
    texts: Texts,
    service: TicketService,
    desk: Desk,
    school: SchoolProfile,
    kb: KnowledgeBase,
    runner: JobRunner,
    clock: Clock,
) -> Dispatcher:
    dp = Dispatcher(
        storage=SQLiteStorage(db),
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
    )
    context = UserContextMiddleware(service, texts)
    dp.message.outer_middleware(context)
    dp.callback_query.outer_middleware(context)
    # The conduct checks run after the user context (they need `user`) and before any handler.
    conduct = ConductDesk.create(
        settings=settings, db=db, service=service, desk=desk, texts=texts, school=school, clock=clock
    )
    dp["conduct"] = conduct
    dp.message.outer_middleware(UserConductMiddleware(conduct))
    dp.message.outer_middleware(StaffConductMiddleware(conduct, settings.staff_chat_id))
    seminars = SeminarNotifier(db=db, gateway=desk.gateway, texts=texts, tz=school.tz)
    dp["seminars"] = seminars
    runner.add("seminars", seminars.check)
    membership = StaffMembership(settings.staff_chat_id)
    dp.include_routers(
        handlers.staff.create_router(settings.staff_chat_id, membership),
        handlers.conduct.create_router(settings, membership),
        handlers.seminars.create_router(settings.staff_chat_id, settings.manager_chat_id),
        handlers.private.create_router(),
        handlers.errors.create_router(),
    )

    async def on_startup(bot: Bot) -> None:
        await desk.detect_staff_mode()
        scope = BotCommandScopeAllPrivateChats()
        for locale, names in COMMAND_TEXTS.items():
            commands = [BotCommand(command=c, description=names[c]) for c in COMMANDS]
            await bot.set_my_commands(commands, scope=scope, language_code=None if locale == "ru" else locale)
        runner.start()
        log.info("bot started")

    async def on_shutdown() -> None:
        runner.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def create_app(settings: Settings, *, clock: Clock = system_clock) -> App:
    """Build the whole application. Raises ProfileError / KnowledgeBaseError for a bad school file."""
    school = load_profile(settings.school_profile)
    kb = load_knowledge_base(settings.knowledge_dir, default_locale=settings.default_locale)
    runner = JobRunner(clock, settings.timezone, settings.tick_seconds)
    db = await Database.open(settings.database_path)
    texts = Texts(default_locale=settings.default_locale)
    bot, delivery = create_bot(settings)
    service = TicketService(db, clock)
    desk = Desk(
        service=service, gateway=Gateway(bot), texts=texts, staff_chat_id=settings.staff_chat_id, kb=kb
    )
    delivery.on_blocked = desk.on_blocked
    dp = create_dispatcher(
        settings=settings,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
    )
    return App(
        settings=settings,
        bot=bot,
        dp=dp,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        delivery=delivery,
        clock=clock,
        school=school,
        kb=kb,
        runner=runner,
    )


async def run_polling(app: App) -> None:
    try:
        await app.dp.start_polling(app.bot, handle_signals=True, close_bot_session=True)
    finally:
        await app.db.close()
