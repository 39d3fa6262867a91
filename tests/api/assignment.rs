//! Automatic assignment: with it on, a new handoff goes straight to a teammate who has the
//! dashboard open and is not away — the least busy first — and nobody past the limit.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, Shop, TestApp, eventually, spawn_app};

/// The workspace's handoffs with this status.
async fn handoffs(owner: &Api, status: &str) -> Vec<Value> {
    let (_, list) = owner
        .get(&format!("/api/v1/handoffs?status={status}"))
        .await;
    list.as_array().unwrap().clone()
}

/// A new customer asks for a person; answers their handoff's id once it is listed, whatever
/// became of it.
async fn customer_asks(app: &TestApp, shop: &Shop) -> (String, crate::helpers::Visitor) {
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a real person please").await;
    let conversation = visitor.conversation_id.clone();
    let id = eventually(|| async {
        let (_, list) = shop.owner.get("/api/v1/handoffs?limit=100").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|h| h["conversation_id"] == conversation.as_str())
            .map(|h| h["id"].as_str().unwrap().to_owned())
    })
    .await;
    (id, visitor)
}

/// Waits until the handoff is held by the member with this name; answers it.
async fn held_by(owner: &Api, id: &str, name: &str) -> Value {
    eventually(|| async {
        let (_, handoff) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
        (handoff["status"] == "in_progress" && handoff["claimed_by"]["name"] == name)
            .then_some(handoff)
    })
    .await
}

/// Runs automatic assignment in the workspace now and checks that it gives nothing, then that
/// the handoff still waits.
async fn nothing_given(app: &TestApp, owner: &Api, id: &str) {
    let (_, me) = owner.get("/api/v1/me").await;
    let workspace = me["workspace"]["id"].as_str().unwrap();
    assert_eq!(assign_now(app, workspace).await, Vec::<String>::new());
    let (_, handoff) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
    assert_eq!(handoff["status"], "pending", "{handoff}");
}

/// Runs automatic assignment in the workspace now; answers the handoffs it gave.
async fn assign_now(app: &TestApp, workspace: &str) -> Vec<String> {
    let given = baton::assign::workspace(&app.state, workspace).await;
    given.unwrap().into_iter().map(|h| h.id).collect()
}

/// An answered heartbeat of the member's dashboard at `at` (ms).
async fn heartbeat(app: &TestApp, user_id: &str, at: i64) {
    app.state.store.mark_seen(user_id, at).await.unwrap();
}

/// When the member's dashboard last showed a sign of life, as the agents list says.
async fn last_seen(owner: &Api, email: &str) -> Value {
    let (_, agents) = owner.get("/api/v1/agents").await;
    let agent = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email);
    agent.unwrap()["last_seen_at"].clone()
}

/// Waits until the member's dashboard has been noticed.
async fn seen(owner: &Api, email: &str) {
    eventually(|| async { (!last_seen(owner, email).await.is_null()).then_some(()) }).await;
}

