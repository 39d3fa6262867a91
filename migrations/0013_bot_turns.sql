-- Customer messages the bot still has to answer, each leased to the node answering it. The row
-- is written with the message and deleted in the transaction that stores the answer (or when
-- the turn ends without one), so a message whose node stopped is found again by any node once
-- the lease runs out, and an answer is stored at most once.
CREATE TABLE bot_turns (
    message_id      TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    node_id         TEXT NOT NULL,
    leased_until    BIGINT NOT NULL,
    -- How many times a node took the turn over from one that had stopped working on it.
    takeovers       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX bot_turns_lease_idx ON bot_turns (leased_until);

-- Messages left unanswered by the version before (the last customer word in a conversation the
-- bot holds), for the first node to start: its sweep answers those of the last day.
INSERT INTO bot_turns (message_id, node_id, leased_until)
SELECT m.id, '', 0 FROM messages m
JOIN conversations c ON c.id = m.conversation_id
WHERE c.active_handoff_id IS NULL AND m.author = 'customer' AND m.kind <> 'reaction'
  AND m.seq > c.context_seq
  AND NOT EXISTS (SELECT 1 FROM messages later
                  WHERE later.conversation_id = m.conversation_id AND later.seq > m.seq
                    AND later.author <> 'system' AND later.kind <> 'reaction');
