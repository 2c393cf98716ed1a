-- The audit trail: every staff and management action, who and when. Written in the same transaction as the
-- action. Kept for good: a few rows a day.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    ticket_id   INTEGER,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_ticket ON audit (ticket_id, id);
