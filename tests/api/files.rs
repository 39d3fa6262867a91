//! Files in a handoff: the customer sends the agent a screenshot from the chat window, the
//! agent sends back a picture or a PDF — in the widget and on WhatsApp (uploaded to Meta
//! first). Only pictures and PDFs, known by their bytes, up to 5 MiB; only the conversation's
//! own people reach a file.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_graph::{Next, PHONE_NUMBER_ID};
use crate::helpers::{Api, Socket, code, eventually, spawn_app};
use crate::whatsapp::{Setup, text_from};

/// The smallest PNG there is: one transparent pixel.
fn pixel() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

const INVOICE: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A file's bytes and type as `api` fetches them from `url` (its bearer token, its cookies).
async fn download(api: &Api, url: &str) -> (StatusCode, String, Vec<u8>) {
    let mut request = api.client.get(format!("{}{url}", api.base));
    if let Some(token) = &api.bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.bytes().await.unwrap().to_vec())
}

/// The `message.created` event of message `id`, past the ones before it.
async fn created(socket: &mut Socket, id: &Value) -> Value {
    loop {
        let event = socket.next_of("message.created").await;
        if event["message"]["id"] == *id {
            return event;
        }
    }
}

/// The visitor's file to the team, as the chat window sends it (its retry id in the query).
async fn widget_file(
    visitor: &Api,
    name: &str,
    mime_type: &str,
    bytes: &[u8],
    client_id: Option<&str>,
) -> (StatusCode, Value) {
    let path = match client_id {
        Some(id) => format!("/widget/v1/attachments?client_id={id}"),
        None => "/widget/v1/attachments".to_owned(),
    };
    visitor.post_file(&path, name, mime_type, bytes, None).await
}

