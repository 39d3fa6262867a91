//! The hand-written multilingual check: requests and non-requests in the 11 languages the bot
//! serves (`data/detector/multilingual_check.tsv`), in phrasings that are neither in the
//! detector's training examples nor in its unit tests, and never trained on. None of the
//! public datasets has a non-English request, so this is the only measure of the other ten
//! languages; it is small (about 16 messages per language), so read it as a smoke test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::metrics::Confusion;
use super::{EvalError, Run, count, detection_row, f3};
use crate::train::material::{Handwritten, LANGUAGES, parse_handwritten};

/// Compiled in, so `baton eval` works from any directory.
pub const CHECK_TSV: &str = include_str!("../../data/detector/multilingual_check.tsv");

pub struct Multilingual {
    rows: Vec<Handwritten>,
}

pub fn load(tsv: &str) -> Result<Multilingual, EvalError> {
    let rows = parse_handwritten(tsv).map_err(|what| EvalError::Format {
        path: PathBuf::from("data/detector/multilingual_check.tsv"),
        what,
    })?;
    Ok(Multilingual { rows })
}

impl Multilingual {
    pub fn queries(&self) -> usize {
        self.rows.len()
    }

    pub fn evaluate(&self, run: &mut Run<'_>) {
        let dataset = format!(
            "hand-written multilingual check, held out ({} languages)",
            LANGUAGES.len()
        );
        let mut by_language: BTreeMap<&str, Confusion> = BTreeMap::new();
        let mut all = Confusion::default();
        for row in &self.rows {
            let sample = [(row.text.clone(), row.positive)];
            let c = run.detect(&format!("{dataset} [{}]", row.language), &sample);
            by_language
                .entry(row.language.as_str())
                .or_default()
                .add(row.positive, c.tp + c.fp > 0);
            all.add(row.positive, c.tp + c.fp > 0);
        }
        let mut row = detection_row(dataset, all, None);
        // Per language, the share of its messages decided right.
        let per_language: Vec<String> = LANGUAGES
            .iter()
            .filter_map(|l| by_language.get(l).map(|c| (l, c)))
            .map(|(l, c)| {
                let right = (c.tp + c.tn) as f64 / c.total().max(1) as f64;
                format!("{l} {}", f3(Some(right)))
            })
            .collect();
        row.result = format!(
            "{} · right per language: {}",
            row.result,
            per_language.join(", ")
        );
        row.n = format!(
            "{} ({} pos)",
            count(all.total() as usize),
            count(all.positives() as usize)
        );
        run.row(row);
    }
}
