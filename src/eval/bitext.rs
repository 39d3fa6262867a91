//! Bitext customer-support utterances (synthetic): human-request detection. Positives are
//! `contact_human_agent`; a second figure also counts `contact_customer_service`, which mixes
//! requests ("can I speak with customer support?") with asking for contact details, and a
//! third leaves those rows out. Every other intent, and CLINC150's "are you a bot?" questions
//! from its `test` split, are negatives.
//!
//! The test file is the 8,175-row customer-service set. The other two Bitext files (4,514 and
//! 21,534 rows) are the detector's training material (`baton train-detector`), and CLINC150's
//! `train` split too, so the hard negatives come from `test` only. The three Bitext files come
//! from one generator, so test texts also found in a training file are dropped first (compared
//! after [`normalise`](crate::bot::detect::normalise)).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{EvalError, Run, count, detection_row, read_csv_pairs, read_json};
use crate::bot::detect::normalise;

const TARGET: f64 = 0.97;

pub struct Bitext {
    /// Rows of the test file before deduplication.
    rows: usize,
    /// `(text, intent)` of the test rows left after deduplication.
    kept: Vec<(String, String)>,
    /// CLINC150 `test` `are_you_a_bot`: hard negatives added to every set.
    are_you_a_bot: Vec<String>,
}

pub fn load(dir: &Path) -> Result<Bitext, EvalError> {
    let bitext = dir.join("bitext");
    let llm = read_csv_pairs(
        &bitext.join("bitext_llm_training_sample_4514.csv"),
        "instruction",
        "intent",
    )?;
    let utterances = read_csv_pairs(
        &bitext.join("bitext_utterances_sample_21534.csv"),
        "utterance",
        "intent",
    )?;
    let test = read_csv_pairs(
        &bitext.join("bitext_customer_service_training_8175.csv"),
        "utterance",
        "intent",
    )?;
    let seen: HashSet<String> = llm
        .iter()
        .chain(&utterances)
        .map(|(text, _)| normalise(text))
        .collect();
    let path = dir.join("clinc150/data_full.json");
    let clinc: HashMap<String, Vec<(String, String)>> = read_json(&path)?;
    let are_you_a_bot = clinc
        .get("test")
        .ok_or_else(|| EvalError::Format {
            path,
            what: "no \"test\" split".to_owned(),
        })?
        .iter()
        .filter(|(_, intent)| intent == "are_you_a_bot")
        .map(|(text, _)| text.clone())
        .collect();
    Ok(Bitext {
        rows: test.len(),
        kept: test
            .into_iter()
            .filter(|(text, _)| !seen.contains(&normalise(text)))
            .collect(),
        are_you_a_bot,
    })
}

impl Bitext {
    /// Three passes, one per definition of a positive.
    pub fn queries(&self) -> usize {
        3 * (self.kept.len() + self.are_you_a_bot.len())
    }

    pub fn evaluate(&self, run: &mut Run<'_>) {
        // `contact_customer_service` mixes requests for a person ("can I speak to customer
        // service?") with requests for contact details ("what's your support email?"), so it is
        // counted three ways: as negatives, as positives, and left out.
        for (positives, service) in [
            ("human_agent", Service::Negative),
            ("+ customer_service", Service::Positive),
            (
                "human_agent, customer_service rows left out",
                Service::LeftOut,
            ),
        ] {
            let dataset = format!(
                "Bitext 8,175 (test) deduped against the training files {}→{} rows + {} CLINC \
                 test are_you_a_bot; pos = {positives}",
                count(self.rows),
                count(self.kept.len()),
                self.are_you_a_bot.len()
            );
            let samples = self.samples(service);
            let confusion = run.detect(&dataset, &samples);
            run.row(detection_row(dataset, confusion, Some(TARGET)));
        }
    }

    fn samples(&self, service: Service) -> Vec<(String, bool)> {
        let positive = |intent: &str| {
            intent == "contact_human_agent"
                || (service == Service::Positive && intent == "contact_customer_service")
        };
        self.kept
            .iter()
            .filter(|(_, intent)| {
                service != Service::LeftOut || intent != "contact_customer_service"
            })
            .map(|(text, intent)| (text.clone(), positive(intent)))
            .chain(self.are_you_a_bot.iter().map(|t| (t.clone(), false)))
            .collect()
    }
}

/// How the ambiguous `contact_customer_service` rows count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Negative,
    Positive,
    LeftOut,
}
