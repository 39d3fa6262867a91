-- Outbound webhooks: an integrator's endpoint, the event types it follows, and one delivery
-- row per (endpoint, event), queued in the transaction that records the event.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    -- Encrypted with BATON_SECRET_KEY: it signs every delivery, so it must be readable.
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhooks_workspace_idx ON webhooks (workspace_id);

CREATE TABLE webhook_events (
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    -- An event type (`handoff.created`…) or `*` for every type.
    kind            TEXT NOT NULL,
    PRIMARY KEY (webhook_id, kind)
);

CREATE TABLE webhook_deliveries (
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    workspace_id    TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    -- `pending`, `delivered` or `failed` (gave up after the last attempt).
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    response_status BIGINT,
    last_error      TEXT,
    done_at         BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, seq)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (done_at, next_attempt_at);

-- How many webhooks a workspace has, read by the statement that takes the workspace's write
-- lock: a workspace without webhooks pays nothing more per event.
ALTER TABLE workspaces ADD COLUMN webhook_count BIGINT NOT NULL DEFAULT 0;
