-- A password someone else knows (the one-time password printed on first start) must be
-- replaced before the account does anything else. 0 or 1, as the other flags.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
