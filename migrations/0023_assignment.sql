-- Automatic assignment: a member is given new handoffs while they are not away (0/1, as every
-- flag here) and their dashboard showed a sign of life (`seen_at`, ms); of those, the one given
-- one longest ago (`assigned_at`, ms) goes first.
ALTER TABLE users ADD COLUMN away BIGINT NOT NULL DEFAULT 0 CHECK (away IN (0, 1));
ALTER TABLE users ADD COLUMN seen_at BIGINT;
ALTER TABLE users ADD COLUMN assigned_at BIGINT;
-- Whom a handoff was last released from: automatic assignment does not hand it straight back.
ALTER TABLE handoffs ADD COLUMN released_from TEXT;
