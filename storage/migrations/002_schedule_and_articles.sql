-- Routing, queueing and escalation (the consultation schedule), and reference articles shown before a ticket.
ALTER TABLE tickets ADD COLUMN routed_to TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN take_up_at TEXT;
ALTER TABLE tickets ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN vendor_at TEXT;
ALTER TABLE tickets ADD COLUMN vendor_ref TEXT;
ALTER TABLE tickets ADD COLUMN vendor_reminded_at TEXT;
ALTER TABLE tickets ADD COLUMN offered_articles TEXT NOT NULL DEFAULT '';

-- What the scheduler has already done for a ticket (remind, alert_unclaimed, ...): each action once.
CREATE TABLE ticket_actions (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    action    TEXT    NOT NULL,
    done_at   TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, action)
);

-- Specialists from the school profile linked to their Telegram accounts (by a one-time invite link).
CREATE TABLE specialist_links (
    specialist_key TEXT PRIMARY KEY,
    tg_user_id     INTEGER NOT NULL UNIQUE,
    tg_name        TEXT    NOT NULL DEFAULT '',
    linked_at      TEXT    NOT NULL
);

CREATE TABLE invites (
    token          TEXT PRIMARY KEY,
    specialist_key TEXT NOT NULL,
    created_by     INTEGER,
    created_at     TEXT NOT NULL,
    used_at        TEXT,
    used_by        INTEGER
);

-- Once-a-period marks of the scheduler (the daily summary, slot-start notices): name -> last value.
CREATE TABLE job_marks (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
