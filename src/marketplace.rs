//! The catalogue of tools a workspace can add to its bots. A tool does something only when it
//! is installed in the workspace *and* switched on for the bot.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tool {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub const REQUEST_HANDOFF: &str = "request_handoff";

pub const SATISFACTION_SURVEY: &str = "satisfaction_survey";

pub const CATALOGUE: &[Tool] = &[
    Tool {
        slug: REQUEST_HANDOFF,
        name: "Request Handoff",
        description: "Lets the bot pass a conversation to your team when the customer asks for \
                      a person or the knowledge base has no answer. Agents claim it in Tools → \
                      Handoffs and reply on the customer's channel.",
    },
    Tool {
        slug: SATISFACTION_SURVEY,
        name: "Satisfaction Survey",
        description: "When an agent resolves a conversation, asks the customer to rate the help \
                      they got — Great, Okay or Poor — with buttons in the chat window and on \
                      WhatsApp. Ratings show on the handoff and, per agent, in Reports.",
    },
];

pub fn find(slug: &str) -> Option<&'static Tool> {
    CATALOGUE.iter().find(|tool| tool.slug == slug)
}