fn with_file(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| !m["attachment"].is_null())
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_customer_sends_a_screenshot_and_the_agent_sends_back_an_invoice() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let id = owner.pending_handoff_id().await;
    let (status, _) = ana
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut team = app.events(owner, 0).await;
    let mut chat = visitor.stream(0).await;

    // The customer's screenshot: stored with its message, once however often it is sent
    // (the retry id in the form, as an integrator may send it, or in the query).
    let png = pixel();
    let (status, sent) = visitor
        .api
        .post_file(
            "/widget/v1/attachments",
            "C:\\shots\\broken mug.png",
            "image/png",
            &png,
            Some("shot-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["author"], "customer");
    assert_eq!(sent["kind"], "image");
    assert_eq!(sent["text"], "[image] broken mug.png");
    let file = &sent["attachment"];
    assert_eq!(file["filename"], "broken mug.png");
    assert_eq!(file["mime_type"], "image/png");
    assert_eq!(file["size"], png.len());
    let url = file["url"].as_str().unwrap();
    assert!(url.starts_with("/widget/v1/attachments/att_"), "{url}");
    let (status, again) = widget_file(
        &visitor.api,
        "broken mug.png",
        "image/png",
        &png,
        Some("shot-1"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry is the same message: {again}"
    );
    assert_eq!(again["id"], sent["id"]);
    assert_eq!(again["attachment"]["id"], file["id"]);
    let (status, body) = visitor
        .api
        .post_file(
            "/widget/v1/attachments?client_id=shot-1",
            "broken mug.png",
            "image/png",
            &png,
            Some("shot-2"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "two ids: {body}");

    // The team hears of it with its file; the agent sees it in the history and fetches it.
    let heard = created(&mut team, &sent["id"]).await;
    assert_eq!(heard["message"]["attachment"]["status"], "stored");
    let (_, full) = ana.get(&format!("/api/v1/handoffs/{id}")).await;
    let files = with_file(full["messages"].as_array().unwrap());
    assert_eq!(files.len(), 1, "{full}");
    let agent_url = files[0]["attachment"]["url"].as_str().unwrap();
    let (status, kind, bytes) = download(&ana, agent_url).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/png"));
    assert_eq!(bytes, png);
    // The visitor reaches their own file with their token, nobody else's token does.
    let (status, kind, bytes) = download(&visitor.api, url).await;
    assert_eq!(
        (status, kind.as_str(), bytes),
        (StatusCode::OK, "image/png", png.clone())
    );
    let stranger = app.visitor(&shop.widget_key).await;
    let (status, ..) = download(&stranger.api, url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, ..) = download(&app.anonymous(), url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = app.other_workspace("owner@other.test").await;
    let (status, ..) = download(&other, agent_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Ana sends the invoice: the chat window gets it live and in its history.
    let (status, reply) = ana
        .post_file(
            &format!("/api/v1/handoffs/{id}/attachments"),
            "invoice-1042.pdf",
            "application/pdf",
            INVOICE,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["author"], "agent");
    assert_eq!(reply["author_name"], "ana");
    assert_eq!(reply["kind"], "document");
    assert_eq!(reply["attachment"]["mime_type"], "application/pdf");
    assert!(created(&mut chat, &sent["id"]).await["message"]["attachment"].is_object());
    let live = created(&mut chat, &reply["id"]).await;
    let pdf = &live["message"]["attachment"];
    assert_eq!(pdf["filename"], "invoice-1042.pdf");
    assert_eq!(pdf["kind"], "document");
    let (status, kind, bytes) = download(&visitor.api, pdf["url"].as_str().unwrap()).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"));
    assert_eq!(bytes, INVOICE);
    let history = visitor.messages().await;
    let files = with_file(&history);
    assert_eq!(files.len(), 2, "{history:?}");
    assert_eq!(files[1]["attachment"]["url"], pdf["url"]);
    assert!(files.iter().all(|m| {
        m["attachment"]["url"]
            .as_str()
            .unwrap()
            .starts_with("/widget/v1/")
    }));
}

#[tokio::test]
async fn a_file_that_is_not_a_picture_or_a_pdf_or_is_too_big_or_not_the_senders_to_send_is_refused_and_nothing_is_kept()
 {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let sam = app.member(owner, "sam@shop.test", "agent").await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let id = owner.pending_handoff_id().await;
    let path = format!("/api/v1/handoffs/{id}/attachments");
    let before = visitor.messages().await.len();

    // Named and typed as a picture, but a page with script: known by its bytes, refused.
    let page = b"<html><script>alert(document.cookie)</script></html>";
    let (status, body) = widget_file(&visitor.api, "cat.png", "image/png", page, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["message"],
        "file: only pictures (JPEG or PNG) and PDF documents can be sent"
    );
    // One byte over WhatsApp's 5 MB for a picture: refused with the limit; a body past what
    // any file may bring is cut off unread, 413.
    let mut big = pixel();
    big.resize(5_000_001, 0);
    let (status, body) = widget_file(&visitor.api, "big.png", "image/png", &big, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["message"],
        "file: the file is larger than 5 MB"
    );
    big.resize(5_100_000, 0);
    let (status, body) = widget_file(&visitor.api, "big.png", "image/png", &big, None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "payload_too_large");
    // A page that mentions "%PDF" near its start is still a page.
    let (status, body) = widget_file(
        &visitor.api,
        "invoice.pdf",
        "application/pdf",
        b"<html><script>alert(1)</script><!--%PDF-1.4-->",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Files are for a person: while the bot has the chat, none is taken.
    let newcomer = app.visitor(&shop.widget_key).await;
    let (status, body) = widget_file(&newcomer.api, "a.png", "image/png", &pixel(), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(newcomer.messages().await.is_empty());
    let (status, body) = visitor
        .api
        .post_raw(
            "/widget/v1/attachments",
            "application/json",
            b"{\"text\":\"hi\"}".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let form = reqwest::multipart::Form::new().text("client_id", "x1");
    let response = visitor
        .api
        .client
        .post(app.url("/widget/v1/attachments"))
        .bearer_auth(&visitor.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = visitor
        .api
        .post_file(
            "/widget/v1/attachments?client_id=x1",
            "a.png",
            "image/png",
            &pixel(),
            Some("x2"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) =
        widget_file(&visitor.api, "a.png", "image/png", &pixel(), Some("a b")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .anonymous()
        .post_file(
            "/widget/v1/attachments",
            "a.png",
            "image/png",
            &pixel(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Agents: only whoever may reply — nobody before a claim, then the holder (and admins).
    let (status, body) = ana
        .post_file(&path, "a.png", "image/png", &pixel(), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    ana.post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    let (status, body) = sam
        .post_file(&path, "a.png", "image/png", &pixel(), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("ana"),
        "{body}"
    );
    let (status, body) = ana
        .post_file(&path, "notes.txt", "text/plain", b"plain words", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let other = app.other_workspace("owner@other.test").await;
    let (status, body) = other
        .post_file(&path, "a.png", "image/png", &pixel(), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");

    // Nothing of it was kept.
    let history = visitor.messages().await;
    assert_eq!(history.len(), before + 1, "only ana's joining: {history:?}");
    let (_, full) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
    assert!(
        with_file(full["messages"].as_array().unwrap()).is_empty(),
        "{full}"
    );

    // A handoff takes 50 MB of the visitor's files: ten of 4.9 MB fit, the eleventh does not;
    // the next handoff takes as much again.
    let mut photo = pixel();
    photo.resize(4_900_000, 0);
    let mut last = Value::Null;
    for n in 0..10 {
        let (status, body) = widget_file(
            &visitor.api,
            &format!("p{n}.png"),
            "image/png",
            &photo,
            Some(&format!("p{n}")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
        last = body;
    }
    let (status, body) = widget_file(&visitor.api, "p10.png", "image/png", &photo, None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        body["error"]["message"],
        "you can send the team at most 50 MB of files at a time"
    );
    // The retry of a file whose answer was lost is the stored file, with the budget full and
    // after the handoff closed; a file it never had is refused then.
    let retry = || widget_file(&visitor.api, "p9.png", "image/png", &photo, Some("p9"));
    let (status, body) = retry().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], last["id"]);
    let (status, body) = widget_file(&visitor.api, "p8.png", "image/png", &photo, Some("p9")).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "another file under p9's id: {body}"
    );
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = retry().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], last["id"]);
    let (status, body) =
        widget_file(&visitor.api, "p9.png", "image/png", &photo, Some("p9b")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    visitor.say("Sorry, one more thing: a person please").await;
    let again = owner.pending_handoff_id().await;
    assert_ne!(again, id);
    let (status, body) = widget_file(&visitor.api, "p10.png", "image/png", &photo, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_agent_s_picture_and_pdf_reach_a_whatsapp_customer_uploaded_once_each() {
    let s = Setup::new().await;
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.lena1",
        "I want to talk to a person",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let owner = &s.shop.owner;
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/api/v1/handoffs/{id}/attachments");
    let sent_of = |kind: &'static str| {
        let graph = s.graph.clone();
        move || {
            let found = graph.sent().into_iter().find(|b| b["type"] == kind);
            async move { found }
        }
    };

    // What the customer reads after the claim went first.
    eventually(|| async {
        let sent = s.graph.sent();
        sent.iter()
            .any(|b| {
                b["text"]["body"]
                    .as_str()
                    .is_some_and(|t| t.contains("joined the conversation"))
            })
            .then_some(())
    })
    .await;
    // The first send of the picture fails after its upload: the retry sends the same upload.
    s.graph.script(&[Next::Fail(503, 1, "Service unavailable")]);
    let attempts = s.graph.attempts();
    let (status, picture) = owner
        .post_file(&path, "label.png", "image/png", &pixel(), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{picture}");
    assert_eq!(picture["delivery_status"], "queued");
    let image = eventually(|| async {
        // The retry waits seconds: Baton's clock moves instead.
        s.app.state.clock.advance(std::time::Duration::from_secs(5));
        s.app.state.outbox_wake.notify_one();
        sent_of("image")().await
    })
    .await;
    assert_eq!(
        s.graph.attempts(),
        attempts + 2,
        "one failed send, then the one that went"
    );
    let uploads = s.graph.uploads();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0].phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(uploads[0].mime_type, "image/png");
    assert_eq!(uploads[0].filename, "label.png");
    assert_eq!(uploads[0].bytes, pixel());
    assert_eq!(image["to"], "4915112345678");
    assert_eq!(image["image"]["id"], uploads[0].id.as_str());

    // A PDF goes as a document with its name. Meta refuses its first send for good (a media
    // error): sent again by the agent, it is uploaded afresh.
    s.graph
        .script(&[Next::Fail(400, 131053, "Media upload error")]);
    let (status, pdf) = owner
        .post_file(&path, "invoice-1042.pdf", "application/pdf", INVOICE, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pdf}");
    eventually(|| async {
        let (_, full) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
        let messages = full["messages"].as_array().unwrap().clone();
        let failed = messages.iter().find(|m| m["id"] == pdf["id"])?;
        (failed["delivery_status"] == "failed").then_some(())
    })
    .await;
    assert_eq!(s.graph.uploads().len(), 2);
    let message_id = pdf["id"].as_str().unwrap();
    // Shown failed, it can be sent again at once (its failure and the outbox's "done" are
    // one write).
    let (status, again) = owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages/{message_id}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let document = eventually(sent_of("document")).await;
    let uploads = s.graph.uploads();
    assert_eq!(uploads.len(), 3);
    assert_eq!(uploads[2].mime_type, "application/pdf");
    assert_eq!(uploads[2].bytes, INVOICE);
    assert_eq!(document["document"]["id"], uploads[2].id.as_str());
    assert_eq!(document["document"]["filename"], "invoice-1042.pdf");
    // Both show as accepted by Meta in the history, each with its file for the team.
    let (_, full) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
    let files = with_file(full["messages"].as_array().unwrap());
    assert_eq!(files.len(), 2, "{full}");
    eventually(|| async {
        let (_, full) = owner.get(&format!("/api/v1/handoffs/{id}")).await;
        let files = with_file(full["messages"].as_array().unwrap());
        files
            .iter()
            .all(|m| m["delivery_status"] == "accepted")
            .then_some(())
    })
    .await;
}
