//! Bots, and the marketplace tools installed in a workspace and switched on per bot.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::{KbLanguage, new_id};

#[derive(Debug, Clone, FromRow)]
pub struct BotRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub system_prompt: String,
    pub handoff_message: String,
    /// What the bot promises about waiting ("Our team responds within 2 hours…").
    pub response_time_text: String,
    /// The first thing the widget shows.
    pub greeting: String,
    /// Public key that the widget snippet carries to find this bot.
    pub widget_key: String,
    /// Overrides the instance's LLM model for this bot.
    pub llm_model: Option<String>,
    /// Overrides the instance's OpenAI-compatible endpoint for this bot.
    pub llm_base_url: Option<String>,
    /// This bot's own key for the model endpoint, sealed ([`crate::crypto::encrypt`]).
    #[sqlx(rename = "llm_api_key")]
    pub llm_api_key_sealed: Option<String>,
    /// How the knowledge base is analysed for search (stemming, stop words).
    #[sqlx(try_from = "String")]
    pub kb_language: KbLanguage,
    /// The built-in bot's bar for answering from the knowledge base; `None` follows the default
    /// ([`BotRecord::relevance_threshold`]).
    #[sqlx(rename = "relevance_threshold")]
    pub relevance_threshold_set: Option<f64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewBot {
    pub name: String,
    pub llm_model: Option<String>,
    pub llm_base_url: Option<String>,
    pub llm_api_key_sealed: Option<String>,
    pub system_prompt: String,
    pub handoff_message: String,
    pub response_time_text: String,
    pub greeting: String,
    pub kb_language: KbLanguage,
    pub relevance_threshold: Option<f64>,
}

/// The fields of a bot an update may change; `None` keeps the current value.
#[derive(Default)]
pub struct BotPatch {
    pub name: Option<String>,
    pub system_prompt: Option<String>,
    pub handoff_message: Option<String>,
    pub response_time_text: Option<String>,
    pub greeting: Option<String>,
    pub llm_model: Option<Option<String>>,
    pub llm_base_url: Option<Option<String>>,
    /// Already sealed.
    pub llm_api_key_sealed: Option<Option<String>>,
    pub kb_language: Option<KbLanguage>,
    /// `Some(None)` goes back to the default.
    pub relevance_threshold: Option<Option<f64>>,
}

const BOT_COLUMNS: &str = "id, workspace_id, name, system_prompt, handoff_message, \
                           response_time_text, greeting, widget_key, llm_model, kb_language, \
                           relevance_threshold, created_at, updated_at, llm_base_url, \
                           llm_api_key";

impl BotRecord {
    /// How relevant the best passage must be for the built-in bot to answer from it: the bot's
    /// own setting, or the default chosen on development data.
    pub fn relevance_threshold(&self) -> f32 {
        self.relevance_threshold_set
            .map_or(crate::bot::builtin::RELEVANCE_THRESHOLD, |t| t as f32)
    }
}

