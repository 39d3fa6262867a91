-- Reports read a workspace's messages and handoffs by time: without these a report over a
-- month would scan every message the instance ever stored.
CREATE INDEX messages_workspace_created_idx ON messages (workspace_id, created_at);
CREATE INDEX handoffs_workspace_created_idx ON handoffs (workspace_id, created_at);

-- The customer message the bot was answering when it handed off: the question a knowledge-base
-- miss could not answer, and where the handoff's part of the conversation starts. NULL for
-- handoffs opened before this column existed.
ALTER TABLE handoffs ADD COLUMN question_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL;
