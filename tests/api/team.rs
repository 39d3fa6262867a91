//! Working a handoff as a team: notes only the team reads, and handing a customer to a
//! teammate — never two holders, never a note in front of the customer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, code, spawn_app};

async fn user_id(api: &Api) -> String {
    let (_, me) = api.get("/api/v1/me").await;
    me["user"]["id"].as_str().unwrap().to_owned()
}

/// The texts the customer's chat window holds.
async fn customer_texts(visitor: &crate::helpers::Visitor) -> Vec<String> {
    visitor
        .messages()
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn note(api: &Api, handoff_path: &str, text: &str) -> (StatusCode, Value) {
    api.post(&format!("{handoff_path}/notes"), json!({"text": text}))
        .await
}

async fn transfer(api: &Api, handoff_path: &str, body: Value) -> (StatusCode, Value) {
    api.post(&format!("{handoff_path}/transfer"), body).await
}

/// A shop whose widget visitor has asked for a person: the pending handoff's API path.
async fn asked_for_a_person(app: &TestApp, widget_key: &str, owner: &Api) -> String {
    let visitor = app.visitor(widget_key).await;
    visitor.say("I want to talk to a human").await;
    format!("/api/v1/handoffs/{}", owner.pending_handoff_id().await)
}

#[tokio::test]
async fn notes_reach_the_team_live_and_never_the_customer() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let agent = app.member(owner, "ana@shop.test", "agent").await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut customer_stream = visitor.stream(0).await;
    visitor.say("I want to talk to a human").await;
    let id = owner.pending_handoff_id().await;
    let path = format!("/api/v1/handoffs/{id}");
    let mut team = app.events(owner, 0).await;

    // Any member writes one, before anyone has claimed the handoff; markup stays text.
    let secret = "<b>VIP</b> — refund approved up to $80 <script>alert(1)</script>";
    let (status, written) = note(&agent, &path, &format!("  {secret}  ")).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    assert_eq!(written["text"], secret);
    assert_eq!(written["author"]["name"], "ana");
    assert_eq!(written["author"]["id"], user_id(&agent).await);
    assert_eq!(written["handoff_id"], id.as_str());
    let live = team.next_of("note.created").await;
    assert_eq!(live["note"]["id"], written["id"], "{live}");

    // The handoff carries it; the history does not.
    let (_, handoff) = owner.get(&path).await;
    assert_eq!(handoff["notes"][0]["text"], secret, "{handoff}");
    assert!(
        !handoff["messages"].to_string().contains("VIP"),
        "{handoff}"
    );

    // The customer sees it nowhere: not in the chat, not on the stream, not after a reply.
    assert_eq!(
        owner.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = owner
        .post(
            &format!("{path}/messages"),
            json!({"text": "Hello from the team."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    visitor.wait_for_messages(4).await;
    assert!(
        customer_texts(&visitor)
            .await
            .iter()
            .all(|t| !t.contains("VIP")),
        "a note reached the chat"
    );
    let seen = customer_stream.until_quiet(300).await;
    assert!(
        seen.iter()
            .any(|e| e.to_string().contains("Hello from the team.")),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|e| !e.to_string().contains("VIP")),
        "{seen:?}"
    );

    // Bad notes are refused and nothing is kept.
    for (body, expected) in [
        (json!({"text": "   "}), "validation_failed"),
        (json!({"text": "x".repeat(4097)}), "validation_failed"),
        (json!({"text": "ok", "to_customer": true}), "invalid_body"),
        (json!({}), "invalid_body"),
    ] {
        let (status, refused) = owner.post(&format!("{path}/notes"), body).await;
        assert!(status.is_client_error(), "{status} {refused}");
        assert_eq!(code(&refused), expected, "{refused}");
    }
    let (_, handoff) = owner.get(&path).await;
    assert_eq!(handoff["notes"].as_array().unwrap().len(), 1, "{handoff}");

    // Another workspace can neither read nor write them.
    let other = app.other_workspace("olga@other.test").await;
    assert_eq!(other.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(note(&other, &path, "mine").await.0, StatusCode::NOT_FOUND);

    // A resolved handoff still takes a note (for whoever meets this customer next), and the
    // customer's record carries them; erasing the customer erases them.
    assert_eq!(
        owner.post(&format!("{path}/resolve"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = note(&agent, &path, "Followed up by email.").await;
    assert_eq!(status, StatusCode::CREATED);
    let contact_id = handoff["customer"]["id"].as_str().unwrap();
    let (_, record) = owner.get(&format!("/api/v1/contacts/{contact_id}")).await;
    let notes = &record["conversations"][0]["notes"];
    assert_eq!(notes.as_array().unwrap().len(), 2, "{record}");
    assert_eq!(notes[1]["text"], "Followed up by email.");
    let (status, _) = owner
        .delete(&format!("/api/v1/contacts/{contact_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = owner.get("/api/v1/me").await;
    let workspace_id = me["workspace"]["id"].as_str().unwrap();
    let left = app
        .state
        .store
        .notes_of(workspace_id, &visitor.conversation_id)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn the_holder_hands_a_customer_to_a_teammate_who_takes_over() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let bo = app.member(owner, "bo@shop.test", "agent").await;
    let cy = app.member(owner, "cy@shop.test", "agent").await;
    let (ana_id, bo_id, cy_id) = (user_id(&ana).await, user_id(&bo).await, user_id(&cy).await);
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let path = format!("/api/v1/handoffs/{}", owner.pending_handoff_id().await);
    let mut team = app.events(owner, 0).await;

    // Only an admin assigns a pending handoff; agents claim it themselves.
    let (status, body) = transfer(&bo, &path, json!({"user_id": bo_id})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        ana.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    let (_, claimed) = owner.get(&path).await;

    // Only the holder (or an admin) hands it on, to someone else of this workspace.
    let (status, body) = transfer(&bo, &path, json!({"user_id": bo_id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "not_claim_holder");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("held by ana"),
        "{body}"
    );
    let (status, body) = transfer(&ana, &path, json!({"user_id": ana_id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("held by you"),
        "{body}"
    );
    let other = app.other_workspace("olga@other.test").await;
    let stranger = user_id(&other).await;
    for to in [stranger.as_str(), "usr_nobody"] {
        let (status, body) = transfer(&ana, &path, json!({"user_id": to})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("user_id"),
            "{body}"
        );
    }
    let (status, body) = transfer(&ana, &path, json!({"user_id": bo_id, "note": "\0"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        other
            .post(&format!("{path}/transfer"), json!({"user_id": stranger}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, unchanged) = owner.get(&path).await;
    assert_eq!(
        unchanged["claimed_by"]["id"],
        ana_id.as_str(),
        "{unchanged}"
    );
    assert!(
        unchanged
            .get("notes")
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Ana hands it to Bo with a note; the team sees it live, the customer is told who is here.
    let (status, moved) = transfer(
        &ana,
        &path,
        json!({"user_id": bo_id, "note": "Billing question: over to you."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["status"], "in_progress");
    assert_eq!(moved["claimed_by"]["id"], bo_id.as_str());
    assert_eq!(
        moved["claimed_at"], claimed["claimed_at"],
        "the wait ended at the first claim"
    );
    assert_eq!(moved["note"]["text"], "Billing question: over to you.");
    let event = team.next_of("handoff.transferred").await;
    assert_eq!(event["handoff"]["claimed_by"]["name"], "bo", "{event}");
    assert_eq!(event["by"]["id"], ana_id.as_str(), "{event}");
    let texts = customer_texts(&visitor).await;
    assert_eq!(texts.last().unwrap(), "ana passed the conversation to bo.");
    assert!(
        texts.iter().all(|t| !t.contains("Billing question")),
        "{texts:?}"
    );

    // It is on Bo's list of his own now, and off Ana's.
    let handoff_id = path.rsplit('/').next().unwrap();
    let (_, mine) = bo.get("/api/v1/handoffs?holder=me").await;
    assert_eq!(mine[0]["id"], handoff_id, "{mine}");
    let (_, mine) = ana
        .get("/api/v1/handoffs?holder=me&status=in_progress")
        .await;
    assert_eq!(mine, json!([]));
    let (_, bos) = owner.get(&format!("/api/v1/handoffs?holder={bo_id}")).await;
    assert_eq!(bos.as_array().unwrap().len(), 1, "{bos}");
    let row = format!("data-handoff=\"{handoff_id}\"");
    let page = crate::dashboard::page_html(&app, &bo, "/handoffs?tab=in_progress&holder=me").await;
    assert!(page.contains(&row), "{page}");
    let page = crate::dashboard::page_html(&app, &ana, "/handoffs?tab=in_progress&holder=me").await;
    assert!(!page.contains(&row), "{page}");
    let page = crate::dashboard::page_html(&app, &ana, "/handoffs?tab=in_progress").await;
    assert!(page.contains(&row), "{page}");

    // Now Bo replies and Ana may not; the bot stays silent throughout.
    let (status, body) = ana
        .post(&format!("{path}/messages"), json!({"text": "Still me"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("held by bo"),
        "{body}"
    );
    let (status, _) = bo
        .post(
            &format!("{path}/messages"),
            json!({"text": "Bo here, let me check."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    visitor.say("where is my refund?").await;
    let before = visitor.messages().await.len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = visitor.messages().await;
    assert_eq!(
        after.len(),
        before,
        "the bot spoke during a handoff: {after:?}"
    );

    // An admin moves it on from whoever holds it.
    let (status, moved) = transfer(owner, &path, json!({"user_id": cy_id})).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["claimed_by"]["name"], "cy");
    assert!(moved["note"].is_null());
    assert_eq!(
        customer_texts(&visitor).await.last().unwrap(),
        "cy is taking over the conversation."
    );

    // The claim stays Ana's in the reports: she took the customer off the queue.
    let (_, report) = owner.get("/api/v1/reports?days=1").await;
    let claimed = |name: &str| {
        report["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map_or(0, |p| p["claimed"].as_i64().unwrap())
    };
    assert_eq!(
        (claimed("ana"), claimed("bo"), claimed("cy")),
        (1, 0, 0),
        "{report}"
    );

    // Resolved is final.
    assert_eq!(
        cy.post(&format!("{path}/resolve"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, body) = transfer(owner, &path, json!({"user_id": ana_id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "handoff_not_open");

    // An admin assigns a new request straight to someone; the customer is told who joined.
    let second = app.visitor(&shop.widget_key).await;
    second.say("I want to talk to a human").await;
    let path = format!("/api/v1/handoffs/{}", owner.pending_handoff_id().await);
    let (status, assigned) = transfer(owner, &path, json!({"user_id": ana_id})).await;
    assert_eq!(status, StatusCode::OK, "{assigned}");
    assert_eq!(assigned["status"], "in_progress");
    assert_eq!(assigned["claimed_by"]["id"], ana_id.as_str());
    assert!(assigned["claimed_at"].is_string());
    assert_eq!(
        customer_texts(&second).await.last().unwrap(),
        "ana joined the conversation."
    );
    let (status, body) = bo.post(&format!("{path}/claim"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn two_transfers_at_once_leave_exactly_one_holder() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let path = asked_for_a_person(&app, &shop.widget_key, owner).await;
    assert_eq!(
        ana.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    let agents = app.agents(owner, 6).await;
    let mut ids = Vec::new();
    for (_, api) in &agents {
        ids.push(user_id(api).await);
    }
    // Ana sends it to six people at once: the first wins, after which she holds nothing.
    let results = futures_util::future::join_all(
        ids.iter()
            .map(|id| transfer(&ana, &path, json!({"user_id": id}))),
    )
    .await;
    let won: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(code(body), "not_claim_holder", "{body}");
    }
    let (_, now) = owner.get(&path).await;
    assert_eq!(now["claimed_by"], won[0]["claimed_by"], "{now}");
}

#[tokio::test]
async fn the_handoff_and_customer_pages_show_notes_where_they_were_written_as_text() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let agent = app.member(owner, "ana@shop.test", "agent").await;
    let path = asked_for_a_person(&app, &shop.widget_key, owner).await;
    let (status, _) = note(
        &agent,
        &path,
        "<img src=x onerror=alert(1)> wants a callback",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        owner.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );

    let id = path.rsplit('/').next().unwrap();
    let page = crate::dashboard::page_html(&app, &agent, &format!("/handoffs/{id}")).await;
    let shown = "&lt;img src=x onerror=alert(1)&gt; wants a callback";
    assert!(page.contains(shown), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    // Between the bot's handoff message and the claim that came after it.
    let note_at = page.find("class=\"msg note\"").unwrap();
    let bot_at = page.find("class=\"msg bot\"").unwrap();
    let joined_at = page.find("joined the conversation").unwrap();
    assert!(bot_at < note_at && note_at < joined_at, "{page}");
    // The page knows the team, for the transfer list.
    for name in [
        "\"name\":\"ana\"",
        "id=\"transfer-form\"",
        "id=\"note-form\"",
    ] {
        assert!(page.contains(name), "{name} missing: {page}");
    }

    let (_, handoff) = owner.get(&path).await;
    let contact_id = handoff["customer"]["id"].as_str().unwrap();
    let customer =
        crate::dashboard::page_html(&app, owner, &format!("/customers/{contact_id}")).await;
    assert!(customer.contains(shown), "{customer}");
}

#[tokio::test]
async fn an_admin_assigning_what_they_saw_pending_loses_to_a_claim_made_meanwhile() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let ana_id = user_id(&ana).await;
    let agents = app.agents(owner, 5).await;
    let path = asked_for_a_person(&app, &shop.widget_key, owner).await;

    // Five agents claim while the admin assigns it to Ana "from nobody": one of the six wins.
    let assign = transfer(owner, &path, json!({"user_id": ana_id, "from": null}));
    let claim = format!("{path}/claim");
    let claims =
        futures_util::future::join_all(agents.iter().map(|(_, api)| api.post(&claim, json!({}))));
    let (assigned, claims) = tokio::join!(assign, claims);
    let winners = claims
        .iter()
        .chain(std::iter::once(&assigned))
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(winners, 1, "{assigned:?} {claims:?}");
    if assigned.0 != StatusCode::OK {
        assert_eq!(assigned.0, StatusCode::CONFLICT, "{assigned:?}");
        assert!(
            assigned.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("changed hands"),
            "{assigned:?}"
        );
    }

    // Whoever holds it now, a transfer "from" someone else is refused and names the holder.
    let (_, now) = owner.get(&path).await;
    let holder = now["claimed_by"]["name"].as_str().unwrap().to_owned();
    let (status, body) = transfer(
        owner,
        &path,
        json!({"user_id": user_id(owner).await, "from": "usr_someone_else"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "conflict");
    assert_eq!(body["error"]["holder"]["name"], holder.as_str(), "{body}");
    let (_, after) = owner.get(&path).await;
    assert_eq!(after["claimed_by"], now["claimed_by"]);
}

#[tokio::test]
async fn a_removed_members_notes_keep_their_name_and_their_handoff_goes_back_saying_who_acted() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let ana_id = user_id(&ana).await;
    let path = asked_for_a_person(&app, &shop.widget_key, owner).await;
    assert_eq!(
        note(&ana, &path, "Called her back.").await.0,
        StatusCode::CREATED
    );
    let (status, _) = transfer(owner, &path, json!({"user_id": ana_id, "from": null})).await;
    assert_eq!(status, StatusCode::OK);
    let mut team = app.events(owner, 0).await;

    let (status, _) = owner.delete(&format!("/api/v1/agents/{ana_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let released = team.next_of("handoff.released").await;
    assert_eq!(released["by"]["id"], user_id(owner).await, "{released}");
    let (_, handoff) = owner.get(&path).await;
    assert_eq!(handoff["status"], "pending");
    let kept = &handoff["notes"][0];
    assert_eq!(kept["text"], "Called her back.", "{handoff}");
    assert_eq!(kept["author"]["name"], "ana");
    assert!(kept["author"]["id"].is_null(), "{kept}");
}
