-- Agent notifications: WhatsApp's id for a sent notification, so its later statuses (delivered,
-- read, or failed — 131047 when the agent's window had closed after all) reach it.
ALTER TABLE outbox ADD COLUMN external_id TEXT;
ALTER TABLE outbox ADD COLUMN delivery_status TEXT;
CREATE INDEX outbox_external_idx ON outbox (external_id);
