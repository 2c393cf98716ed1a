-- Users of any channel (Telegram now, MAX later): keyed by (channel, external_id);
-- the chat to answer in is stored separately.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL DEFAULT 'tg',
    external_id     TEXT    NOT NULL,
    chat_id         INTEGER NOT NULL,
    first_name      TEXT    NOT NULL DEFAULT '',
    last_name       TEXT,
    username        TEXT,
    client_language TEXT,
    locale          TEXT,
    role            TEXT,
    unreachable     INTEGER NOT NULL DEFAULT 0,
    staff_thread_id INTEGER,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    role            TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open',
    question        TEXT    NOT NULL DEFAULT '',
    staff_chat_id   INTEGER,
    staff_thread_id INTEGER,
    card_message_id INTEGER,
    claimed_by_id   INTEGER,
    claimed_by_name TEXT,
    closed_by       TEXT,
    created_at      TEXT    NOT NULL,
    claimed_at      TEXT,
    answered_at     TEXT,
    closed_at       TEXT
);
CREATE INDEX tickets_user ON tickets (user_id, status);
CREATE INDEX tickets_card ON tickets (staff_chat_id, card_message_id);

-- Every message that belongs to a ticket, with the ids on both sides, so a reply on either side finds
-- its counterpart. direction: 'in' (user to staff), 'out' (staff to user), 'note' (internal, never sent).
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    ticket_id        INTEGER NOT NULL REFERENCES tickets (id),
    direction        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    author_id        INTEGER,
    author_name      TEXT,
    text             TEXT    NOT NULL DEFAULT '',
    file_id          TEXT,
    user_chat_id     INTEGER,
    user_message_id  INTEGER,
    staff_chat_id    INTEGER,
    staff_message_id INTEGER,
    delivery         TEXT    NOT NULL DEFAULT 'pending',
    delivery_error   TEXT,
    created_at       TEXT    NOT NULL
);
CREATE INDEX messages_staff_side ON messages (staff_chat_id, staff_message_id);
CREATE INDEX messages_user_side ON messages (user_chat_id, user_message_id);
CREATE INDEX messages_ticket ON messages (ticket_id);

CREATE TABLE fsm (
    key        TEXT PRIMARY KEY,
    state      TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);
