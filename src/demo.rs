//! `baton demo`: a workspace ready to try — a fictional shop's bot with a knowledge base
//! (shipping, returns, payments, orders), Request Handoff installed and enabled, and an agent.
//! Seeding is idempotent: a second start finds the demo bot and leaves it be.

use crate::accounts;
use crate::domain::{Email, Name, Password, Role};
use crate::knowledge::chunk::Format;
use crate::knowledge::document;
use crate::marketplace::{REQUEST_HANDOFF, SATISFACTION_SURVEY};
use crate::state::AppState;
use crate::store::{BotRecord, NewBot, NewUser, StoreError, StoreResult};

pub const OWNER_EMAIL: &str = "admin@demo.baton";
pub const AGENT_EMAIL: &str = "sam@demo.baton";
pub const PASSWORD: &str = "baton-demo";
const BOT_NAME: &str = "Acme Outfitters";

/// The demo knowledge base: each document's title and Markdown.
pub(crate) const DOCUMENTS: &[(&str, &str)] = &[
    (
        "Shipping and delivery",
        include_str!("../assets/demo/shipping.md"),
    ),
    (
        "Returns and refunds",
        include_str!("../assets/demo/returns.md"),
    ),
    ("Payments", include_str!("../assets/demo/payments.md")),
    (
        "Orders and account",
        include_str!("../assets/demo/orders.md"),
    ),
];

/// What the demo prints.
pub struct Demo {
    pub bot: BotRecord,
}

/// Creates the demo bot, its knowledge base and an agent in the owner's workspace, unless an
/// earlier start did.
pub async fn seed(state: &AppState, owner_email: &str) -> StoreResult<Demo> {
    let email = Email::parse(owner_email).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let (owner, _) = state
        .store
        .user_for_login(&email)
        .await?
        .ok_or(StoreError::NotFound("demo owner"))?;
    let workspace_id = owner.workspace_id.clone();
    let bots = state.store.list_bots(&workspace_id).await?;
    if let Some(bot) = bots.into_iter().find(|b| b.name == BOT_NAME) {
        return Ok(Demo { bot });
    }
    let now = state.clock.now_ms();
    let bot = state
        .store
        .create_bot(
            &workspace_id,
            NewBot {
                name: BOT_NAME.to_owned(),
                llm_model: None,
                llm_base_url: None,
                llm_api_key_sealed: None,
                system_prompt: "You are Acme Outfitters' friendly support assistant. Answer from \
                                the knowledge base only, briefly."
                    .to_owned(),
                handoff_message: "I'm connecting you with our support team. A person will reply \
                                  right here in this chat."
                    .to_owned(),
                response_time_text: "Our team responds within 2 hours during business hours \
                                     (9 am to 6 pm, Monday to Friday)."
                    .to_owned(),
                greeting: "Hi! I'm the Acme Outfitters assistant. Ask me about shipping, \
                           returns, payments or your order, or ask for a person at any time."
                    .to_owned(),
                kb_language: crate::domain::KbLanguage::English,
                relevance_threshold: None,
            },
            &format!("wk_demo_{}", &crate::auth::random_token()[..16]),
            now,
        )
        .await?;
    for (title, content) in DOCUMENTS {
        let document = document::prepare(title, (*content).to_owned(), Format::Markdown)
            .expect("the demo's documents are valid");
        state
            .store
            .add_document(&workspace_id, &bot.id, document.record(), now)
            .await?;
    }
    // Both tools on: the handoff, and the rating the customer is asked for after it.
    for tool in [REQUEST_HANDOFF, SATISFACTION_SURVEY] {
        state.store.install_tool(&workspace_id, tool, now).await?;
        state
            .store
            .set_bot_tool(&workspace_id, &bot.id, tool, true, now)
            .await?;
    }
    let hash = accounts::hash(Password::parse(PASSWORD).expect("demo password is valid")).await;
    let agent = NewUser {
        email: &Email::parse(AGENT_EMAIL).expect("demo agent email is valid"),
        name: &Name::parse("name", "Sam Rivera").expect("demo agent name is valid"),
        password_hash: &hash,
        role: Role::Agent,
        must_change_password: false,
    };
    match state.store.create_user(&workspace_id, agent, now).await {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(err) => return Err(err),
    }
    Ok(Demo { bot })
}
