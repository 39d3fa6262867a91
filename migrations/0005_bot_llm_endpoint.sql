-- A bot may talk to its own OpenAI-compatible endpoint with its own key instead of the
-- instance's (BATON_LLM_BASE_URL / BATON_LLM_API_KEY). The key is sealed with the instance's
-- secret key, as WhatsApp channel secrets are; NULL means "not set".
ALTER TABLE bots ADD COLUMN llm_base_url TEXT;
ALTER TABLE bots ADD COLUMN llm_api_key TEXT;
