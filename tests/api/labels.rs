//! Labels: the team files handoffs under short words ("refund", "vip") to find and count them
//! again; the customer never sees them.

use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::page_html;
use crate::helpers::{code, ids, spawn_app};

#[tokio::test]
async fn the_team_files_handoffs_under_labels_and_finds_them_again() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let first = app.visitor(&shop.widget_key).await;
    first.say("I want to talk to a human").await;
    let one = owner.pending_handoff_id().await;
    let second = app.visitor(&shop.widget_key).await;
    second.say("get me a person please").await;
    let two = owner.another_pending_handoff_id(&[&one]).await;
    let mut team = app.events(owner, 0).await;
    let mut chat = first.stream(0).await;
    chat.until_quiet(300).await;
    let labels_of = |id: &str| format!("/api/v1/handoffs/{id}/labels");

    // Any member, while it waits: kept in one spelling, sorted, once each.
    let (status, body) = ana
        .put(
            &labels_of(&one),
            json!({"labels": ["#Refund", " VIP", "refund"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["labels"], json!(["refund", "vip"]));
    assert_eq!(body["status"], "pending", "filing changes nothing else");
    let event = team.next_of("handoff.labelled").await;
    assert_eq!(event["handoff"]["labels"], json!(["refund", "vip"]));
    assert_eq!(event["by"]["name"], "ana");
    // The customer's chat window hears nothing of it.
    let heard = chat.until_quiet(300).await;
    assert!(heard.is_empty(), "{heard:?}");
    let (_, read) = owner.get(&format!("/api/v1/handoffs/{one}")).await;
    assert_eq!(read["labels"], json!(["refund", "vip"]), "{read}");

    // The same labels again: nothing happens.
    let (status, _) = owner
        .put(&labels_of(&one), json!({"labels": ["vip", "refund"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = team.until_quiet(300).await;
    assert!(
        events.iter().all(|e| e["type"] != "handoff.labelled"),
        "{events:?}"
    );

    // The list finds them by label, however the label is written.
    let (status, body) = owner
        .put(&labels_of(&two), json!({"labels": ["bug_report"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (label, found) in [
        ("REFUND", vec![one.as_str()]),
        ("%23vip", vec![one.as_str()]),
        ("bug_report", vec![two.as_str()]),
        // `_` is no wildcard, nor is a part of a label a label.
        ("bugxreport", vec![]),
        ("bug", vec![]),
        ("ref", vec![]),
    ] {
        let (status, list) = owner.get(&format!("/api/v1/handoffs?label={label}")).await;
        assert_eq!(status, StatusCode::OK, "{label}: {list}");
        assert_eq!(ids(&list), found, "{label}");
    }
    let (status, error) = owner.get("/api/v1/handoffs?label=a%25").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    // Refused, and nothing changed: markup, too many, not a list, another workspace.
    let many: Vec<String> = (0..11).map(|i| format!("l{i}")).collect();
    for body in [
        json!({"labels": ["<b>vip</b>"]}),
        json!({"labels": ["two words"]}),
        json!({"labels": many}),
    ] {
        let (status, error) = owner.put(&labels_of(&one), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(code(&error), "validation_failed", "{error}");
    }
    let (status, _) = owner.put(&labels_of(&one), json!({"labels": "vip"})).await;
    assert!(status.is_client_error());
    let other = app.other_workspace("owner@other.test").await;
    let (status, error) = other
        .put(&labels_of(&one), json!({"labels": ["spam"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (_, read) = owner.get(&format!("/api/v1/handoffs/{one}")).await;
    assert_eq!(read["labels"], json!(["refund", "vip"]));

    // Labels stay through claim and resolve, and a resolved handoff can still be filed.
    for step in ["claim", "resolve"] {
        let (status, body) = owner
            .post(&format!("/api/v1/handoffs/{two}/{step}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["labels"], json!(["bug_report"]));
    }
    let (status, body) = ana
        .put(&labels_of(&two), json!({"labels": ["bug_report", "fixed"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, resolved) = owner
        .get("/api/v1/handoffs?status=resolved&label=fixed")
        .await;
    assert_eq!(ids(&resolved), [two.as_str()]);

    // The queue shows them and filters by them.
    let page = page_html(&app, owner, "/handoffs?tab=pending&label=vip").await;
    assert!(page.contains(&format!(r#"data-handoff="{one}""#)), "{page}");
    assert!(
        !page.contains(&format!(r#"data-handoff="{two}""#)),
        "{page}"
    );
    assert!(page.contains(r#"id="label-filter""#), "{page}");
    let page = page_html(&app, owner, "/handoffs?tab=pending").await;
    assert!(page.contains("#refund"), "{page}");

    // Taking every label off.
    let (status, body) = owner.put(&labels_of(&one), json!({"labels": []})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["labels"], json!([]));
    let taken_off = loop {
        let event = team.next_of("handoff.labelled").await;
        if event["handoff"]["id"] == one.as_str() {
            break event;
        }
    };
    assert_eq!(taken_off["handoff"]["labels"], json!([]));
}