impl Store {
    pub async fn create_bot(
        &self,
        workspace_id: &str,
        bot: NewBot,
        widget_key: &str,
        now: i64,
    ) -> StoreResult<BotRecord> {
        let record = BotRecord {
            id: new_id("bot"),
            workspace_id: workspace_id.to_owned(),
            name: bot.name,
            system_prompt: bot.system_prompt,
            handoff_message: bot.handoff_message,
            response_time_text: bot.response_time_text,
            greeting: bot.greeting,
            widget_key: widget_key.to_owned(),
            llm_model: bot.llm_model,
            llm_base_url: bot.llm_base_url,
            llm_api_key_sealed: bot.llm_api_key_sealed,
            kb_language: bot.kb_language,
            relevance_threshold_set: bot.relevance_threshold,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(&format!(
            "INSERT INTO bots ({BOT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&record.id)
        .bind(&record.workspace_id)
        .bind(&record.name)
        .bind(&record.system_prompt)
        .bind(&record.handoff_message)
        .bind(&record.response_time_text)
        .bind(&record.greeting)
        .bind(&record.widget_key)
        .bind(&record.llm_model)
        .bind(record.kb_language.as_str())
        .bind(record.relevance_threshold_set)
        .bind(now)
        .bind(now)
        .bind(&record.llm_base_url)
        .bind(&record.llm_api_key_sealed)
        .execute(self.pool())
        .await?;
        Ok(record)
    }

    pub async fn list_bots(&self, workspace_id: &str) -> StoreResult<Vec<BotRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {BOT_COLUMNS} FROM bots WHERE workspace_id = $1 ORDER BY created_at, id"
        ))
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn bot(&self, workspace_id: &str, bot_id: &str) -> StoreResult<BotRecord> {
        sqlx::query_as(&format!(
            "SELECT {BOT_COLUMNS} FROM bots WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(bot_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("bot"))
    }

    /// A bot in any workspace, for the command line (which has the database, so every
    /// workspace).
    pub async fn any_bot(&self, bot_id: &str) -> StoreResult<BotRecord> {
        sqlx::query_as(&format!("SELECT {BOT_COLUMNS} FROM bots WHERE id = $1"))
            .bind(bot_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("bot"))
    }

    /// Every bot of every workspace, oldest first, for the command line.
    pub async fn all_bots(&self) -> StoreResult<Vec<BotRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {BOT_COLUMNS} FROM bots ORDER BY created_at, id"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn bot_by_widget_key(&self, widget_key: &str) -> StoreResult<BotRecord> {
        sqlx::query_as(&format!(
            "SELECT {BOT_COLUMNS} FROM bots WHERE widget_key = $1"
        ))
        .bind(widget_key)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("bot"))
    }

    pub async fn update_bot(
        &self,
        workspace_id: &str,
        bot_id: &str,
        patch: BotPatch,
        now: i64,
    ) -> StoreResult<BotRecord> {
        let current = self.bot(workspace_id, bot_id).await?;
        let llm_model = patch.llm_model.unwrap_or(current.llm_model);
        // A new language needs a new index: the per-node caches key on it (see `kb_state`).
        let kb_language = patch.kb_language.unwrap_or(current.kb_language);
        let relevance_threshold = patch
            .relevance_threshold
            .unwrap_or(current.relevance_threshold_set);
        let llm_base_url = patch.llm_base_url.unwrap_or(current.llm_base_url);
        let llm_api_key = patch
            .llm_api_key_sealed
            .unwrap_or(current.llm_api_key_sealed);
        sqlx::query(
            "UPDATE bots SET name = $1, system_prompt = $2, handoff_message = $3, \
             response_time_text = $4, greeting = $5, llm_model = $6, kb_language = $7, \
             relevance_threshold = $8, updated_at = $9, llm_base_url = $10, llm_api_key = $11 \
             WHERE workspace_id = $12 AND id = $13",
        )
        .bind(patch.name.unwrap_or(current.name))
        .bind(patch.system_prompt.unwrap_or(current.system_prompt))
        .bind(patch.handoff_message.unwrap_or(current.handoff_message))
        .bind(
            patch
                .response_time_text
                .unwrap_or(current.response_time_text),
        )
        .bind(patch.greeting.unwrap_or(current.greeting))
        .bind(llm_model)
        .bind(kb_language.as_str())
        .bind(relevance_threshold)
        .bind(now)
        .bind(llm_base_url)
        .bind(llm_api_key)
        .bind(workspace_id)
        .bind(bot_id)
        .execute(self.pool())
        .await?;
        self.bot(workspace_id, bot_id).await
    }

    pub async fn installed_tools(&self, workspace_id: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT slug FROM installed_tools WHERE workspace_id = $1 ORDER BY slug",
        )
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(slug,)| slug).collect())
    }

    pub async fn install_tool(&self, workspace_id: &str, slug: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO installed_tools (workspace_id, slug, installed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id, slug) DO NOTHING",
        )
        .bind(workspace_id)
        .bind(slug)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a tool from the workspace and switches it off on every bot.
    pub async fn uninstall_tool(&self, workspace_id: &str, slug: &str) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM installed_tools WHERE workspace_id = $1 AND slug = $2")
            .bind(workspace_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM bot_tools WHERE workspace_id = $1 AND slug = $2")
            .bind(workspace_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Switches a tool on or off for a bot. Switching on answers `false` when the tool is not
    /// installed in the bot's workspace.
    pub async fn set_bot_tool(
        &self,
        workspace_id: &str,
        bot_id: &str,
        slug: &str,
        enabled: bool,
        now: i64,
    ) -> StoreResult<bool> {
        if !enabled {
            sqlx::query(
                "DELETE FROM bot_tools WHERE bot_id = $1 AND slug = $2 AND workspace_id = $3",
            )
            .bind(bot_id)
            .bind(slug)
            .bind(workspace_id)
            .execute(self.pool())
            .await?;
            return Ok(true);
        }
        let done = sqlx::query(
            "INSERT INTO bot_tools (bot_id, workspace_id, slug, enabled_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS \
               (SELECT 1 FROM installed_tools WHERE workspace_id = $2 AND slug = $3) \
             ON CONFLICT (bot_id, slug) DO NOTHING",
        )
        .bind(bot_id)
        .bind(workspace_id)
        .bind(slug)
        .bind(now)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        Ok(self.enabled_tools(bot_id).await?.iter().any(|s| s == slug))
    }

    /// The tools switched on for a bot that are also still installed in its workspace.
    pub async fn enabled_tools(&self, bot_id: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT t.slug FROM bot_tools t JOIN installed_tools i \
               ON i.workspace_id = t.workspace_id AND i.slug = t.slug \
             WHERE t.bot_id = $1 ORDER BY t.slug",
        )
        .bind(bot_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(slug,)| slug).collect())
    }
}
