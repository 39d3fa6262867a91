//! Searching stored text: the `LIKE` patterns the customer and handoff searches compare with,
//! and the handoff search's conditions. Text is compared as Baton folded it when storing it
//! (`search_text` columns, [`crate::domain::text::search_fold`]), because SQL's `LOWER` folds
//! ASCII only on SQLite, and on PostgreSQL only as far as the database's locale goes.

use std::collections::HashMap;

use sqlx::FromRow;

use super::{Store, StoreResult};
use crate::domain::search::search_text;
use crate::domain::text::search_fold;

/// `text` as a `LIKE … ESCAPE '\\'` pattern matching it anywhere, folded as the search text
/// is (a line break cannot join a name to an id); `None` when nothing is left of it to match.
pub(super) fn contains_pattern(text: &str) -> Option<String> {
    let folded: String = search_fold(text)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    (!folded.is_empty()).then(|| like_anywhere(&folded))
}

/// `text` as a `LIKE … ESCAPE '\\'` pattern matching it anywhere, as it is.
pub(super) fn like_anywhere(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The messages of the conversation of `handoffs h` that belong to that handoff, as `m`: from
/// just after the conversation's previous handoff was resolved (what led to this one) until
/// this one was resolved; notices (`system`) left out. Each message of a conversation belongs
/// to one handoff at most.
const SPAN: &str = "m.conversation_id = h.conversation_id AND m.author <> 'system' \
    AND m.created_at > COALESCE((SELECT MAX(p.resolved_at) FROM handoffs p \
     WHERE p.conversation_id = h.conversation_id AND p.id <> h.id \
     AND p.resolved_at <= h.created_at), -1) \
    AND (h.resolved_at IS NULL OR m.created_at <= h.resolved_at)";

/// Message `m` holds the term whose pattern is `$n` (rows an older node wrote have no search
/// text yet: compared as SQL lower-cases).
fn message_holds(n: usize) -> String {
    format!(
        "(m.search_text LIKE ${n} ESCAPE '\\' \
         OR (m.search_text IS NULL AND LOWER(m.text) LIKE ${n} ESCAPE '\\'))"
    )
}

/// For `handoffs h` joined to their customer `contacts ct`: every term, whose three patterns
/// ([`term_patterns`]) are bound as `$first` onwards, is in the customer's name or phone number
/// or in a message of the handoff ([`SPAN`]). Not in a chat-window visitor's id: a piece of
/// hex would find every visitor.
pub(super) fn handoff_has_terms(first: usize, count: usize) -> String {
    (0..count)
        .map(|i| {
            let (text, name, phone) = (first + 3 * i, first + 3 * i + 1, first + 3 * i + 2);
            format!(
                " AND (ct.search_text LIKE ${name} ESCAPE '\\' \
                 OR (ct.search_text IS NULL AND LOWER(ct.name) LIKE ${text} ESCAPE '\\') \
                 OR (${phone} <> '' AND ct.phone LIKE ${phone} ESCAPE '\\') \
                 OR EXISTS (SELECT 1 FROM messages m WHERE {SPAN} AND {}))",
                message_holds(text)
            )
        })
        .collect()
}

/// Each term of a search ([`crate::domain::search::terms`], folded) as three patterns to
/// bind: anywhere in a text; in the name, the first line of a contact's search text
/// ([`super::contacts::search_text`]); and, for a term of digits (`+49`, `151-1234`), in a
/// phone number as stored (`+4915112341234`), else empty.
pub(super) fn term_patterns(terms: &[String]) -> Vec<String> {
    terms
        .iter()
        .flat_map(|term| {
            let dialled = term.chars().any(|c| c.is_ascii_digit())
                && term
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '));
            let phone = if dialled {
                let digits: String = term
                    .chars()
                    .filter(|c| matches!(c, '0'..='9' | '+'))
                    .collect();
                like_anywhere(&digits)
            } else {
                String::new()
            };
            let text = like_anywhere(term);
            let name = format!("{text}\n%");
            [text, name, phone]
        })
        .collect()
}

/// The message of a handoff that shows best what a search found.
#[derive(Debug, Clone, FromRow)]
pub struct MessageMatch {
    pub handoff_id: String,
    pub message_id: String,
    pub author: String,
    pub author_name: String,
    pub text: String,
    pub created_at: i64,
}

/// Messages whose search text is filled per pass.
const FILL_BATCH: i64 = 500;

impl Store {
    /// For each of these handoffs of the workspace, its message holding the most of `terms`
    /// (the latest of equals); a handoff found by its customer's name alone has none.
    pub async fn handoff_matches(
        &self,
        workspace_id: &str,
        handoff_ids: &[&str],
        terms: &[String],
    ) -> StoreResult<HashMap<String, MessageMatch>> {
        if handoff_ids.is_empty() || terms.is_empty() {
            return Ok(HashMap::new());
        }
        let first_id = 2 + terms.len();
        let holds: Vec<String> = (2..first_id).map(message_holds).collect();
        let score = holds
            .iter()
            .map(|holds| format!("(CASE WHEN {holds} THEN 1 ELSE 0 END)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let ids = (first_id..first_id + handoff_ids.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        // One row per handoff, ranked in the database: a common word in long conversations
        // would otherwise bring back every message that holds it.
        let sql = format!(
            "SELECT handoff_id, message_id, author, author_name, text, created_at FROM ( \
             SELECT h.id AS handoff_id, m.id AS message_id, m.author, m.author_name, m.text, \
             m.created_at, ROW_NUMBER() OVER (PARTITION BY h.id \
              ORDER BY {score} DESC, m.created_at DESC, m.seq DESC) AS place \
             FROM handoffs h JOIN messages m ON m.conversation_id = h.conversation_id \
             WHERE h.workspace_id = $1 AND h.id IN ({ids}) AND {SPAN} AND ({}) \
             ) ranked WHERE place = 1",
            holds.join(" OR ")
        );
        let mut query = sqlx::query_as::<_, MessageMatch>(&sql).bind(workspace_id);
        for term in terms {
            query = query.bind(like_anywhere(term));
        }
        for id in handoff_ids {
            query = query.bind(*id);
        }
        let found = query.fetch_all(self.pool()).await?;
        Ok(found
            .into_iter()
            .map(|m| (m.handoff_id.clone(), m))
            .collect())
    }

    /// Writes the search text of up to [`FILL_BATCH`] messages stored before it existed
    /// (migration 0025) or by an older node since; answers how many.
    pub async fn fill_message_search(&self) -> StoreResult<usize> {
        let missing: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, text FROM messages WHERE search_text IS NULL ORDER BY id LIMIT $1",
        )
        .bind(FILL_BATCH)
        .fetch_all(self.pool())
        .await?;
        let mut tx = self.pool().begin().await?;
        for (id, text) in &missing {
            sqlx::query("UPDATE messages SET search_text = $1 WHERE id = $2")
                .bind(search_text(text))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(missing.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_matched_literally_anywhere() {
        assert_eq!(contains_pattern("Ann").as_deref(), Some("%ann%"));
        assert_eq!(
            contains_pattern("50%_off\\").as_deref(),
            Some("%50\\%\\_off\\\\%")
        );
        assert_eq!(contains_pattern("JOSÉ").as_deref(), Some("%jose%"));
        assert_eq!(contains_pattern("\u{301}\n"), None);
    }

    #[test]
    fn each_term_is_one_more_condition_on_its_own_parameters() {
        let sql = handoff_has_terms(9, 2);
        assert_eq!(sql.matches("OR EXISTS (").count(), 2);
        assert_eq!(sql.matches("$9 ").count(), 3, "name fallback and message");
        assert_eq!(sql.matches("$10 ").count(), 1, "name line");
        assert_eq!(sql.matches("$11 ").count(), 2, "phone");
        assert_eq!(sql.matches("$12 ").count(), 3);
        assert!(sql.contains("$14 ") && !sql.contains("$15"));
    }

    #[test]
    fn a_term_of_digits_is_also_looked_for_in_phone_numbers() {
        let terms = ["+49".to_owned(), "151-12(3)".to_owned(), "a_1".to_owned()];
        assert_eq!(
            term_patterns(&terms),
            [
                "%+49%",
                "%+49%\n%",
                "%+49%", //
                "%151-12(3)%",
                "%151-12(3)%\n%",
                "%151123%", //
                "%a\\_1%",
                "%a\\_1%\n%",
                "",
            ]
        );
    }
}
