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
    -- The workspace sequence number of its `note.created` event: where it sits among the
    -- conversation's messages, which carry theirs.
    seq             BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notes_conversation_idx ON notes (conversation_id, seq);

-- Who made the claim `claimed_at` records: a transfer moves `claimed_by` to the new holder but
-- the claim (and its credit in reports) stays the claimant's. NULL while nobody has claimed it,
-- and for handoffs claimed before this column existed (reports then read `claimed_by`).
ALTER TABLE handoffs ADD COLUMN claimant TEXT REFERENCES users(id) ON DELETE SET NULL;
