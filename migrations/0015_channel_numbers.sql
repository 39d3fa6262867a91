-- The business number a WhatsApp channel sends from, as a column of its own, so that a number
-- is connected once in the whole instance: Meta calls one URL per app, and the same number on
-- two channels would be two bots answering one customer. Existing channels get it from their
-- config when Baton starts (Store::migrate): SQLite and PostgreSQL read JSON differently.
ALTER TABLE channels ADD COLUMN phone_number_id TEXT;
CREATE UNIQUE INDEX channels_phone_number_key ON channels (kind, phone_number_id);
