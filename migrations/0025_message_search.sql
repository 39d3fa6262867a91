-- A message's text as the handoff search compares it (lower-cased in every script, accents
-- dropped: domain::text::search_fold), written by Baton with the message. Messages stored
-- before it existed get it in the background after Baton starts (Store::fill_message_search);
-- until then, and for rows an older node writes during a rolling upgrade, it is NULL and the
-- search falls back to LOWER(text).
ALTER TABLE messages ADD COLUMN search_text TEXT;
-- The messages still to fill, found without reading the others (empty once all are filled).
CREATE INDEX messages_unsearched_idx ON messages (id) WHERE search_text IS NULL;
