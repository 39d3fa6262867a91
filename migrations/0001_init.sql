-- Baton schema, in the dialect SQLite and PostgreSQL share: timestamps are unix milliseconds
-- (BIGINT) and ids are application-generated text, so one set of queries runs on both.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- Last sequence number handed out to this workspace's event log. Bumping it is the first
    -- write of every event-producing transaction, which serialises writers per workspace.
    event_seq   BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email               TEXT NOT NULL,
    name                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    -- 0 or 1: sqlx's Any driver reads no SQLite BOOLEAN, so flags are integers on both.
    is_instance_owner   BIGINT NOT NULL DEFAULT 0 CHECK (is_instance_owner IN (0, 1)),
    whatsapp_number     TEXT,
    created_at          BIGINT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_workspace_idx ON users (workspace_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id);

CREATE TABLE bots (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    system_prompt       TEXT NOT NULL,
    handoff_message     TEXT NOT NULL,
    response_time_text  TEXT NOT NULL,
    greeting            TEXT NOT NULL,
    widget_key          TEXT NOT NULL,
    llm_model           TEXT,
    -- Bumped on every knowledge-base change, so each node knows when its index is stale.
    kb_version          BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CONSTRAINT bots_widget_key_key UNIQUE (widget_key)
);
CREATE INDEX bots_workspace_idx ON bots (workspace_id);

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    format          TEXT NOT NULL CHECK (format IN ('text', 'markdown', 'html')),
    content         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX documents_bot_idx ON documents (bot_id);

CREATE TABLE chunks (
    id              TEXT PRIMARY KEY,
    document_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    ordinal         BIGINT NOT NULL,
    heading         TEXT NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX chunks_document_idx ON chunks (document_id);
CREATE INDEX chunks_bot_idx ON chunks (bot_id);

-- Marketplace tools a workspace has added.
CREATE TABLE installed_tools (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    installed_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, slug)
);

-- Per-bot switch for an installed tool. A row exists only while the tool is enabled.
CREATE TABLE bot_tools (
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    enabled_at      BIGINT NOT NULL,
    PRIMARY KEY (bot_id, slug)
);

CREATE TABLE channels (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('whatsapp')),
    -- Channel settings as JSON; secrets inside are encrypted with BATON_SECRET_KEY.
    config          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX channels_workspace_idx ON channels (workspace_id);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('widget', 'whatsapp')),
    -- Widget: the visitor id inside the signed visitor token. WhatsApp: user_id, else wa_id.
    external_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone           TEXT,
    last_inbound_at BIGINT,
    created_at      BIGINT NOT NULL,
    CONSTRAINT contacts_external_key UNIQUE (workspace_id, channel, external_id)
);

CREATE TABLE conversations (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    bot_id              TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    contact_id          TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel             TEXT NOT NULL CHECK (channel IN ('widget', 'whatsapp')),
    channel_id          TEXT REFERENCES channels(id) ON DELETE SET NULL,
    -- The open handoff, if any. While it is set the bot must stay silent.
    active_handoff_id   TEXT,
    -- Messages before this sequence number belong to an earlier bot context (before a resolve).
    context_seq         BIGINT NOT NULL DEFAULT 0,
    last_customer_at    BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX conversations_workspace_idx ON conversations (workspace_id);
CREATE INDEX conversations_contact_idx ON conversations (contact_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- The workspace event sequence of this message's message.created event.
    seq             BIGINT NOT NULL,
    author          TEXT NOT NULL CHECK (author IN ('customer', 'bot', 'agent', 'system')),
    author_name     TEXT NOT NULL,
    user_id         TEXT REFERENCES users(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL DEFAULT 'text',
    text            TEXT NOT NULL,
    -- Channel-side id (a WhatsApp wamid), used to de-duplicate redeliveries.
    external_id     TEXT,
    delivery_status TEXT,
    delivery_error  TEXT,
    created_at      BIGINT NOT NULL,
    CONSTRAINT messages_external_key UNIQUE (conversation_id, external_id)
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, seq);

CREATE TABLE handoffs (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'resolved')),
    reason          TEXT NOT NULL CHECK (reason IN ('customer_request', 'kb_miss', 'bot_error')),
    summary         TEXT NOT NULL,
    claimed_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    claimed_at      BIGINT,
    resolved_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    resolved_at     BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX handoffs_workspace_status_idx ON handoffs (workspace_id, status, created_at);
CREATE INDEX handoffs_conversation_idx ON handoffs (conversation_id);

-- The per-workspace event log behind the resumable realtime streams.
CREATE TABLE events (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    conversation_id TEXT,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX events_conversation_idx ON events (conversation_id, seq);

-- Outbound deliveries (WhatsApp sends, integrator webhooks) waiting for or retrying delivery.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    message_id      TEXT REFERENCES messages(id) ON DELETE CASCADE,
    payload         TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    done_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (done_at, next_attempt_at);

CREATE TABLE workspace_settings (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
