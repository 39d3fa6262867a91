-- `baton kb import` replaces a bot's document by its title: find it without reading the bot's
-- whole knowledge base.
CREATE INDEX documents_bot_title_idx ON documents (bot_id, title);
