-- When anything last happened with a customer: a message from anyone in any of their
-- conversations (the notes a handoff writes included), or their first contact. The customers
-- list is ordered by it and retention erases by it, so it is kept on the row and indexed
-- rather than computed over every conversation on each read.
ALTER TABLE contacts ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
UPDATE contacts SET last_active_at = COALESCE(
    (SELECT MAX(m.created_at) FROM messages m
     JOIN conversations c ON c.id = m.conversation_id
     WHERE c.contact_id = contacts.id),
    created_at);
CREATE INDEX contacts_activity_idx ON contacts (workspace_id, last_active_at, id);
