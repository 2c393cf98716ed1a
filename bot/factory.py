"""Factories: everything is built here; ``main.py`` and the tests call the same functions."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.strategy import FSMStrategy
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiohttp import web

import handlers.conduct
import handlers.errors
import handlers.group_moved
import handlers.management
import handlers.private
import handlers.seminars
import handlers.staff
from bot.config import Settings
from bot.delivery import DeliveryMiddleware, FloodLimiter, Gateway
from bot.desk import Desk
from bot.duty import Duty, DutySettings
from bot.filters import StaffMembership
from bot.fsm_storage import SQLiteStorage
from bot.jobs import JobRunner
from bot.middlewares.conduct import ConductDesk, StaffConductMiddleware, UserConductMiddleware
from bot.middlewares.context import UserContextMiddleware
from bot.seminar_notifier import BroadcastChannel
from bot.session import JsonSession
from bot.staff_chat import StaffChat, StaffChatMoves
from bot.updates import Polling, UpdateProcessor, webhook_app
from helpdesk.clock import Clock, system_clock
from helpdesk.kb_feedback import KbFeedback
from helpdesk.rules.escalation import EscalationSettings
from helpdesk.rules.kb import KnowledgeBase, load_knowledge_base
from helpdesk.school import SchoolProfile, load_profile
from helpdesk.seminars import SeminarService
from helpdesk.texts import Texts
from helpdesk.tickets import TicketService
from storage.db import Database
from storage.flood import FloodJournal

log = logging.getLogger(__name__)

COMMANDS = ("start", "faq", "schedule", "seminars", "help", "contacts", "role", "language", "cancel")
COMMAND_TEXTS = {
    "ru": {
        "start": "Задать вопрос",
        "faq": "Справочные статьи",
        "seminars": "Обучающие семинары",
        "schedule": "График консультаций",
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
        "schedule": "Consultation schedule",
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
    session = JsonSession(api=api)
    delivery = DeliveryMiddleware(limiter=FloodLimiter() if settings.flood_control else FloodLimiter.off())
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
    duty: Duty
    delivery: DeliveryMiddleware
    clock: Clock
    school: SchoolProfile
    kb: KnowledgeBase
    runner: JobRunner
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        self.runner.stop()
        await self.desk.finish_outbox()
        await self.bot.session.close()
        await self.delivery.limiter.settle()
        await self.db.close()


def create_dispatcher(
    *,
    settings: Settings,
    db: Database,
    texts: Texts,
    service: TicketService,
    desk: Desk,
    duty: Duty,
    school: SchoolProfile,
    kb: KnowledgeBase,
    runner: JobRunner,
    clock: Clock,
    staff_moves: StaffChatMoves,
) -> Dispatcher:
    dp = Dispatcher(
        storage=SQLiteStorage(db),
        # One user's updates are handled one at a time, in order (isolation); in a forum, "one user" is a
        # specialist in one ticket's topic, so a specialist answering many tickets is not one queue.
        fsm_strategy=FSMStrategy.USER_IN_TOPIC,
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        duty=duty,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
        staff_moves=staff_moves,
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
    dp.message.outer_middleware(StaffConductMiddleware(conduct))
    seminars = SeminarService(
        db=db, clock=clock, channel=BroadcastChannel(desk.gateway), texts=texts, tz=school.tz
    )
    dp["seminars"] = seminars
    dp["kb_feedback"] = KbFeedback(db, clock)
    runner.add("seminars", seminars.check)
    # The staff group's id changes when it becomes a supergroup: routers read it from `desk.staff_chat`.
    membership = StaffMembership(desk.staff_chat)
    dp.include_routers(
        handlers.private.ticket.create_fast_router(),
        handlers.staff.create_fast_router(desk.staff_chat),
        handlers.group_moved.create_router(),
        handlers.management.create_router(desk.staff_chat, settings.manager_chat_id),
        handlers.staff.create_router(desk.staff_chat, membership),
        handlers.management.create_refusal_router(),
        handlers.seminars.create_router(desk.staff_chat, settings.manager_chat_id),
        handlers.conduct.create_router(settings, membership),
        handlers.private.create_router(),
        handlers.errors.create_router(),
    )

    async def on_startup(bot: Bot) -> None:
        await desk.detect_staff_mode()
        duty.bot_username = (await bot.me()).username
        await duty.load_links()
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
        service=service,
        gateway=Gateway(bot),
        texts=texts,
        staff_chat=StaffChat(settings.staff_chat_id),
        kb=kb,
    )
    delivery.on_blocked = desk.on_blocked
    # The staff group may have moved to a new id (became a supergroup): before, or while running.
    staff_moves = StaffChatMoves(desk.staff_chat, desk, db)
    await staff_moves.restore()
    delivery.on_migrated = staff_moves.call_failed
    desk.group_room = delivery.limiter.group_room
    # Telegram keeps counting a group's minute across our restart: the limiter starts where it left off.
    flood_journal = FloodJournal(db)
    delivery.limiter.restore(await flood_journal.load())
    delivery.limiter.journal = flood_journal.save
    duty = Duty(
        desk=desk,
        school=school,
        settings=DutySettings(
            escalation=EscalationSettings(
                remind_after=settings.remind_after_minutes,
                alert_unclaimed_after=settings.alert_unclaimed_minutes,
                alert_unanswered_after=settings.alert_unanswered_minutes,
            ),
            manager_chat_id=settings.manager_chat_id,
            summary_at=settings.daily_summary_at,
        ),
    )
    desk.signature = duty.signature
    duty.register(runner)

    async def resume(now: object) -> None:
        await desk.resume()
        desk.kick_outbox()

    runner.add("resume", resume)
    dp = create_dispatcher(
        settings=settings,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        duty=duty,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
        staff_moves=staff_moves,
    )
    return App(
        settings=settings,
        bot=bot,
        dp=dp,
        db=db,
        texts=texts,
        service=service,
        desk=desk,
        duty=duty,
        delivery=delivery,
        clock=clock,
        school=school,
        kb=kb,
        runner=runner,
    )


async def serve(app: App, stop: asyncio.Event, *, polling_timeout: int = 25) -> None:
    """Run the bot until ``stop`` is set: polling or webhook, with the durable inbox; then shut down
    gracefully (finish the updates being handled, stop the scheduler, close the database)."""
    bot, dp = app.bot, app.dp
    processor = UpdateProcessor(bot, dp, app.db)
    app.extras["processor"] = processor
    app.runner.add("inbox", processor.prune)
    workflow = {"dispatcher": dp, "bots": [bot], "bot": bot, **dp.workflow_data}
    await dp.emit_startup(**workflow)
    site_runner: web.AppRunner | None = None
    polling: Polling | None = None
    poll_task: asyncio.Task[None] | None = None
    try:
        backlog = await processor.backlog()
        if backlog:
            log.info("handling %d update(s) received before the last stop", backlog)
        await app.desk.resume()
        app.desk.kick_outbox()
        # What exists now (modules, models, the knowledge base, texts) lives as long as the process: the
        # cyclic garbage collector need not walk it again at every collection while updates are handled.
        # Every update allocates thousands of short-lived objects (pydantic models); with the default
        # threshold (700) the young generation is collected several times per update. A higher one cut
        # the CPU time per update by about a tenth in `make bench`, at a few MiB of memory.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        if app.settings.uses_webhook:
            web_app = webhook_app(
                processor, path=app.settings.webhook_path, secret=app.settings.webhook_secret.value
            )
            site_runner = web.AppRunner(web_app)
            await site_runner.setup()
            await web.TCPSite(site_runner, app.settings.webhook_host, app.settings.webhook_port).start()
            await bot.set_webhook(
                url=app.settings.webhook_url,
                secret_token=app.settings.webhook_secret.value,
                allowed_updates=dp.resolve_used_update_types(),
            )
            log.info("webhook mode: listening on %s:%s", app.settings.webhook_host, app.settings.webhook_port)
            await stop.wait()
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            polling = Polling(bot, dp, processor, timeout=polling_timeout)
            poll_task = asyncio.create_task(polling.run())
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({poll_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if poll_task in done:
                poll_task.result()  # polling ended on its own: raise what ended it
    finally:
        if polling is not None:
            polling.stop()
        if poll_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await poll_task
        if site_runner is not None:
            await site_runner.cleanup()
        await processor.drain()
        await dp.emit_shutdown(**workflow)
        await app.close()


async def run(app: App) -> None:
    """Production entry: ``serve`` with SIGINT/SIGTERM as the stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await serve(app, stop)
