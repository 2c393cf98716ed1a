-- Satisfaction ratings: asked once per ticket when it is closed (by staff or the user; never after a conduct
-- end), answered with 1-5 and an optional comment. No user id: the row keeps what a report counts (the role,
-- topic, category and who took the ticket) so that it can stay, anonymous, when a ticket's personal data is
-- deleted (``ticket_id`` and ``comment`` set to NULL).
CREATE TABLE ratings (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER UNIQUE,
    role          TEXT    NOT NULL,
    topic         TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    specialist_id INTEGER,
    asked_at      TEXT    NOT NULL,
    score         INTEGER CHECK (score BETWEEN 1 AND 5),
    rated_at      TEXT,
    comment       TEXT
);
CREATE INDEX ratings_asked ON ratings (asked_at);

-- The rating on the ticket itself, for its card.
ALTER TABLE tickets ADD COLUMN rating INTEGER;

-- A notice may carry a picture (the weekly report's chart), sent as a photo with the text as its caption.
ALTER TABLE outbox ADD COLUMN photo BLOB;
