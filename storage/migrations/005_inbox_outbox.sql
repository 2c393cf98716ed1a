-- Incoming updates are stored before they are confirmed to Telegram and marked when handled, so an update
-- is neither lost in a crash nor handled twice when it comes again.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX inbox_unprocessed ON inbox (processed_at, update_id);

-- Messages the bot itself must send (notices, alerts), written with the change that caused them and
-- drained by the sender. (What users and specialists write is in `messages`, delivered the same way.)
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    thread_id   INTEGER,
    reply_to    INTEGER,
    text        TEXT    NOT NULL,
    markup      TEXT,
    dedupe_key  TEXT UNIQUE,
    status      TEXT    NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    message_id  INTEGER,
    created_at  TEXT    NOT NULL,
    sent_at     TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);

-- Where a ticket came from (the confirmation message pressed), so a replayed "Send" creates no second ticket.
ALTER TABLE tickets ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX tickets_origin ON tickets (origin);
