-- Reports read a workspace's messages and handoffs by time: without these a report over a
-- month would scan every message the instance ever stored.
CREATE INDEX messages_workspace_created_idx ON messages (workspace_id, created_at);
CREATE INDEX handoffs_workspace_created_idx ON handoffs (workspace_id, created_at);
