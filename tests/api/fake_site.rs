//! A small help centre served over real HTTP, for importing web pages.

/// A small help centre on a local port, as a site serves one: a home page, articles with the
/// site's header, menu and footer around them, a redirect, a PDF, a broken link, a folder its
/// robots.txt keeps crawlers out of, and a blog outside the help folder. Answers its address
/// and every path asked for.
pub async fn help_centre() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::{StatusCode, Uri, header};
    use axum::response::{IntoResponse, Redirect};
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    let frame = |title: &str, main: &str| {
        format!(
            "<!doctype html><html><head><title>{title} | Acme Help</title></head><body>\
             <header><a href=\"/help/\">Acme Help</a> <a href=\"/login\">Log in</a></header>\
             <nav><a href=\"/help/returns\">Returns</a> <a href=\"/help/shipping#rates\">Shipping</a>\
             <a href=\"/blog/\">Blog</a></nav><main>{main}</main>\
             <footer>© Acme Inc. · <a href=\"https://elsewhere.example/\">Partners</a></footer>\
             </body></html>"
        )
    };
    let pages: std::collections::HashMap<&str, String> = [
        (
            "/help/",
            frame(
                "Home",
                "<h1>How can we help?</h1><p>Browse the topics below.</p><ul>\
                 <li><a href=\"returns\">Returns and refunds</a></li>\
                 <li><a href=\"returns?utm_source=newsletter#policy\">Our policy</a></li>\
                 <li><a href=\"index.html\">Home</a> <a href=\"exchanges\">Exchanges</a></li>\
                 <li><a href=\"/help/old-shipping\">Shipping</a></li>\
                 <li><a href=\"/help/private/drafts\">Drafts</a></li>\
                 <li><a href=\"/help/manual.pdf\">The manual</a></li>\
                 <li><a href=\"/help/gone\">Our old page</a></li></ul>",
            ),
        ),
        (
            "/help/returns",
            frame(
                "Returns",
                "<h1>Returns and refunds</h1><p>You can return any unworn item within \
                 30 days for a full refund.</p>",
            ),
        ),
        (
            "/help/shipping",
            frame(
                "Shipping",
                "<h1>Shipping rates</h1><p>Orders over $50 ship free; the rest cost $4.95.</p>\
                 <p><a href=\"/help/care.txt\">Care instructions</a></p>",
            ),
        ),
        (
            "/help/exchanges",
            frame(
                "Exchanges",
                "<h1>Returns and refunds</h1><p>Exchanges for another size are free.</p>",
            ),
        ),
        (
            "/help/private/drafts",
            frame("Drafts", "<h1>Secret</h1><p>Not yet.</p>"),
        ),
        ("/blog/", frame("Blog", "<h1>Our blog</h1><p>News.</p>")),
    ]
    .into_iter()
    .collect();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let pages = pages.clone();
        let log = log.clone();
        async move {
            let path = uri.path().to_owned();
            log.lock().unwrap().push(path.clone());
            match path.as_str() {
                "/robots.txt" => "User-agent: *\nDisallow: /\n\nUser-agent: BatonKbImport\n\
                                  Disallow: /help/private/\n"
                    .into_response(),
                "/help" => Redirect::permanent("/help/").into_response(),
                "/help/old-shipping" => Redirect::permanent("/help/shipping").into_response(),
                "/help/care.txt" => "Wash by hand.".into_response(),
                "/help/manual.pdf" => (
                    [(header::CONTENT_TYPE, "application/pdf")],
                    b"%PDF-1.4".to_vec(),
                )
                    .into_response(),
                _ => match pages.get(path.as_str()) {
                    Some(html) => axum::response::Html(html.clone()).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                },
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), asked)
}
