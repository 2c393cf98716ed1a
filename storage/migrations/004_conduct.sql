-- The conduct policy: what happened (violations, session ends, blocks and unblocks, withheld specialist
-- messages), the users' complaints to the director, and when a restricted user was last reminded.
CREATE TABLE conduct_events (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    kind       TEXT    NOT NULL,  -- violation | session_end | block | unblock | staff_violation
    user_id    INTEGER REFERENCES users (id),
    ticket_id  INTEGER REFERENCES tickets (id),
    actor      TEXT    NOT NULL,  -- filter | specialist | deputy
    actor_id   INTEGER,           -- the Telegram id of the specialist or deputy, if a person acted
    actor_name TEXT,
    category   TEXT,              -- obscene | insult | english | manual
    matches    TEXT    NOT NULL DEFAULT '',
    text       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX conduct_events_by_user ON conduct_events (user_id, at);

CREATE TABLE complaints (
    id              INTEGER PRIMARY KEY,
    at              TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    ticket_id       INTEGER REFERENCES tickets (id),
    specialist_id   INTEGER,
    specialist_name TEXT,
    text            TEXT    NOT NULL,
    sent_to         INTEGER  -- the chat that received it; NULL when no director chat is configured
);

CREATE TABLE conduct_notices (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    at      TEXT    NOT NULL
);
