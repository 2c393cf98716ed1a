"""Pure rules: schedule, routing, escalation, seminars, the knowledge base, the profanity filter.

Plain Python taking `now` and `text` as arguments: no I/O, no aiogram."""
