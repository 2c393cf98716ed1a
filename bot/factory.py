"""Factories: everything is built here; ``main.py`` and the tests call the same functions."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

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
import handlers.knowledge
import handlers.management
import handlers.privacy
import handlers.private
import handlers.reports
import handlers.seminars
import handlers.staff
from bot.albums import Albums
from bot.cards import Cards
from bot.charts import MatplotlibCharts
from bot.config import Settings
from bot.delivery import DeliveryMiddleware, FloodLimiter, Gateway
from bot.erasure import TelegramEraser
from bot.filters import StaffMembership
from bot.fsm_storage import SQLiteStorage
from bot.inflight import InFlight
from bot.jobs import JobRunner, heartbeat, heartbeat_file
from bot.middlewares.conduct import StaffConductMiddleware, UserConductMiddleware
from bot.middlewares.context import UserContextMiddleware
from bot.middlewares.knowledge import KnowledgeMiddleware
from bot.outbox import Outbox
from bot.pacing import Pacing
from bot.recovery import Recovery
from bot.relay import Relay
from bot.roles import Roles
from bot.seminar_notifier import BroadcastChannel
from bot.session import JsonSession
from bot.staff_chat import StaffChat, StaffChatMoves
from bot.staff_side import TelegramStaff, TelegramUsers
from bot.startup import Fatal, Stopped, check_telegram, unless_stopped
from bot.updates import Polling, UpdateProcessor, webhook_app
from helpdesk.audit import AuditTrail
from helpdesk.clock import Clock, system_clock
from helpdesk.conduct import ConductService, Policy
from helpdesk.conduct_desk import ConductChats, ConductDesk
from helpdesk.duty import Duty
from helpdesk.escalations import Escalations
from helpdesk.kb_answers import ArticleAnswers, WeeklyGaps
from helpdesk.kb_feedback import KbFeedback
from helpdesk.knowledge import KnowledgeLibrary
from helpdesk.privacy import Consent, PersonalData, Retention
from helpdesk.ratings import Ratings
from helpdesk.reports import Reports
from helpdesk.rules.escalation import EscalationSettings
from helpdesk.rules.kb import KnowledgeBase, KnowledgeBaseError, WordVectors, load_knowledge_base
from helpdesk.rules.kb_vectors import load_navec
from helpdesk.school import SchoolProfile, load_profile
from helpdesk.seminars import SeminarService
from helpdesk.specialists import Specialists
from helpdesk.store import Store
from helpdesk.summary import DailySummary
from helpdesk.texts import Texts
from helpdesk.tickets import Tickets
from helpdesk.vendor import Vendor
from storage.db import Database
from storage.flood import FloodJournal
from storage.users import TELEGRAM

log = logging.getLogger(__name__)

COMMANDS = (
    "start", "faq", "schedule", "seminars", "help", "contacts", "role", "language", "cancel", "mydata", "forget",
)


def create_bot(settings: Settings, delivery: DeliveryMiddleware) -> Bot:
    api = (
        TelegramAPIServer.from_base(settings.telegram_api_base) if settings.telegram_api_base else PRODUCTION
    )
    session = JsonSession(api=api)
    session.middleware(delivery)
    return Bot(
        settings.bot_token.value,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


@dataclass
class App:
    settings: Settings
    bot: Bot
    dp: Dispatcher
    db: Database
    texts: Texts
    store: Store
    tickets: Tickets
    duty: Duty
    conduct: ConductDesk
    staff: TelegramStaff
    staff_chat: StaffChat
    staff_moves: StaffChatMoves
    gateway: Gateway
    delivery: DeliveryMiddleware
    clock: Clock
    school: SchoolProfile
    kb: KnowledgeBase
    runner: JobRunner
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        self.runner.stop()
        await self.staff.stop()
        await self.bot.session.close()
        await self.delivery.limiter.settle()
        await self.db.close()


def create_dispatcher(
    *,
    settings: Settings,
    db: Database,
    texts: Texts,
    store: Store,
    tickets: Tickets,
    duty: Duty,
    specialists: Specialists,
    conduct: ConductDesk,
    gateway: Gateway,
    staff: TelegramStaff,
    staff_chat: StaffChat,
    staff_moves: StaffChatMoves,
    school: SchoolProfile,
    kb: KnowledgeBase,
    runner: JobRunner,
    clock: Clock,
    seminars: SeminarService,
    kb_feedback: KbFeedback,
    audit_trail: AuditTrail,
    ratings: Ratings,
    reports: Reports,
    consent: Consent,
    personal_data: PersonalData,
    library: KnowledgeLibrary,
    article_answers: ArticleAnswers,
    albums: Albums | None = None,
) -> Dispatcher:
    """The dispatcher: the app-scoped objects as its kwargs (handlers declare what they use), the
    per-update context and the conduct checks as outer middlewares, the routers by audience."""
    fsm = SQLiteStorage(db)
    dp = Dispatcher(
        storage=fsm,
        # One user's updates are handled one at a time, in order (isolation); in a forum, "one user" is a
        # specialist in one ticket's topic, so a specialist answering many tickets is not one queue.
        fsm_strategy=FSMStrategy.USER_IN_TOPIC,
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        texts=texts,
        store=store,
        tickets=tickets,
        duty=duty,
        specialists=specialists,
        conduct=conduct,
        gateway=gateway,
        staff_chat=staff_chat,
        staff_moves=staff_moves,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
        db=db,
        seminars=seminars,
        kb_feedback=kb_feedback,
        audit_trail=audit_trail,
        ratings=ratings,
        reports=reports,
        consent=consent,
        personal_data=personal_data,
        library=library,
        article_answers=article_answers,
        albums=albums or Albums(),
    )
    # `kb` is the knowledge base as of each update (reloaded or having learned while the bot runs).
    dp.update.outer_middleware(KnowledgeMiddleware(library))
    context = UserContextMiddleware(store, texts)
    dp.message.outer_middleware(context)
    dp.callback_query.outer_middleware(context)
    # The conduct checks run after the user context (they need `user`) and before any handler.
    dp.message.outer_middleware(UserConductMiddleware(conduct))
    dp.message.outer_middleware(StaffConductMiddleware(conduct, staff_chat))
    # The staff group's id changes when it becomes a supergroup: routers read it from `staff_chat`.
    membership = StaffMembership(staff_chat)
    roles = Roles(school.management, settings.manager_chat_id, membership)
    dp.include_routers(
        # A plain /start first (what a wave of new users sends; the consent gate lets it pass anyway), then,
        # before anything a user writes is taken as a question, the personal-data notice and consent.
        handlers.private.commands.create_fast_router(),
        handlers.private.privacy.create_gate_router(),
        handlers.private.ticket.create_fast_router(),
        handlers.staff.create_fast_router(staff_chat),
        handlers.group_moved.create_router(),
        handlers.privacy.create_router(roles),
        handlers.reports.create_router(staff_chat, settings.manager_chat_id, roles),
        handlers.management.create_router(staff_chat, settings.manager_chat_id, roles),
        handlers.staff.create_router(staff_chat, membership),
        handlers.management.create_refusal_router(),
        handlers.reports.create_refusal_router(),
        handlers.seminars.create_router(staff_chat, settings.manager_chat_id, roles),
        handlers.knowledge.create_router(staff_chat, settings.manager_chat_id, roles),
        handlers.conduct.create_router(settings, membership, roles),
        handlers.private.create_router(),
        handlers.errors.create_router(),
    )

    async def on_startup(bot: Bot) -> None:
        await fsm.preload()
        await staff_moves.detect_mode(bot)
        await specialists.load()
        await library.refresh_examples()
        staff.start()
        scope = BotCommandScopeAllPrivateChats()
        for locale in texts.locales:
            commands = [BotCommand(command=c, description=texts(locale)(f"command.{c}")) for c in COMMANDS]
            await bot.set_my_commands(commands, scope=scope, language_code=None if locale == "ru" else locale)
        runner.start()
        log.info("bot started")

    async def on_shutdown() -> None:
        runner.stop()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


def _knowledge_loader(vectors: WordVectors | None) -> Callable[[Path, str], KnowledgeBase]:
    """How the articles are read, at start and at every reload (with the vectors, when they are on)."""
    if vectors is None:
        return load_knowledge_base
    return functools.partial(load_knowledge_base, vectors=vectors)


async def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> App:
    """Build the whole application, every collaborator through its constructor: the core
    (:mod:`helpdesk`) inside, the Telegram adapter around it. Raises ProfileError / KnowledgeBaseError for
    a bad school file."""
    school = load_profile(settings.school_profile)
    vectors = load_navec() if settings.kb_vectors else None
    if settings.kb_vectors and vectors is None:
        raise KnowledgeBaseError("KB_VECTORS=on, but natasha (pip install '.[vectors]') is not installed")
    kb = _knowledge_loader(vectors)(settings.knowledge_dir, settings.default_locale)
    db = await Database.open(settings.database_path)
    try:
        return await _build(settings, clock, school, kb, db, sleep=sleep, monotonic=monotonic)
    except BaseException:
        # Half an app is no app: its database thread would keep the process alive (stopped or failed).
        await db.close()
        raise


async def _build(
    settings: Settings,
    clock: Clock,
    school: SchoolProfile,
    kb: KnowledgeBase,
    db: Database,
    *,
    sleep: Callable[[float], Awaitable[None]],
    monotonic: Callable[[], float],
) -> App:
    runner = JobRunner(clock, settings.timezone, settings.tick_seconds, on_error=db.note)
    texts = Texts(default_locale=settings.default_locale)
    staff_tr = texts.staff
    store = Store(db, clock)

    # The staff group may have moved to a new id (became a supergroup): before, or while running.
    staff_chat = StaffChat(settings.staff_chat_id)
    staff_moves = StaffChatMoves(staff_chat, store, texts)
    await staff_moves.restore()
    # Telegram keeps counting a group's minute across our restart: the limiter starts where it left off.
    flood_journal = FloodJournal(db)
    limiter = FloodLimiter(journal=flood_journal.save) if settings.flood_control else FloodLimiter.off()
    limiter.restore(await flood_journal.load())
    delivery = DeliveryMiddleware(
        limiter=limiter,
        on_blocked=functools.partial(store.mark_unreachable, TELEGRAM),
        on_migrated=staff_moves.call_failed,
        # Time of the retries and 429 pauses (tests run it virtually).
        sleep=sleep,
        monotonic=monotonic,
    )
    bot = create_bot(settings, delivery)
    gateway = Gateway(bot)

    # The Telegram side of tickets.
    specialists = Specialists(school=school, store=store, clock=clock, tr=staff_tr)
    in_flight = InFlight()
    cards = Cards(
        gateway=gateway,
        staff_chat=staff_chat,
        store=store,
        specialists=specialists,
        kb=kb,
        texts=texts,
        in_flight=in_flight,
        privacy=school.privacy,
    )
    relay = Relay(gateway=gateway, cards=cards, store=store, specialists=specialists, texts=texts)
    pacing = Pacing(
        gateway=gateway,
        staff_chat=staff_chat,
        group_room=limiter.group_room,
        texts=texts,
        in_flight=in_flight,
    )
    recovery = Recovery(
        store=store, cards=cards, relay=relay, pacing=pacing, in_flight=in_flight, staff_chat=staff_chat
    )
    outbox = Outbox(gateway=gateway, store=store, texts=texts, staff_chat=staff_chat)
    staff = TelegramStaff(
        gateway=gateway,
        staff_chat=staff_chat,
        cards=cards,
        relay=relay,
        recovery=recovery,
        outbox=outbox,
        in_flight=in_flight,
    )
    users = TelegramUsers(gateway=gateway, relay=relay, texts=texts, outbox=outbox)

    # The core's use cases.
    duty = Duty(
        store=store,
        specialists=specialists,
        staff=staff,
        notices=staff,
        texts=texts,
        manager_chat_id=settings.manager_chat_id,
    )
    escalations = Escalations(
        store=store,
        duty=duty,
        notices=staff,
        settings=EscalationSettings(
            remind_after=settings.remind_after_minutes,
            alert_unclaimed_after=settings.alert_unclaimed_minutes,
            alert_unanswered_after=settings.alert_unanswered_minutes,
        ),
    )
    vendor = Vendor(store=store, duty=duty, staff=staff, notices=staff, texts=texts)
    summary = DailySummary(store=store, duty=duty, notices=staff, at=settings.daily_summary_at)
    ratings = Ratings(store=store, duty=duty, staff=staff, users=users, notices=staff, texts=texts)
    reports = Reports(
        store=store,
        school=school,
        duty=duty,
        notices=staff,
        texts=texts,
        clock=clock,
        charts=MatplotlibCharts(),
        manager_chat_id=settings.manager_chat_id,
    )
    tickets = Tickets(
        store=store,
        duty=duty,
        escalations=escalations,
        vendor=vendor,
        staff=staff,
        users=users,
        notices=staff,
        texts=texts,
        ratings=ratings,
    )
    conduct = ConductDesk(
        chats=ConductChats(
            manager=settings.manager_chat_id,
            director=settings.director_chat_id,
            timezone=school.tz,  # the school's time, as the schedule's promises
            block_window_days=settings.conduct_block_window_days,
        ),
        store=store,
        record=ConductService(
            db,
            clock,
            Policy(
                cooldown=timedelta(minutes=settings.conduct_cooldown_minutes),
                block_after=settings.conduct_block_after,
                block_window=timedelta(days=settings.conduct_block_window_days),
            ),
        ),
        tickets=tickets,
        staff=staff,
        users=users,
        texts=texts,
        school=school,
        clock=clock,
    )
    seminars = SeminarService(
        db=db, clock=clock, channel=BroadcastChannel(gateway), texts=texts, tz=school.tz
    )
    kb_feedback = KbFeedback(db, clock)
    audit_trail = AuditTrail(store=store, school=school)
    consent = Consent(store=store, school=school, texts=texts, users=users)
    personal_data = PersonalData(
        store=store,
        school=school,
        texts=texts,
        staff=staff,
        eraser=TelegramEraser(gateway=gateway, staff_chat=staff_chat),
    )
    retention = Retention(store=store, school=school, data=personal_data, clock=clock)
    library = KnowledgeLibrary(
        root=settings.knowledge_dir,
        default_locale=settings.default_locale,
        articles=kb,
        store=store,
        load=_knowledge_loader(kb.vectors),
    )
    article_answers = ArticleAnswers(store=store, library=library, staff=staff, sender=users, texts=texts)
    weekly_gaps = WeeklyGaps(
        answers=article_answers, duty=duty, store=store, notices=staff, at=settings.daily_summary_at
    )

    runner.add("database", db.check)
    runner.add("queue", duty.release_queue)
    runner.add("escalation", escalations.escalate_due)
    runner.add("vendor", vendor.vendor_reminders)
    runner.add("summary", summary.daily_summary)
    runner.add("weekly_report", reports.weekly)
    runner.add("seminars", seminars.check)
    runner.add("retention", retention.daily)
    runner.add("knowledge", library.tick)
    runner.add("kb_gaps", weekly_gaps.tick)

    async def resume(now: object) -> None:
        await staff.resume()

    runner.add("resume", resume)
    runner.add("heartbeat", heartbeat(heartbeat_file(settings.database_path)))
    dp = create_dispatcher(
        settings=settings,
        db=db,
        texts=texts,
        store=store,
        tickets=tickets,
        duty=duty,
        specialists=specialists,
        conduct=conduct,
        gateway=gateway,
        staff=staff,
        staff_chat=staff_chat,
        staff_moves=staff_moves,
        school=school,
        kb=kb,
        runner=runner,
        clock=clock,
        seminars=seminars,
        kb_feedback=kb_feedback,
        audit_trail=audit_trail,
        ratings=ratings,
        reports=reports,
        consent=consent,
        personal_data=personal_data,
        library=library,
        article_answers=article_answers,
    )
    return App(
        settings=settings,
        bot=bot,
        dp=dp,
        db=db,
        texts=texts,
        store=store,
        tickets=tickets,
        duty=duty,
        conduct=conduct,
        staff=staff,
        staff_chat=staff_chat,
        staff_moves=staff_moves,
        gateway=gateway,
        delivery=delivery,
        clock=clock,
        school=school,
        kb=kb,
        runner=runner,
        extras={"consent": consent, "personal_data": personal_data, "retention": retention},
    )


async def serve(app: App, stop: asyncio.Event, *, polling_timeout: int = 25) -> None:
    """Run the bot until ``stop`` is set: polling or webhook, with the durable inbox; then shut down
    gracefully (finish the updates being handled, stop the scheduler, close the database).

    Whatever happens (a failed start-up, ``stop`` during it, the database failing later) the app is closed
    before this returns or raises, so no database thread keeps a dead process alive. The database failing
    (the disk full, the file gone) raises :class:`bot.startup.Fatal`.
    """
    bot, dp = app.bot, app.dp
    processor = UpdateProcessor(bot, dp, app.db)
    app.extras["processor"] = processor
    app.runner.add("inbox", processor.prune)
    workflow = {"dispatcher": dp, "bots": [bot], "bot": bot, **dp.workflow_data}
    site_runner: web.AppRunner | None = None
    polling: Polling | None = None
    poll_task: asyncio.Task[None] | None = None
    waiters: list[asyncio.Task[object]] = []
    try:
        try:
            await unless_stopped(_start(app, processor, workflow), stop)
        except Stopped:
            log.info("stopped during start-up")
            return
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
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            polling = Polling(bot, dp, processor, timeout=polling_timeout)
            poll_task = asyncio.create_task(polling.run())
            waiters.append(poll_task)  # type: ignore[arg-type]
        stopper = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(app.db.failed.wait())
        waiters += [stopper, failed]  # type: ignore[list-item]
        done, _ = await asyncio.wait(set(waiters), return_when=asyncio.FIRST_COMPLETED)
        if poll_task in done:
            ended = poll_task.exception()
            if ended is None or not app.db.note(ended):  # the inbox's write failing is the database's
                poll_task.result()  # polling ended on its own: raise what ended it
        if app.db.failed.is_set():
            raise Fatal(
                f"the database failed: {app.db.failure}; free disk space or restore the file from a backup "
                "(python main.py backup), then restart"
            )
    finally:
        for waiter in waiters:
            if waiter is not poll_task:
                waiter.cancel()
        if polling is not None:
            polling.stop()
        if poll_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poll_task
        if site_runner is not None:
            await _quietly(site_runner.cleanup(), "the webhook server")
        await _quietly(processor.drain(), "the updates being handled")
        await _quietly(dp.emit_shutdown(**workflow), "the shutdown handlers")
        await _quietly(app.close(), "closing")


async def _start(app: App, processor: UpdateProcessor, workflow: dict[str, object]) -> None:
    await app.dp.emit_startup(**workflow)
    backlog = await processor.backlog()
    if backlog:
        log.info("handling %d update(s) received before the last stop", backlog)
    await app.staff.resume()


async def _quietly(work: Awaitable[object], what: str) -> None:
    """A step of the shutdown: its failure is logged and the next step still runs (the database closes)."""
    try:
        await work
    except Exception as exc:
        log.warning("shutdown: %s failed: %s", what, exc)


async def run(settings: Settings, *, clock: Clock = system_clock) -> None:
    """Production entry: build, check Telegram, ``serve`` until SIGINT/SIGTERM.

    Signals are honoured from the first moment: building, the start-up check and the start-up handlers
    are cancelled and the app closed. What stops the bot for good raises :class:`bot.startup.Fatal` (one
    line: what failed, how to fix it); the caller exits non-zero.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        try:
            app = await unless_stopped(create_app(settings, clock=clock), stop)
        except sqlite3.Error as exc:
            raise Fatal(
                f"cannot open the database {settings.database_path}: {exc}; check DATABASE_PATH, that its "
                "folder is writable and the disk has room"
            ) from None
        try:
            await unless_stopped(
                check_telegram(
                    app.bot,
                    where=settings.telegram_api_base or "api.telegram.org",
                    attempts=settings.startup_attempts,
                    backoff=settings.startup_backoff,
                ),
                stop,
            )
        except BaseException:
            await _quietly(app.close(), "closing")
            raise
        # What exists now (modules, models, the knowledge base, texts) lives as long as the process: the
        # cyclic garbage collector need not walk it again at every collection while updates are handled.
        # Every update allocates thousands of short-lived objects (pydantic models); with the default
        # threshold (700) the young generation is collected several times per update. A higher one cut
        # the CPU time per update by about a tenth in `make bench`, at a few MiB of memory. (Here, not in
        # `serve`: a test process starts the bot many times and must not freeze its objects each time.)
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        await serve(app, stop)
    except Stopped:
        log.info("stopped during start-up")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
