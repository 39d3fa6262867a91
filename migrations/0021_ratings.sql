-- Customer satisfaction: the rating a customer gave the help they got in a handoff, asked for
-- when an agent resolved it (on bots with the Satisfaction Survey tool). One per handoff; the
-- row is written with the request, `score` stays NULL until the customer answers.
CREATE TABLE ratings (
    handoff_id      TEXT PRIMARY KEY REFERENCES handoffs(id) ON DELETE CASCADE,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- The system message that asked (its buttons carry its id).
    message_id      TEXT NOT NULL UNIQUE,
    -- Who held the handoff when it was resolved: the rating is theirs.
    agent_id        TEXT REFERENCES users(id) ON DELETE SET NULL,
    agent_name      TEXT NOT NULL,
    score           TEXT,
    comment         TEXT,
    requested_at    BIGINT NOT NULL,
    rated_at        BIGINT,
    -- For an answer tapped on WhatsApp, the sequence number of the tap's message: a tap stored
    -- earlier (a redelivery of an older one) never overwrites a later one.
    rated_seq       BIGINT
);
CREATE INDEX ratings_workspace_idx ON ratings (workspace_id, requested_at);
CREATE INDEX ratings_conversation_idx ON ratings (conversation_id);
