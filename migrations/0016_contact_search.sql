-- A customer's name and channel id as the list's search compares them (lower-cased in every
-- script, accents dropped: domain::text::search_fold), written by Baton with the contact. SQL's
-- LOWER cannot do it: it folds ASCII only on SQLite, and on PostgreSQL only as far as the
-- database's locale goes. Existing contacts get it when Baton starts (Store::migrate); until
-- then, and for rows an older node writes during a rolling upgrade, it is NULL and the search
-- falls back to LOWER.
ALTER TABLE contacts ADD COLUMN search_text TEXT;
