-- A message's delivery, found when an agent sends a failed message again.
CREATE INDEX outbox_message_idx ON outbox (message_id);
