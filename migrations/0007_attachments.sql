-- Files customers send on WhatsApp (photos, voice notes, documents): the message row keeps
-- what the history shows ("[image] caption"); the file itself is fetched from the Graph API
-- by the delivery worker and kept here, so every node can serve it to agents.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    -- The WhatsApp number whose access token may fetch it.
    channel_id      TEXT NOT NULL,
    media_id        TEXT NOT NULL,
    -- image, video, audio, document or sticker.
    kind            TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    filename        TEXT,
    -- As WhatsApp gave it: base64 of the file's SHA-256.
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
CREATE INDEX attachments_due_idx ON attachments (status, next_attempt_at);
CREATE INDEX attachments_conversation_idx ON attachments (conversation_id);
