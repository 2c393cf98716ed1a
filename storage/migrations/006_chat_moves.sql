-- Telegram gives a group a new chat id when it becomes a supergroup (topics turned on, many members, some
-- settings); the old id is dead from then on. The bot follows the staff group to its new id and remembers
-- the move here, so that after a restart the configured STAFF_CHAT_ID (until the admin updates it) still
-- leads to the group. Keyed by the old id: a STAFF_CHAT_ID changed to another group on purpose is not
-- overridden.
CREATE TABLE chat_moves (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL,
    moved_at    TEXT    NOT NULL
);
