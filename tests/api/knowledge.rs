//! The knowledge base: documents in three formats, uploads, search, and deletion.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app};

#[tokio::test]
async fn documents_in_each_format_are_chunked_and_searchable() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let docs = format!("/api/v1/bots/{}/documents", bot["id"].as_str().unwrap());
    let html = "<html><body><h1>Warranty</h1><p>Every jacket has a two-year warranty.</p>\
                <script>steal()</script><h2>Claims</h2><p>Send a photo of the defect to start a claim.</p></body></html>";
    for (title, format, content) in [
        ("Warranty", "html", html),
        (
            "Care",
            "markdown",
            "# Care\n\nWash at 30 degrees.\n\n## Drying\n\nNever tumble dry wool.",
        ),
        (
            "Stores",
            "text",
            "Opening hours\nWe are open Monday to Saturday from 9 to 6.",
        ),
    ] {
        let (status, body) = owner
            .post(
                &docs,
                json!({"title": title, "format": format, "content": content}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body["chunks"].as_i64().unwrap() >= 1, "{body}");
    }
    let (_, listed) = owner.get(&docs).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);

    let search = format!("/api/v1/bots/{}/search?q=", bot["id"].as_str().unwrap());
    let (status, found) = owner
        .get(&format!("{search}how%20long%20is%20the%20warranty"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["results"][0]["title"], "Warranty");
    assert!(
        found["results"][0]["text"]
            .as_str()
            .unwrap()
            .contains("two-year")
    );
    assert!(found["results"][0]["score"].as_f64().unwrap() > 0.0);
    assert_eq!(found["answerable"], true, "{found}");
    let all = found.to_string();
    assert!(
        !all.contains("steal()"),
        "script text is not knowledge: {all}"
    );
    let (_, found) = owner.get(&format!("{search}tumble%20drying")).await;
    assert_eq!(found["results"][0]["heading"], "Drying");
    let (_, found) = owner
        .get(&format!("{search}quantum%20chromodynamics"))
        .await;
    assert_eq!(found["answerable"], false);
}

