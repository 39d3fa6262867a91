//! A knowledge base built in memory from a dataset, judged exactly as the built-in responder
//! judges a live one: the real [`BotIndex`], the real search, and the real
//! [`RELEVANCE_THRESHOLD`] on the best hit. Every search is timed, because the spec wants KB
//! search latency measured too.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::bot::builtin::RELEVANCE_THRESHOLD;
use crate::domain::KbLanguage;
use crate::knowledge::BotIndex;
use crate::store::ChunkRecord;

use super::{EvalError, Run};

/// How many hits the built-in responder asks for; the decision only reads the first.
const RESPONDER_LIMIT: usize = 3;

/// What the bot does with a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The best passage is relevant enough: the bot quotes this document.
    Answer(String),
    /// Nothing relevant enough: "the KB has nothing", so it hands off (or declines).
    Miss,
}

pub struct Kb {
    /// Shown next to the latency figures.
    pub name: String,
    index: BotIndex,
    /// Documents in the index: the depth of a full ranking.
    pub documents: usize,
    /// Text indexed, in bytes: how "large" the KB is when choosing which latency to report.
    pub bytes: usize,
    /// Wall time of every search, for p50/p99.
    pub timings: Vec<Duration>,
    /// Wall time of building the index, the bot's own classifier included.
    pub built_in: Duration,
    /// The classifier's memory in bytes (0 when the KB is too large to learn from).
    pub learned_bytes: usize,
}

/// One ranked search: document ids best first, and the bot's decision on the best one.
pub struct Ranked {
    pub documents: Vec<String>,
    pub decision: Decision,
    /// The best hit's relevance (0 when there is no hit), for the error listings.
    pub relevance: f32,
}

impl Kb {
    /// One document per chunk record, as given.
    pub fn build(name: &str, chunks: Vec<ChunkRecord>) -> tantivy::Result<Kb> {
        let bytes = chunks
            .iter()
            .map(|c| c.title.len() + c.heading.len() + c.body.len())
            .sum();
        let started = Instant::now();
        let index = BotIndex::build(&chunks, KbLanguage::English)?;
        Ok(Kb {
            name: name.to_owned(),
            built_in: started.elapsed(),
            learned_bytes: index.learned_bytes(),
            index,
            documents: chunks.len(),
            bytes,
            timings: Vec::new(),
        })
    }

    /// One document per intent: the intent's name as the title and its example utterances,
    /// one per line, as the body — the closest a labelled intent set comes to a help article.
    pub fn from_intents<'a>(
        name: &str,
        examples: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> tantivy::Result<Kb> {
        Kb::build(name, intent_documents(examples))
    }

    /// The built-in responder's decision for a question.
    pub fn decide(&mut self, query: &str) -> tantivy::Result<Ranked> {
        self.search(query, RESPONDER_LIMIT)
    }

    /// Every document ranked for a question, with the decision on the best one.
    pub fn rank(&mut self, query: &str) -> tantivy::Result<Ranked> {
        self.search(query, self.documents.max(1))
    }

    fn search(&mut self, query: &str, limit: usize) -> tantivy::Result<Ranked> {
        let started = Instant::now();
        let hits = self.index.search(query, limit)?;
        self.timings.push(started.elapsed());
        let (decision, relevance) = match hits.first() {
            Some(best) if best.relevance >= RELEVANCE_THRESHOLD => {
                (Decision::Answer(best.document_id.clone()), best.relevance)
            }
            Some(best) => (Decision::Miss, best.relevance),
            None => (Decision::Miss, 0.0),
        };
        Ok(Ranked {
            documents: hits.into_iter().map(|h| h.document_id).collect(),
            decision,
            relevance,
        })
    }
}

/// One document per intent, in intent order (see [`Kb::from_intents`]).
pub fn intent_documents<'a>(
    examples: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<ChunkRecord> {
    let mut by_intent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (text, intent) in examples {
        by_intent.entry(intent).or_default().push(text);
    }
    by_intent
        .into_iter()
        .map(|(intent, texts)| document(intent, intent, &texts.join("\n")))
        .collect()
}

/// A whole document as one chunk, the way the evaluation's KBs are made (no passage cutting:
/// each entry is already one answer).
pub fn document(id: &str, title: &str, body: &str) -> ChunkRecord {
    ChunkRecord {
        id: id.to_owned(),
        document_id: id.to_owned(),
        title: title.to_owned(),
        heading: String::new(),
        body: body.to_owned(),
    }
}

/// How many in-scope queries the KB answers with the right intent first; the rest are listed.
pub fn answers(
    kb: &mut Kb,
    queries: &[(String, String)],
    name: &str,
    run: &mut Run<'_>,
) -> Result<u64, EvalError> {
    let mut right = 0;
    for (text, intent) in queries {
        let ranked = kb.decide(text)?;
        match &ranked.decision {
            Decision::Answer(doc) if doc == intent => right += 1,
            Decision::Answer(doc) => run.wrong(
                name,
                "wrong intent",
                format!("{text} → {doc} (want {intent})"),
            ),
            Decision::Miss => run.wrong(
                name,
                "in-scope missed",
                format!("{text} (best relevance {:.2})", ranked.relevance),
            ),
        }
        run.tick();
    }
    Ok(right)
}

/// How many out-of-scope queries the KB correctly has nothing for.
pub fn misses(
    kb: &mut Kb,
    queries: &[(String, String)],
    name: &str,
    kind: &'static str,
    run: &mut Run<'_>,
) -> Result<u64, EvalError> {
    let mut caught = 0;
    for (text, _) in queries {
        let ranked = kb.decide(text)?;
        match ranked.decision {
            Decision::Miss => caught += 1,
            Decision::Answer(doc) => run.wrong(
                name,
                kind,
                format!("{text} → {doc} ({:.2})", ranked.relevance),
            ),
        }
        run.tick();
    }
    Ok(caught)
}
