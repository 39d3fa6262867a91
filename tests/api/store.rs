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

#[tokio::test]
async fn channels_connected_before_numbers_had_a_column_get_theirs_on_start() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let pool = app.state.store.pool();
    // Three channels as an older Baton left them: no number column, the number in the config;
    // two of them (wrongly) the same number.
    for (id, number, at) in [("ch_a", "111", 1), ("ch_b", "222", 2), ("ch_c", "111", 3)] {
        sqlx::query(
            "INSERT INTO channels (id, workspace_id, bot_id, kind, config, created_at) \
             SELECT $1, workspace_id, id, 'whatsapp', $2, $3 FROM bots WHERE id = $4",
        )
        .bind(id)
        .bind(format!(
            r#"{{"phone_number_id":"{number}","access_token":"x"}}"#
        ))
        .bind(at)
        .bind(&shop.bot_id)
        .execute(pool)
        .await
        .unwrap();
    }
    app.state.store.migrate().await.unwrap();
    let numbers: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, phone_number_id FROM channels ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    // The first of the two keeps the number; the second is left for an admin to disconnect.
    assert_eq!(
        numbers,
        vec![
            ("ch_a".to_owned(), Some("111".to_owned())),
            ("ch_b".to_owned(), Some("222".to_owned())),
            ("ch_c".to_owned(), None),
        ]
    );
}

#[tokio::test]
async fn contacts_stored_before_the_search_text_get_theirs_on_start() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let visitor = app
        .visitor_named(&shop.widget_key, Some("Zoë Ångström"))
        .await;
    visitor.say("hello").await;
    visitor.wait_for_messages(2).await;
    let pool = app.state.store.pool();
    // As an older Baton (or an older node of a rolling upgrade) left it.
    sqlx::query("UPDATE contacts SET search_text = NULL")
        .execute(pool)
        .await
        .unwrap();
    let found = |q: &'static str| {
        let owner = &shop.owner;
        async move {
            let (list, _) = owner.get_page(&format!("/api/v1/contacts?q={q}")).await;
            list.as_array().unwrap().len()
        }
    };
    // Meanwhile they are found as SQL lower-cases, as before.
    assert_eq!(found("ZO").await, 1);
    assert_eq!(found("zoë").await, 1);
    assert_eq!(found("zoe").await, 0);
    // A WhatsApp customer gets theirs at once when they write again.
    let (_, me) = shop.owner.get("/api/v1/me").await;
    let workspace_id = me["workspace"]["id"].as_str().unwrap();
    let soren = || {
        app.state.store.upsert_contact(
            workspace_id,
            "whatsapp",
            "4512345678",
            "Søren Kierkegaard",
            Some("+4512345678"),
            app.state.clock.now_ms(),
        )
    };
    soren().await.unwrap();
    sqlx::query("UPDATE contacts SET search_text = NULL")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(found("soren").await, 0);
    soren().await.unwrap();
    assert_eq!(found("soren").await, 1);

    app.state.store.migrate().await.unwrap();
    let (text,): (String,) =
        sqlx::query_as("SELECT search_text FROM contacts WHERE channel = 'widget'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(text.starts_with("zoe angstrom\n"), "{text:?}");
    assert_eq!(found("zoe").await, 1);
    assert_eq!(found("ANGSTROM").await, 1);
}
