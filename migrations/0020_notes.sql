-- Notes a team writes about a conversation for each other: never sent to the customer, never
-- read by the bot. Kept with the conversation (erased with it); the author's name stays when
-- the author is removed.
CREATE TABLE notes (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    handoff_id      TEXT REFERENCES handoffs(id) ON DELETE SET NULL,
    user_id         TEXT REFERENCES users(id) ON DELETE SET NULL,
    author_name     TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notes_conversation_idx ON notes (conversation_id, created_at);