#[tokio::test]
async fn new_handoffs_go_to_available_teammates_in_turn_and_never_past_the_limit() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@acme.test", "agent").await;
    let ben = app.member(owner, "ben@acme.test", "agent").await;

    // Off until an admin turns it on; every member may read it.
    let (status, body) = ana.get("/api/v1/settings/assignment").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"auto": false, "limit": 5}))
    );
    let on = json!({"auto": true, "limit": 1});
    let (status, body) = ana.put("/api/v1/settings/assignment", on.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = owner.put("/api/v1/settings/assignment", on.clone()).await;
    assert_eq!((status, body), (StatusCode::OK, on));

    // Ana and Ben have the dashboard open; the owner only uses the API (an integrator's
    // stream, opened with a key, is not someone at the dashboard).
    let mut feed = app.events(owner, 0).await;
    let _ana_page = app.on_dashboard("ana@acme.test").await;
    let ben_page = app.on_dashboard("ben@acme.test").await;
    seen(owner, "ana@acme.test").await;
    seen(owner, "ben@acme.test").await;

    // One each, the one never given any first (by id when both were never given one).
    let (one, first) = customer_asks(&app, &shop).await;
    let assigned = feed.next_of("handoff.assigned").await;
    assert_eq!(assigned["handoff"]["id"], one);
    assert!(assigned.get("by").is_none(), "nobody did it: {assigned}");
    let first_holder = assigned["handoff"]["claimed_by"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(["ana", "ben"].contains(&first_holder.as_str()));
    let second_holder = if first_holder == "ana" { "ben" } else { "ana" };
    let told = first.wait_for_messages(3).await;
    assert_eq!(
        told.last().unwrap()["text"],
        format!("{first_holder} joined the conversation.")
    );
    assert_eq!(
        first
            .stream(0)
            .await
            .until_quiet(300)
            .await
            .iter()
            .filter(|e| e["type"] == "handoff.updated")
            .map(|e| e["agent_name"].clone())
            .collect::<Vec<_>>(),
        vec![json!(null), json!(first_holder)],
        "the chat window hears who is with them"
    );
    let (two, _) = customer_asks(&app, &shop).await;
    held_by(owner, &two, second_holder).await;

    // Both at the limit: the third waits in the queue.
    let (three, _) = customer_asks(&app, &shop).await;
    nothing_given(&app, owner, &three).await;
    assert_eq!(handoffs(owner, "in_progress").await.len(), 2);

    // Ben resolves his: the waiting one is his at once.
    let ben_had = if first_holder == "ben" { &one } else { &two };
    let ana_had = if first_holder == "ana" { &one } else { &two };
    let (status, body) = ben
        .post(&format!("/api/v1/handoffs/{ben_had}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    held_by(owner, &three, "ben").await;

    // Ana steps away: she keeps what she holds, and gets nothing new.
    let (status, me) = ana.patch("/api/v1/me", json!({"away": true})).await;
    assert_eq!((status, me["away"].clone()), (StatusCode::OK, json!(true)));
    let (status, _) = ana
        .post(&format!("/api/v1/handoffs/{ana_had}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (four, _) = customer_asks(&app, &shop).await;
    nothing_given(&app, owner, &four).await;
    // Back: the waiting one is hers.
    let (_, me) = ana.patch("/api/v1/me", json!({"away": false})).await;
    assert_eq!(me["away"], false);
    held_by(owner, &four, "ana").await;

    // An admin takes the handoff from Ana: it is not given straight back to her.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{four}/release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    nothing_given(&app, owner, &four).await;
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{four}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Ben closes the dashboard, and Ana's has shown no sign of life for three heartbeats
    // (the test's socket answers no pings): neither is there. Both free up, yet a new
    // customer waits until Ben opens the dashboard again.
    let before = last_seen(owner, "ben@acme.test").await;
    ben_page.close().await;
    eventually(|| async { (last_seen(owner, "ben@acme.test").await != before).then_some(()) })
        .await;
    app.state.clock.advance(std::time::Duration::from_secs(91));
    let (status, _) = ben
        .post(&format!("/api/v1/handoffs/{three}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (five, _) = customer_asks(&app, &shop).await;
    nothing_given(&app, owner, &five).await;
    let _ben_again = app.on_dashboard("ben@acme.test").await;
    held_by(owner, &five, "ben").await;
}

#[tokio::test]
async fn of_many_customers_at_once_a_teammate_is_given_only_up_to_the_limit() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    app.member(owner, "ana@acme.test", "agent").await;
    let (status, _) = owner
        .put(
            "/api/v1/settings/assignment",
            json!({"auto": true, "limit": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let _page = app.on_dashboard("ana@acme.test").await;
    seen(owner, "ana@acme.test").await;
    let asks = (0..6).map(|_| customer_asks(&app, &shop));
    let asked = futures_util::future::join_all(asks).await;
    let held = eventually(|| async {
        let held = handoffs(owner, "in_progress").await;
        (held.len() == 2).then_some(held)
    })
    .await;
    assert!(held.iter().all(|h| h["claimed_by"]["name"] == "ana"));
    for (id, _) in &asked {
        if !held.iter().any(|h| h["id"] == id.as_str()) {
            nothing_given(&app, owner, id).await;
        }
    }
    // A claim beyond the limit is still hers to make: the limit is for what is given.
    let pending = handoffs(owner, "pending").await;
    let ana = app.login("ana@acme.test", "member-password-1").await;
    let (status, _) = ana
        .post(
            &format!(
                "/api/v1/handoffs/{}/claim",
                pending[0]["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_setting_is_checked_and_switching_it_on_hands_out_the_queue() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    app.member(owner, "ana@acme.test", "agent").await;
    for (bad, field) in [
        (json!({"auto": true, "limit": 0}), "limit"),
        (json!({"auto": true, "limit": 51}), "limit"),
        (json!({"auto": true, "limit": "3"}), ""),
        (json!({"auto": true, "most": 3}), ""),
    ] {
        let (status, body) = owner.put("/api/v1/settings/assignment", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    let (_, kept) = owner.get("/api/v1/settings/assignment").await;
    assert_eq!(kept["auto"], false);

    // Two wait while it is off, with Ana at the dashboard; switched on, they are hers.
    let _page = app.on_dashboard("ana@acme.test").await;
    let (one, _) = customer_asks(&app, &shop).await;
    let (two, _) = customer_asks(&app, &shop).await;
    nothing_given(&app, owner, &one).await;
    nothing_given(&app, owner, &two).await;
    let (status, _) = owner
        .put("/api/v1/settings/assignment", json!({"auto": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    held_by(owner, &one, "ana").await;
    held_by(owner, &two, "ana").await;

    // Another workspace's member, at their dashboard, is never given ours.
    let other = app.other_workspace("olga@other.test").await;
    let (status, _) = other
        .put("/api/v1/settings/assignment", json!({"auto": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = app
        .session_cookie("olga@other.test", "other-password-1")
        .await;
    let _olga = crate::helpers::Socket::connect_with(
        &format!("ws://{}/api/v1/events?after=0", app.addr),
        "cookie",
        &cookie,
    )
    .await;
    seen(&other, "olga@other.test").await;
    let (_, ana_me) = app
        .login("ana@acme.test", "member-password-1")
        .await
        .patch("/api/v1/me", json!({"away": true}))
        .await;
    assert_eq!(ana_me["away"], true);
    let (three, _) = customer_asks(&app, &shop).await;
    nothing_given(&app, owner, &three).await;
}

#[tokio::test]
async fn a_handoff_left_unanswered_by_someone_who_left_the_dashboard_goes_to_someone_else() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@acme.test", "agent").await;
    app.member(owner, "ben@acme.test", "agent").await;
    let (status, _) = owner
        .put("/api/v1/settings/assignment", json!({"auto": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let _ana_page = app.on_dashboard("ana@acme.test").await;
    seen(owner, "ana@acme.test").await;

    // Two customers are given to Ana (Ben is not at the dashboard); she answers one.
    let mut feed = app.events(owner, 0).await;
    let (unanswered, first) = customer_asks(&app, &shop).await;
    held_by(owner, &unanswered, "ana").await;
    let (answered, _) = customer_asks(&app, &shop).await;
    held_by(owner, &answered, "ana").await;
    let (status, _) = ana
        .post(
            &format!("/api/v1/handoffs/{answered}/messages"),
            json!({"text": "Hi, I'm on it."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Five minutes on, both at the dashboard (each heartbeat answered, as a browser does):
    // both stay Ana's.
    let (_, me) = ana.get("/api/v1/me").await;
    let ana_id = me["user"]["id"].as_str().unwrap().to_owned();
    let workspace = me["workspace"]["id"].as_str().unwrap().to_owned();
    let (_, agents) = owner.get("/api/v1/agents").await;
    let ben_id = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "ben")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let later = |secs: i64| app.state.clock.now_ms() + secs * 1000;
    heartbeat(&app, &ana_id, later(310)).await;
    heartbeat(&app, &ben_id, later(310)).await;
    app.state.clock.advance(std::time::Duration::from_secs(310));
    assert!(assign_now(&app, &workspace).await.is_empty());
    held_by(owner, &unanswered, "ana").await;

    // Ana's dashboard silent past the presence window, but not two minutes more: she keeps
    // it (a reload, a restart or a flaky network never costs anyone a customer).
    heartbeat(&app, &ben_id, later(100)).await;
    app.state.clock.advance(std::time::Duration::from_secs(100));
    assert!(assign_now(&app, &workspace).await.is_empty());
    // Gone for good, but nobody else is there to take it: still hers (the customer is not
    // told someone else will reply when nobody can).
    app.state.clock.advance(std::time::Duration::from_secs(130));
    assert!(assign_now(&app, &workspace).await.is_empty());
    held_by(owner, &unanswered, "ana").await;

    // Ben is back: the one she never answered goes to him; the one she answered stays hers.
    heartbeat(&app, &ben_id, app.state.clock.now_ms()).await;
    assign_now(&app, &workspace).await;
    held_by(owner, &unanswered, "ben").await;
    held_by(owner, &answered, "ana").await;
    let released = feed.next_of("handoff.released").await;
    assert_eq!(released["handoff"]["id"], unanswered);
    assert!(released.get("by").is_none(), "{released}");
    let assigned = feed.next_of("handoff.assigned").await;
    assert_eq!(assigned["handoff"]["claimed_by"]["name"], "ben");
    let told: Vec<Value> = first
        .messages()
        .await
        .into_iter()
        .map(|m| m["text"].clone())
        .collect();
    assert!(
        told.ends_with(&[
            json!("ana left the conversation. Someone else from the team will reply here."),
            json!("ben joined the conversation."),
        ]),
        "{told:?}"
    );
}
