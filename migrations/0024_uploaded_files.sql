-- Files can now also be uploaded to Baton — a customer's from the chat window, an agent's from
-- the dashboard — and are stored at once: such a file has no WhatsApp number to fetch it with
-- and, until an agent's file is uploaded to WhatsApp for its customer there, no media id. Both
-- columns become optional; the table is rebuilt, the one portable way to drop NOT NULL.
CREATE TABLE attachments_new (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    -- The WhatsApp number whose access token may fetch it (a file a customer sent there).
    channel_id      TEXT,
    -- WhatsApp's id of the file: the one a customer sent, or the upload of an agent's file.
    media_id        TEXT,
    -- image, video, audio, document or sticker.
    kind            TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    filename        TEXT,
    -- Base64 of the file's SHA-256 (as WhatsApp gives it).
    sha256          TEXT,
    -- `pending`, `stored` or `failed` (with last_error).
    status          TEXT NOT NULL,
    size            BIGINT,
    content         BYTEA,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
INSERT INTO attachments_new (id, workspace_id, message_id, conversation_id, channel_id, media_id,
        kind, mime_type, filename, sha256, status, size, content, attempts, next_attempt_at,
        locked_until, last_error, created_at)
    SELECT id, workspace_id, message_id, conversation_id, channel_id, media_id, kind, mime_type,
        filename, sha256, status, size, content, attempts, next_attempt_at, locked_until,
        last_error, created_at
    FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_due_idx ON attachments (status, next_attempt_at);
CREATE INDEX attachments_conversation_idx ON attachments (conversation_id);