#[tokio::test]
async fn a_file_upload_becomes_a_document() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let url = app.url(&format!(
        "/api/v1/bots/{}/documents",
        bot["id"].as_str().unwrap()
    ));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text("# Gift wrapping\n\nWe gift-wrap any order for $3.")
            .file_name("gift-wrapping.md"),
    );
    let response = owner.client.post(url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["title"], "Gift wrapping",
        "the file's own heading names it"
    );
    assert_eq!(body["format"], "markdown");
    let (_, found) = owner
        .get(&format!(
            "/api/v1/bots/{}/search?q=gift%20wrap",
            bot["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(found["results"][0]["heading"], "Gift wrapping");
}

#[tokio::test]
async fn a_pdf_upload_becomes_a_document_the_bot_answers_from() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let bot_id = bot["id"].as_str().unwrap();
    let documents = format!("/api/v1/bots/{bot_id}/documents");
    let pdf = include_bytes!("../fixtures/delivery-guide.pdf");
    // Known by its bytes, whatever its name or declared type.
    let (status, doc) = owner
        .post_file(
            &documents,
            "guide.bin",
            "application/octet-stream",
            pdf,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    assert_eq!(doc["title"], "Delivery", "its first heading names it");
    assert_eq!(doc["format"], "markdown");
    let search = format!("/api/v1/bots/{bot_id}/search?q=");
    let (_, found) = owner
        .get(&format!("{search}how%20much%20is%20express%20delivery"))
        .await;
    assert_eq!(found["results"][0]["heading"], "Costs", "{found}");
    let (_, listed) = owner.get(&documents).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // A customer's question is answered from it.
    let visitor = app.visitor(bot["widget_key"].as_str().unwrap()).await;
    visitor.say("Do you deliver to packing stations?").await;
    let messages = visitor.wait_for_messages(2).await;
    let answer = messages[1]["text"].as_str().unwrap();
    assert!(answer.contains("packing stations"), "{answer}");

    // A PDF locked by a password, a damaged one: 422 saying why, and nothing kept.
    let locked = include_bytes!("../fixtures/locked.pdf");
    let (status, body) = owner
        .post_file(&documents, "locked.pdf", "application/pdf", locked, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["message"],
        "file: the PDF is protected by a password: save it without one and send it again"
    );
    let (status, body) = owner
        .post_file(
            &documents,
            "half.pdf",
            "application/pdf",
            &pdf[..pdf.len() / 2],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("file: the PDF could not be read"),
        "{message}"
    );
    let (_, after) = owner.get(&documents).await;
    assert_eq!(after, listed);
}

#[tokio::test]
async fn a_deleted_document_leaves_the_answers_at_once() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let docs = format!("/api/v1/bots/{}/documents", shop.bot_id);
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("Is shipping free?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(messages[1]["text"].as_str().unwrap().contains("$50"));

    let (_, listed) = shop.owner.get(&docs).await;
    let shipping = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Shipping")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = shop.owner.delete(&format!("{docs}/{shipping}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    visitor.say("Is shipping free?").await;
    let messages = visitor.wait_for_messages(4).await;
    let answer = messages[3]["text"].as_str().unwrap();
    assert!(!answer.contains("$50"), "{answer}");
    assert_eq!(
        shop.owner.delete(&format!("{docs}/{shipping}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn empty_or_unknown_documents_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let docs = format!("/api/v1/bots/{}/documents", bot["id"].as_str().unwrap());
    let (status, body) = owner
        .post(&docs, json!({"title": "X", "content": "  "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = owner
        .post(
            &docs,
            json!({"title": "X", "content": "text", "format": "pdf"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "validation_failed");
    assert_eq!(owner.get(&docs).await.1, json!([]));
}

const SPANISH_DOC: &str = "# Envíos\n\n## Plazos de entrega\n\nEl envío estándar tarda de 3 a 5 días hábiles. El envío exprés llega al día siguiente si pides antes de las 14:00.\n\n# Devoluciones\n\n## Reembolsos\n\nPara pedir un reembolso, escríbenos con tu número de pedido. Los reembolsos llegan a tu método de pago original en 5 días.\n";

#[tokio::test]
async fn a_spanish_knowledge_base_answers_a_customer_writing_in_spanish() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, bot) = owner
        .post(
            "/api/v1/bots",
            json!({"name": "Ayuda", "kb_language": "es"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bot}");
    assert_eq!(bot["kb_language"], "es");
    let bot_id = bot["id"].as_str().unwrap();
    let (status, body) = owner
        .post(
            &format!("/api/v1/bots/{bot_id}/documents"),
            json!({"title": "Ayuda", "content": SPANISH_DOC, "format": "markdown"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let visitor = app.visitor(bot["widget_key"].as_str().unwrap()).await;
    // No accents and another form of the word: "envio" for "envío".
    visitor.say("hola, cuanto tarda el envio?").await;
    let messages = visitor.wait_for_messages(2).await;
    let answer = messages[1]["text"].as_str().unwrap();
    assert_eq!(messages[1]["author"], "bot");
    assert!(answer.contains("3 a 5 días hábiles"), "{answer}");

    // The singular finds the plural, and the quote is the sentence about it.
    visitor.say("¿Cuándo llega mi reembolso?").await;
    let messages = visitor.wait_for_messages(4).await;
    let answer = messages[3]["text"].as_str().unwrap();
    assert!(
        answer.contains("Los reembolsos llegan a tu método de pago original"),
        "{answer}"
    );
}

#[tokio::test]
async fn changing_the_language_re_indexes_the_knowledge_base_on_every_node() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Ayuda").await;
    assert_eq!(bot["kb_language"], "en");
    let bot_id = bot["id"].as_str().unwrap();
    owner
        .post(
            &format!("/api/v1/bots/{bot_id}/documents"),
            json!({"title": "Ayuda", "content": SPANISH_DOC, "format": "markdown"}),
        )
        .await;
    let search = format!(
        "/api/v1/bots/{bot_id}/search?q={}",
        "hola necesito saber cuando llega mi reembolso por favor".replace(' ', "%20")
    );
    // Read as English, "hola", "necesito", "saber", "por favor"… are words the knowledge base
    // lacks, and "llega" is not "llegan".
    let (_, found) = owner.get(&search).await;
    assert_eq!(found["answerable"], false, "{found}");
    // A second node on the same database builds its own index, in English for now.
    let node_b = app.second_node().await;
    let owner_b = node_b.owner().await;
    assert_eq!(owner_b.get(&search).await.1["answerable"], false);

    let (status, updated) = owner
        .patch(
            &format!("/api/v1/bots/{bot_id}"),
            json!({"kb_language": "es"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["kb_language"], "es");
    assert_eq!(updated["name"], "Ayuda");
    for api in [&owner, &owner_b] {
        let (_, found) = api.get(&search).await;
        assert_eq!(found["answerable"], true, "{found}");
        assert_eq!(found["results"][0]["heading"], "Reembolsos", "{found}");
    }
}

#[tokio::test]
async fn an_unknown_knowledge_base_language_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, body) = owner
        .post(
            "/api/v1/bots",
            json!({"name": "Help", "kb_language": "klingon"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "validation_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("kb_language:"), "{message}");
    assert!(message.contains("es"), "{message}");
    assert_eq!(owner.get("/api/v1/bots").await.1, json!([]));

    let bot = owner.create_bot("Help").await;
    let url = format!("/api/v1/bots/{}", bot["id"].as_str().unwrap());
    let (status, body) = owner
        .patch(&url, json!({"kb_language": "xx", "name": "Renamed"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "validation_failed");
    let (status, body) = owner.patch(&url, json!({"kb_language": 7})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, read) = owner.get(&url).await;
    assert_eq!(read["kb_language"], "en");
    assert_eq!(read["name"], "Help");
    // Codes are read case-insensitively.
    let (status, body) = owner.patch(&url, json!({"kb_language": " PT "})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kb_language"], "pt");
}

#[tokio::test]
async fn a_bot_with_a_higher_relevance_threshold_hands_off_what_it_answered_before() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let url = format!("/api/v1/bots/{}", shop.bot_id);
    let (_, bot) = shop.owner.get(&url).await;
    assert_eq!(bot["relevance_threshold"], json!(0.235));
    assert_eq!(bot["relevance_threshold_default"], true);
    let search = format!(
        "/api/v1/bots/{}/search?q=how%20long%20does%20delivery%20take",
        shop.bot_id
    );
    let (_, found) = shop.owner.get(&search).await;
    assert_eq!(found["answerable"], true, "{found}");
    let relevance = found["results"][0]["relevance"].as_f64().unwrap();
    assert!(relevance < 0.99, "{found}");

    // Out of range, or not a number: refused, naming the field, and nothing changes.
    for bad in [json!(1.5), json!(-0.1), json!("high")] {
        let (status, body) = shop
            .owner
            .patch(&url, json!({"relevance_threshold": bad, "name": "Renamed"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (_, body) = shop
        .owner
        .patch(&url, json!({"relevance_threshold": 2}))
        .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("relevance_threshold:"), "{message}");
    assert_eq!(shop.owner.get(&url).await.1["name"], "Acme Help");

    // Stricter than the best match: the search says so and the bot hands off.
    let (status, bot) = shop
        .owner
        .patch(&url, json!({"relevance_threshold": 0.99}))
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    assert_eq!(bot["relevance_threshold"], json!(0.99));
    assert_eq!(bot["relevance_threshold_default"], false);
    let (_, found) = shop.owner.get(&search).await;
    assert_eq!(found["answerable"], false, "{found}");
    assert_eq!(found["threshold"], json!(0.99));
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("How long does delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("within 2 hours"),
        "{messages:?}"
    );
    let (_, handoffs) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(handoffs[0]["reason"], "kb_miss", "{handoffs}");

    // null goes back to the default, and the bot answers again.
    let (_, bot) = shop
        .owner
        .patch(&url, json!({"relevance_threshold": null}))
        .await;
    assert_eq!(bot["relevance_threshold_default"], true);
    assert_eq!(shop.owner.get(&search).await.1["answerable"], true);
}

#[tokio::test]
async fn a_question_about_the_shop_is_answered_and_one_about_the_bot_is_told_in_its_language() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    // "are you a…" and an "ai" inside "available" once made this an identity question.
    visitor
        .say("Are you available to ship it with express delivery?")
        .await;
    let messages = visitor.wait_for_messages(2).await;
    let answer = messages[1]["text"].as_str().unwrap();
    assert!(
        answer.contains("Express delivery arrives the next business day"),
        "{answer}"
    );

    // The detector alone reads this as a request for a person (it names one); it only asks
    // what the bot is.
    visitor.say("¿eres un agente humano?").await;
    let messages = visitor.wait_for_messages(4).await;
    let told = messages[3]["text"].as_str().unwrap();
    assert!(
        told.starts_with("Soy el asistente automático de Acme Help."),
        "{told}"
    );
    assert!(told.contains("hablar con una persona"), "{told}");
    let (_, handoffs) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(handoffs.as_array().unwrap().len(), 0, "{handoffs}");
}

#[tokio::test]
async fn a_web_page_becomes_a_document_and_adding_it_again_updates_it() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let bot_id = bot["id"].as_str().unwrap();
    let from_url = format!("/api/v1/bots/{bot_id}/documents/from-url");
    let (site, _) = crate::fake_site::help_centre().await;

    // Through a redirect, as the site serves it; its header, menu and footer left out.
    let (status, doc) = owner
        .post(
            &from_url,
            json!({"url": format!("{site}/help/old-shipping")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    assert_eq!(doc["title"], "Shipping rates");
    assert_eq!(doc["format"], "html");
    assert_eq!(doc["url"], format!("{site}/help/shipping"));
    assert_eq!(doc["replaced"], 0);
    let (_, found) = owner
        .get(&format!(
            "/api/v1/bots/{bot_id}/search?q=how+much+is+shipping"
        ))
        .await;
    let best = found["results"][0].to_string();
    assert!(best.contains("$4.95"), "{found}");
    assert!(
        !best.contains("Log in") && !best.contains("Acme Inc"),
        "{found}"
    );
    // Again, under a title of the admin's: the earlier one stays (other title); again with
    // the same title replaces it.
    let (status, again) = owner
        .post(&from_url, json!({"url": format!("{site}/help/shipping")}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["replaced"], 1);
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // What cannot be a page is refused clearly, and stores nothing.
    for (url, status, code_, says) in [
        (
            "ftp://example.com/x".to_owned(),
            422,
            "validation_failed",
            "http://",
        ),
        (format!("{site}/help/gone"), 422, "page_unreadable", "404"),
        (
            format!("{site}/help/manual.pdf"),
            422,
            "page_unreadable",
            "not a web page",
        ),
        (
            "http://127.0.0.1:9/".to_owned(),
            422,
            "page_unreadable",
            "could not be reached",
        ),
    ] {
        let (got, body) = owner.post(&from_url, json!({"url": url})).await;
        assert_eq!(got.as_u16(), status, "{url}: {body}");
        assert_eq!(code(&body), code_, "{url}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let (status, body) = owner
        .post(&from_url, json!({"url": site, "crawl": true}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Admins only, and only into their own workspace's bots.
    let agent = app.member(&owner, "agent@shop.test", "agent").await;
    let (status, _) = agent
        .post(&from_url, json!({"url": format!("{site}/help/returns")}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.other_workspace("stranger@other.test").await;
    let (status, _) = stranger
        .post(&from_url, json!({"url": format!("{site}/help/returns")}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_instance_that_keeps_workspaces_off_its_network_reads_no_local_page() {
    let app = crate::helpers::spawn_app_with(|s| s.webhooks_allow_local = Some(false)).await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let from_url = format!(
        "/api/v1/bots/{}/documents/from-url",
        bot["id"].as_str().unwrap()
    );
    let (site, asked) = crate::fake_site::help_centre().await;
    let port = site.rsplit(':').next().unwrap();
    for url in [
        format!("{site}/help/returns"),
        format!("http://localhost:{port}/help/returns"),
    ] {
        let (status, body) = owner.post(&from_url, json!({"url": url})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("local or private address"),
            "{body}"
        );
    }
    assert!(asked.lock().unwrap().is_empty(), "the site was reached");
}
