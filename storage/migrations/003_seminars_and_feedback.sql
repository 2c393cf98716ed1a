-- Training seminars announced by the deputy director, sign-ups, and what was sent to whom (once each).
-- Times are ISO 8601 in UTC.
CREATE TABLE seminars (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    starts_at       TEXT    NOT NULL,
    place           TEXT    NOT NULL,
    roles           TEXT    NOT NULL,
    created_by_id   INTEGER,
    created_by_name TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    announced_at    TEXT,
    cancelled_at    TEXT
);
CREATE INDEX seminars_starts ON seminars (starts_at);

CREATE TABLE seminar_signups (
    seminar_id INTEGER NOT NULL REFERENCES seminars (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    signed_at  TEXT    NOT NULL,
    PRIMARY KEY (seminar_id, user_id)
);

-- kind: 'announce', 'day' (the day before), 'hour' (an hour before). ok = 0 when Telegram refused it.
CREATE TABLE seminar_notices (
    seminar_id INTEGER NOT NULL REFERENCES seminars (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    sent_at    TEXT    NOT NULL,
    ok         INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (seminar_id, user_id, kind)
);

-- Reference articles: "помогло" (helped = 1) and "нет, задать вопрос" (helped = 0) answers.
CREATE TABLE kb_feedback (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    article_id TEXT    NOT NULL,
    helped     INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX kb_feedback_article ON kb_feedback (article_id, helped);
