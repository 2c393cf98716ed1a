-- Reference articles (issue 17): what was offered and opened (per-article statistics), articles a specialist
-- sent in a ticket (the ticket records it), and example questions learned from answered tickets.
CREATE TABLE kb_events (
    id          INTEGER PRIMARY KEY,
    article_id  TEXT    NOT NULL,
    event       TEXT    NOT NULL,  -- offered | opened
    user_id     INTEGER REFERENCES users (id),
    ticket_id   INTEGER REFERENCES tickets (id),
    created_at  TEXT    NOT NULL
);
CREATE INDEX kb_events_article ON kb_events (article_id, event);

CREATE TABLE ticket_articles (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id),
    article_id   TEXT    NOT NULL,
    staff_id     INTEGER,
    staff_name   TEXT    NOT NULL DEFAULT '',
    sent_at      TEXT    NOT NULL,
    outcome      TEXT,               -- NULL until the user answers: helped | declined
    answered_at  TEXT
);
CREATE INDEX ticket_articles_ticket ON ticket_articles (ticket_id, article_id);

-- An example question belongs to an article: the matcher indexes it like the article's keywords. Learned when
-- the user of a ticket answered with the article pressed «помогло» (accepted at once); management can reject.
CREATE TABLE kb_examples (
    id          INTEGER PRIMARY KEY,
    article_id  TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    ticket_id   INTEGER REFERENCES tickets (id),
    status      TEXT    NOT NULL DEFAULT 'accepted',  -- accepted | rejected
    created_at  TEXT    NOT NULL,
    UNIQUE (article_id, question)
);
