-- WhatsApp: find our outbound messages by their wamid when statuses arrive, and tie agent
-- notifications to the handoff they announce.
CREATE INDEX messages_external_idx ON messages (external_id);
ALTER TABLE outbox ADD COLUMN handoff_id TEXT;
CREATE INDEX outbox_handoff_idx ON outbox (handoff_id);
