//! Bitext customer-support utterances (synthetic): human-request detection. Positives are
//! `contact_human_agent`; a second figure also counts `contact_customer_service`, which mixes
//! requests ("can I speak with customer support?") with asking for contact details. Every
//! other intent, and CLINC150's "are you a bot?" questions, are negatives.
//!
//! The test file is the 8,175-row customer-service set: the data README uses the 4,514-row
//! file as training material (the 27-answer KB), and that file's own README calls it the
//! training half of a train/evaluation pair. The three files come from one generator, so
//! texts seen in the other two files are dropped first (compared after
//! [`normalise`](crate::bot::detect::normalise)). The 21,534-row file, deduplicated the same
//! way, is reported as a second, larger check.

use std::collections::HashSet;
use std::path::Path;

use super::{EvalError, Run, count, detection_row, read_csv_pairs};
use crate::bot::detect::normalise;

const TARGET: f64 = 0.97;

/// One Bitext file with what is left after removing texts found in the other files.
struct TestFile {
    label: &'static str,
    rows: usize,
    kept: Vec<(String, String)>,
}

pub struct Bitext {
    files: Vec<TestFile>,
    /// CLINC150 `are_you_a_bot`: hard negatives added to every set.
    are_you_a_bot: Vec<String>,
}

pub fn load(dir: &Path, are_you_a_bot: Vec<String>) -> Result<Bitext, EvalError> {
    let dir = dir.join("bitext");
    let llm = read_csv_pairs(
        &dir.join("bitext_llm_training_sample_4514.csv"),
        "instruction",
        "intent",
    )?;
    let service = read_csv_pairs(
        &dir.join("bitext_customer_service_training_8175.csv"),
        "utterance",
        "intent",
    )?;
    let utterances = read_csv_pairs(
        &dir.join("bitext_utterances_sample_21534.csv"),
        "utterance",
        "intent",
    )?;
    let files = vec![
        deduplicate("Bitext 8,175 (test)", &service, [&llm, &utterances]),
        deduplicate("Bitext 21,534 (check)", &utterances, [&llm, &service]),
    ];
    Ok(Bitext {
        files,
        are_you_a_bot,
    })
}

/// The rows of `test` whose normalised text is in none of `others`.
fn deduplicate(
    label: &'static str,
    test: &[(String, String)],
    others: [&[(String, String)]; 2],
) -> TestFile {
    let seen: HashSet<String> = others
        .iter()
        .flat_map(|rows| rows.iter())
        .map(|(text, _)| normalise(text))
        .collect();
    TestFile {
        label,
        rows: test.len(),
        kept: test
            .iter()
            .filter(|(text, _)| !seen.contains(&normalise(text)))
            .cloned()
            .collect(),
    }
}

impl Bitext {
    /// Two passes (two definitions of a positive) per file.
    pub fn queries(&self) -> usize {
        self.files
            .iter()
            .map(|f| 3 * (f.kept.len() + self.are_you_a_bot.len()))
            .sum()
    }

    pub fn evaluate(&self, run: &mut Run<'_>) {
        // `contact_customer_service` mixes requests for a person ("can I speak to customer
        // service?") with requests for contact details ("what's your support email?"), so it is
        // counted three ways: as negatives, as positives, and left out.
        for file in &self.files {
            for (positives, service) in [
                ("human_agent", Service::Negative),
                ("+ customer_service", Service::Positive),
                (
                    "human_agent, customer_service rows left out",
                    Service::LeftOut,
                ),
            ] {
                let dataset = format!(
                    "{} deduped {}→{} rows + {} CLINC are_you_a_bot; pos = {positives}",
                    file.label,
                    count(file.rows),
                    count(file.kept.len()),
                    self.are_you_a_bot.len()
                );
                let samples = self.samples(file, service);
                let confusion = run.detect(&dataset, &samples);
                run.row(detection_row(dataset, confusion, Some(TARGET)));
            }
        }
    }

    fn samples(&self, file: &TestFile, service: Service) -> Vec<(String, bool)> {
        let positive = |intent: &str| {
            intent == "contact_human_agent"
                || (service == Service::Positive && intent == "contact_customer_service")
        };
        file.kept
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
