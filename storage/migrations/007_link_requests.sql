-- An invite opened by someone other than the account already linked to that specialist does not replace
-- the link on its own: management confirms it (/relink N) in their chat. The request waits here.
CREATE TABLE link_requests (
    id             INTEGER PRIMARY KEY,
    specialist_key TEXT    NOT NULL,
    tg_user_id     INTEGER NOT NULL,
    tg_name        TEXT    NOT NULL DEFAULT '',
    requested_at   TEXT    NOT NULL,
    decided_at     TEXT,
    decided_by     INTEGER
);
