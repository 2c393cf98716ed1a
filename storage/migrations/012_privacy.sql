-- Personal data (152-ФЗ): consent to the notice, a parent's confirmation for a student, erasure.
-- consent_version: the notice version the user last agreed to (NULL: none); erased_at: the user's personal
-- data was erased (/forget, or retention): the row stays, anonymous, so that tickets keep their counts.
ALTER TABLE users ADD COLUMN consent_version TEXT;
ALTER TABLE users ADD COLUMN consent_at TEXT;
ALTER TABLE users ADD COLUMN parent_confirmed_at TEXT;
ALTER TABLE users ADD COLUMN erased_at TEXT;
ALTER TABLE tickets ADD COLUMN erased_at TEXT;

-- Every decision on the notice, with its version: agree | decline | withdraw | parent (a parent confirmed
-- a student's use; by_user_id is the parent).
CREATE TABLE consents (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    version    TEXT    NOT NULL,
    decision   TEXT    NOT NULL,
    by_user_id INTEGER,
    at         TEXT    NOT NULL
);
CREATE INDEX consents_by_user ON consents (user_id, id);

-- The text of each notice version, as first shown (in Russian), so a consent can be traced to its words.
CREATE TABLE notice_versions (
    version    TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One-time codes a student passes to a parent (when the school asks for a parent's confirmation).
CREATE TABLE parent_codes (
    code       TEXT PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT    NOT NULL,
    used_by    INTEGER,
    used_at    TEXT
);
