-- Replies a team writes once and agents insert by typing `/` and a shortcut in a handoff.
CREATE TABLE saved_replies (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    shortcut        TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT saved_replies_shortcut_key UNIQUE (workspace_id, shortcut)
);
