-- Why a ticket went where it did (helpdesk.domain.RouteReason), so that the card says what the user was told;
-- NULL for tickets routed before it was kept.
ALTER TABLE tickets ADD COLUMN route_reason TEXT;
-- The user's confirmation of the ticket (the message with «Вопрос решён, закрыть»): its button goes when
-- staff close the ticket. NULL when unknown (tickets from before, or the confirmation was not delivered).
ALTER TABLE tickets ADD COLUMN confirm_message_id INTEGER;
