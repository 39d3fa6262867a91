//! The store itself, on whichever database the suite runs on.

use crate::helpers::spawn_app;

#[tokio::test]
async fn foreign_keys_are_enforced() {
    let app = spawn_app().await;
    let orphan = sqlx::query(
        "INSERT INTO bots (id, workspace_id, name, system_prompt, handoff_message, \
         response_time_text, greeting, widget_key, created_at, updated_at) \
         VALUES ('bot_x', 'ws_missing', 'x', '', '', '', '', 'wk_x', 0, 0)",
    )
    .execute(app.state.store.pool())
    .await;
    assert!(
        orphan.is_err(),
        "a bot in a workspace that does not exist must be refused"
    );
}

#[tokio::test]
async fn migrations_are_safe_to_run_again() {
    let app = spawn_app().await;
    app.state.store.migrate().await.unwrap();
    app.state.store.migrate().await.unwrap();
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let app = spawn_app().await;
    if app.on_postgres() {
        return;
    }
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}
