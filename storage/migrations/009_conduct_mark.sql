-- A question whose session the conduct policy ended stays visible to staff, marked: the card says when
-- the session was ended for a breach of the rules of communication (never the words). Cleared when the
-- management returns the question to work.
ALTER TABLE tickets ADD COLUMN conduct_ended_at TEXT;
