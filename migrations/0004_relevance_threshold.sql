-- How relevant the best knowledge-base passage must be (0 to 1) for the built-in bot to answer
-- from it rather than hand off. NULL follows the product's default (RELEVANCE_THRESHOLD), so a
-- bot nobody tuned moves with it. Range checked by the application.
ALTER TABLE bots ADD COLUMN relevance_threshold DOUBLE PRECISION;
