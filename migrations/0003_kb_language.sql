-- The language a bot's knowledge base is written in: how its text is stemmed and which stop
-- words are dropped when it is indexed and searched. An ISO 639-1 code ('en', 'es', 'pt'…) or
-- 'none' (lower-case and fold accents only). Checked by the application, not by a CHECK
-- constraint, so that adding a language needs no table rebuild on SQLite.
ALTER TABLE bots ADD COLUMN kb_language TEXT NOT NULL DEFAULT 'en';
