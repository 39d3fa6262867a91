-- WhatsApp reports on a message it accepted, held while Baton has not yet stored the message's
-- wamid: Meta's "sent" (or "failed") can reach the webhook before the send's own answer has been
-- recorded. When the wamid is stored the held reports are applied and removed; reports for
-- messages Baton never sent (another app on the same number) are dropped after an hour.
CREATE TABLE early_statuses (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    wamid        TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    code         BIGINT,
    received_at  BIGINT NOT NULL
);
CREATE INDEX early_statuses_wamid_idx ON early_statuses (workspace_id, wamid);
CREATE INDEX early_statuses_received_idx ON early_statuses (received_at);
