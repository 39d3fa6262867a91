//! Searching the handoffs: an agent finds a customer's conversation again by something that
//! was said in it ("the crème brûlée maker", "order 4471") or by who said it, across every
//! state, in the API and on the dashboard.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dashboard::page_html;
use crate::helpers::{Api, code, ids, spawn_app};

async fn search(api: &Api, query: &str) -> Value {
    let (status, body) = api.get(&format!("/api/v1/handoffs?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

#[tokio::test]
async fn agents_find_handoffs_by_what_was_said_and_who_said_it() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let jose = app
        .visitor_named(&shop.widget_key, Some("José Álvarez"))
        .await;
    jose.say("My CRÈME brûlée maker arrived broken,\norder  4471")
        .await;
    jose.say("I want to talk to a human").await;
    let first = owner.pending_handoff_id().await;
    let other = app.visitor(&shop.widget_key).await;
    other.say("get me a person, about my 100%_off coupon").await;
    let second = owner.another_pending_handoff_id(&[&first]).await;

    // A word, without its accents or case, finds the handoff and the message that holds it.
    let found = search(owner, "q=creme%20BROKEN").await;
    assert_eq!(ids(&found), [first.as_str()], "{found}");
    let matched = &found[0]["match"];
    assert_eq!(matched["author"], "customer", "{found}");
    assert_eq!(
        matched["excerpt"], "My CRÈME brûlée maker arrived broken, order 4471",
        "on one line"
    );
    let (_, handoff) = owner.get(&format!("/api/v1/handoffs/{first}")).await;
    let said = handoff["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"].as_str().unwrap().contains("brûlée"))
        .unwrap();
    assert_eq!(matched["message_id"], said["id"]);
    assert_eq!(
        found[0]["summary"], handoff["summary"],
        "a handoff as listed"
    );
    // A phrase in quotes, across the line break; every term must be found.
    let found = search(owner, "q=%22broken,%20order%204471%22").await;
    assert_eq!(ids(&found), [first.as_str()]);
    assert!(
        ids(&search(owner, "q=%22order%20broken%22").await).is_empty(),
        "not in that order"
    );
    assert!(
        ids(&search(owner, "q=creme%20coupon").await).is_empty(),
        "each term in another handoff"
    );
    // Several found: newest first, or oldest first, as the list orders.
    let found = search(owner, "q=a").await;
    assert_eq!(ids(&found), [second.as_str(), first.as_str()]);
    let found = search(owner, "q=a&order=oldest").await;
    assert_eq!(ids(&found), [first.as_str(), second.as_str()]);
    // The customer's name: found, with no message to show.
    let found = search(owner, "q=alvarez").await;
    assert_eq!(ids(&found), [first.as_str()]);
    assert_eq!(found[0]["match"], Value::Null);
    // Not a chat-window visitor's id (`visitor_…` and hex): a piece of it is in no name.
    assert!(ids(&search(owner, "q=visitor_").await).is_empty());
    // LIKE's wildcards are plain characters.
    let found = search(owner, "q=100%25_off").await;
    assert_eq!(ids(&found), [second.as_str()]);
    assert!(ids(&search(owner, "q=brul_e").await).is_empty());
    assert!(
        ids(&search(owner, "q=%25").await).len() == 1,
        "only the coupon"
    );

    // With the list's other filters: the state.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{first}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ids(&search(owner, "q=creme&status=pending").await).is_empty(),
        "claimed"
    );
    let found = search(owner, "q=creme&status=in_progress").await;
    assert_eq!(ids(&found), [first.as_str()]);

    // The agent's words count, notices to the customer do not.
    let (status, body) = owner
        .post(
            &format!("/api/v1/handoffs/{first}/messages"),
            json!({"text": "A courier brings a new one tomorrow."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let found = search(owner, "q=courier").await;
    assert_eq!(ids(&found), [first.as_str()]);
    assert_eq!(found[0]["match"]["author"], "agent");
    // The message shown holds the most of the terms; of equals, the latest.
    let found = search(owner, "q=creme%20courier").await;
    assert_eq!(ids(&found), [first.as_str()]);
    assert_eq!(found[0]["match"]["author"], "agent", "{found}");
    let found = search(owner, "q=courier%20creme%20broken").await;
    assert_eq!(found[0]["match"]["author"], "customer", "{found}");
    let (_, handoff) = owner.get(&format!("/api/v1/handoffs/{first}")).await;
    let notice = handoff["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"] == "system")
        .unwrap_or_else(|| panic!("claiming leaves a notice: {handoff}"));
    let notice = notice["text"].as_str().unwrap();
    let quoted = format!("\"{notice}\"");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &quoted)
        .finish();
    assert!(ids(&search(owner, &query).await).is_empty(), "{notice}");

    // Resolved, then asked again: each handoff holds what was said up to its end; what led to
    // the next one is the next one's.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{first}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.state.clock.advance(Duration::from_secs(1));
    jose.say("The new one leaks too, I need a human again")
        .await;
    let third = owner.another_pending_handoff_id(&[&second]).await;
    assert_ne!(third, first);
    let found = search(owner, "q=leaks").await;
    assert_eq!(ids(&found), [third.as_str()]);
    let found = search(owner, "q=creme").await;
    assert_eq!(ids(&found), [first.as_str()], "resolved ones too");
    let found = search(owner, "q=alvarez").await;
    assert_eq!(ids(&found), [third.as_str(), first.as_str()]);

    // One page at a time, the search kept in the next page's link.
    let (page, next) = owner.get_page("/api/v1/handoffs?q=alvarez&limit=1").await;
    assert_eq!(ids(&page), [third.as_str()]);
    let next = next.expect("a full page links to the next");
    assert!(next.contains("q=alvarez"), "{next}");
    let (page, _) = owner.get_page(&next).await;
    assert_eq!(ids(&page), [first.as_str()]);

    // Another workspace finds nothing of these.
    let stranger = app.other_workspace("boss@elsewhere.test").await;
    assert!(ids(&search(&stranger, "q=creme").await).is_empty());
    assert!(ids(&search(&stranger, "q=a").await).is_empty());

    // A search too long, or of too many terms, says why.
    let (status, body) = owner
        .get("/api/v1/handoffs?q=a%20b%20c%20d%20e%20f%20g%20h%20i")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "validation_failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("q: at most 8")
    );
    let (status, body) = owner
        .get(&format!("/api/v1/handoffs?q={}", "x".repeat(201)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A blank search is no search.
    let found = search(owner, "q=%20%20").await;
    assert_eq!(ids(&found).len(), 3);
    assert!(found[0].get("match").is_none(), "{found}");
}

#[tokio::test]
async fn messages_stored_before_the_search_existed_are_found() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor
        .say("Mi café llegó frío, quiero hablar con una persona")
        .await;
    let id = owner.pending_handoff_id().await;
    // As an older Baton left them.
    sqlx::query("UPDATE messages SET search_text = NULL")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    // Until filled, compared as SQL lower-cases: in any ASCII case, but not without accents.
    assert_eq!(ids(&search(owner, "q=PERSONA").await), [id.as_str()]);
    assert!(ids(&search(owner, "q=llego").await).is_empty());
    let filled = app.state.store.fill_message_search().await.unwrap();
    assert!(filled >= 2, "{filled}");
    assert_eq!(app.state.store.fill_message_search().await.unwrap(), 0);
    // Then without accents too.
    assert_eq!(ids(&search(owner, "q=llego%20FRIO").await), [id.as_str()]);
}

#[tokio::test]
async fn the_queue_searches_and_opens_a_handoff_at_the_message_found() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor
        .say("The <b>blender</b> jar cracked, I need a human")
        .await;
    let id = owner.pending_handoff_id().await;
    let html = page_html(&app, owner, "/handoffs?q=BLENDER").await;
    assert!(html.contains("id=\"clear-search\""), "{html}");
    assert!(
        html.contains("The &lt;b&gt;<mark>blender</mark>&lt;/b&gt; jar cracked"),
        "escaped, the term marked: {html}"
    );
    let (_, handoff) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
    let message = handoff["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"] == "customer")
        .unwrap();
    let link = format!("/handoffs/{id}#m-{}", message["id"].as_str().unwrap());
    assert!(html.contains(&link), "{html}");
    let page = page_html(&app, owner, &link).await;
    assert!(
        page.contains(&format!("id=\"m-{}\"", message["id"].as_str().unwrap())),
        "{page}"
    );
    // Every state, unless a tab narrows the search; the tabs keep it.
    assert!(html.contains("class=\"active\" data-tab=\"all\""), "{html}");
    assert!(html.contains("q=BLENDER"), "{html}");
    let html = page_html(&app, owner, "/handoffs?tab=resolved&q=blender").await;
    assert!(html.contains("No handoff holds all of that."), "{html}");
    let html = page_html(&app, owner, "/handoffs?tab=pending&q=blender").await;
    assert!(html.contains(&link), "{html}");
    let html = page_html(&app, owner, "/handoffs?q=nothing%20like%20it").await;
    assert!(html.contains("No handoff holds all of that."), "{html}");
    let html = page_html(&app, owner, "/handoffs?q=a%20b%20c%20d%20e%20f%20g%20h%20i").await;
    assert!(
        html.contains("Search: at most 8 words or phrases."),
        "{html}"
    );
}

#[tokio::test]
async fn a_whatsapp_customer_is_found_by_their_number_however_it_is_typed() {
    use crate::whatsapp::{Setup, text_from};
    let s = Setup::new().await;
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.search1",
        "I need a human, please",
    ))
    .await;
    let id = s.shop.owner.pending_handoff_id().await;
    for typed in [
        "%2B4915112345678",
        "4915112345678",
        "%2B49%20151%201234-5678",
        "151-12345",
        "lena",
    ] {
        let found = search(&s.shop.owner, &format!("q={typed}")).await;
        assert_eq!(ids(&found), [id.as_str()], "{typed}");
    }
    assert!(ids(&search(&s.shop.owner, "q=%2B44").await).is_empty());
}
