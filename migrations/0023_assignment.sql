-- Automatic assignment: a member is given new handoffs while they are not away (0/1, as every
-- flag here) and their dashboard showed a sign of life (`seen_at`, ms); of those, the one given
-- one longest ago (`assigned_at`, ms) goes first.
ALTER TABLE users ADD COLUMN away BIGINT NOT NULL DEFAULT 0 CHECK (away IN (0, 1));
ALTER TABLE users ADD COLUMN seen_at BIGINT;
ALTER TABLE users ADD COLUMN assigned_at BIGINT;
-- Whom a handoff was last released from: automatic assignment does not hand it straight back.
ALTER TABLE handoffs ADD COLUMN released_from TEXT;
-- When a handoff was given to its holder automatically (until it is released or passed on),
-- and the sequence number of that event: one its holder left unanswered since, gone from the
-- dashboard, goes to someone else.
ALTER TABLE handoffs ADD COLUMN auto_assigned_at BIGINT;
ALTER TABLE handoffs ADD COLUMN auto_assigned_seq BIGINT;
