//! FAQ retrieval: StackFAQ (web-app how-to questions, paraphrased by annotators) and the JHU
//! COVID FAQ (short search-style user queries). Each FAQ becomes one KB document — its
//! question as the title, its answer as the body (StackFAQ: the top answer only), both
//! indexed — and every query ranks all of them. Nothing is tuned, so every query is held out.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::kb::{Decision, Kb, document};
use super::metrics::{average_precision, reciprocal_rank};
use super::{EvalError, Row, Run, count, f3, pct, read_csv_pairs, read_jsonl};
use crate::store::ChunkRecord;

struct Query {
    text: String,
    /// Every FAQ that answers it (COVID: two FAQs share one answer text).
    relevant: HashSet<String>,
    /// StackFAQ's paraphrase group: "A" served as dev material for the search weights, "B"
    /// never did. Empty for COVID.
    group: String,
}

struct Collection {
    name: &'static str,
    /// Published BM25 (question field) MAP, for comparison.
    anchor_map: f64,
    target_mrr: f64,
    faqs: Vec<(String, String, String)>,
    queries: Vec<Query>,
    /// Also score each distinct query text once, with every FAQ any of its copies is labelled
    /// with as relevant: how the published anchor was measured (BERT-FAQ groups the user
    /// queries by their text; COVID's 1,387 rows are 1,073 texts, 266 of them with more than
    /// one gold FAQ).
    distinct_texts: bool,
}

pub struct Faq {
    collections: Vec<Collection>,
}

/// An id that is a number in one file and a string in another.
fn id(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn collection(
    dir: &Path,
    folder: &str,
    name: &'static str,
    anchor_map: f64,
    target_mrr: f64,
    distinct_texts: bool,
) -> Result<Collection, EvalError> {
    let faqs: Vec<Value> = read_jsonl(&dir.join(folder).join("faqs.jsonl"))?;
    let queries: Vec<Value> = read_jsonl(&dir.join(folder).join("queries.jsonl"))?;
    Ok(Collection {
        name,
        anchor_map,
        target_mrr,
        faqs: faqs
            .iter()
            .map(|f| (id(&f["faq_id"]), text(f, "question"), text(f, "answer")))
            .collect(),
        queries: queries
            .iter()
            .map(|q| Query {
                text: text(q, "query"),
                relevant: match (q.get("faq_ids"), q.get("faq_id")) {
                    (Some(Value::Array(ids)), _) => ids.iter().map(id).collect(),
                    (_, Some(one)) => HashSet::from([id(one)]),
                    _ => HashSet::new(),
                },
                group: text(q, "group"),
            })
            .collect(),
        distinct_texts,
    })
}

/// The queries with each text once, relevant to every FAQ any of its copies names, in the
/// order the texts first appear.
fn by_text(queries: &[Query]) -> Vec<Query> {
    let mut merged: Vec<Query> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for q in queries {
        match at.get(q.text.as_str()) {
            Some(&i) => merged[i].relevant.extend(q.relevant.iter().cloned()),
            None => {
                at.insert(&q.text, merged.len());
                merged.push(Query {
                    text: q.text.clone(),
                    relevant: q.relevant.clone(),
                    group: q.group.clone(),
                });
            }
        }
    }
    merged
}

pub fn load(dir: &Path) -> Result<Faq, EvalError> {
    Ok(Faq {
        collections: vec![
            collection(dir, "stackfaq", "StackFAQ", 0.665, 0.85, false)?,
            collection(dir, "covidfaq", "COVID FAQ", 0.742, 0.80, true)?,
        ],
    })
}

impl Faq {
    pub fn queries(&self) -> usize {
        self.collections.iter().map(|c| c.queries.len()).sum()
    }

    pub fn evaluate(&self, run: &mut Run<'_>) -> Result<(), EvalError> {
        for c in &self.collections {
            evaluate(c, run)?;
        }
        Ok(())
    }
}

impl Collection {
    /// One KB document per FAQ: its question as the title, its answer as the body.
    fn documents(&self) -> Vec<ChunkRecord> {
        self.faqs
            .iter()
            .map(|(id, question, answer)| document(id, question, answer))
            .collect()
    }
}

/// An FAQ knowledge base and its queries, each with the FAQs that answer it.
pub struct DevSet {
    pub name: &'static str,
    pub documents: Vec<ChunkRecord>,
    pub queries: Vec<(String, HashSet<String>)>,
}

/// The FAQ-shaped dev material `baton eval --sweep` ranks (never a test split): StackFAQ's
/// group A paraphrases, and an FAQ made from the Bitext training file — per intent, the first
/// instruction as the question and its model answer as the answer; every other instruction of
/// the intent is a query. Bitext's answers are long and largely templated courtesy text, the
/// shape of knowledge base (like COVID FAQ's) in which the answer side could mislead the search.
pub fn dev_sets(dir: &Path) -> Result<Vec<DevSet>, EvalError> {
    let stack = collection(dir, "stackfaq", "StackFAQ", 0.665, 0.85, false)?;
    let group_a = stack
        .queries
        .iter()
        .filter(|q| q.group == "A")
        .map(|q| (q.text.clone(), q.relevant.clone()))
        .collect();

    let path = dir.join("bitext/bitext_llm_training_sample_4514.csv");
    let asked = read_csv_pairs(&path, "instruction", "intent")?;
    let answered = read_csv_pairs(&path, "response", "intent")?;
    let mut questions: HashMap<&str, &str> = HashMap::new();
    let mut documents = Vec::new();
    for ((question, intent), (answer, _)) in asked.iter().zip(&answered) {
        if !questions.contains_key(intent.as_str()) {
            questions.insert(intent, question);
            documents.push(document(intent, question, answer));
        }
    }
    let queries = asked
        .iter()
        .filter(|(text, intent)| questions[intent.as_str()] != text)
        .map(|(text, intent)| (text.clone(), HashSet::from([intent.clone()])))
        .collect();
    Ok(vec![
        DevSet {
            name: "StackFAQ group A",
            documents: stack.documents(),
            queries: group_a,
        },
        DevSet {
            name: "Bitext FAQ (training file)",
            documents,
            queries,
        },
    ])
}

fn evaluate(c: &Collection, run: &mut Run<'_>) -> Result<(), EvalError> {
    let chunks = c.documents();
    let mut kb = Kb::build(&format!("{} ({} FAQs)", c.name, c.faqs.len()), chunks)?;
    let (mut top1, mut rr, mut ap, mut answered, mut answered_right) = (0, 0.0, 0.0, 0, 0);
    let (mut held_out, mut held_out_rr) = (0, 0.0);
    let mut rankings: HashMap<&str, Vec<String>> = HashMap::new();
    for q in &c.queries {
        let ranked = kb.rank(&q.text)?;
        if c.distinct_texts {
            rankings.insert(&q.text, ranked.documents.clone());
        }
        let first_right = ranked
            .documents
            .first()
            .is_some_and(|d| q.relevant.contains(d));
        if first_right {
            top1 += 1;
        } else {
            let got = ranked.documents.first().map_or("nothing", String::as_str);
            run.wrong(c.name, "wrong FAQ first", format!("{} → {got}", q.text));
        }
        let reciprocal = reciprocal_rank(&ranked.documents, &q.relevant);
        rr += reciprocal;
        if q.group == "B" {
            held_out += 1;
            held_out_rr += reciprocal;
        }
        ap += average_precision(&ranked.documents, &q.relevant);
        if let Decision::Answer(doc) = &ranked.decision {
            answered += 1;
            if q.relevant.contains(doc) {
                answered_right += 1;
            }
        }
        run.tick();
    }
    run.timed(&kb);
    let n = c.queries.len() as f64;
    let mrr = rr / n;
    run.row(Row {
        measure: "M3",
        dataset: format!("{} (KB: question + answer; all queries)", c.name),
        n: format!("{} queries, {} FAQs", count(c.queries.len()), c.faqs.len()),
        result: format!(
            "P@1 {} · MRR {} · MAP {} · answered {}% (right {}%){}",
            f3(Some(top1 as f64 / n)),
            f3(Some(mrr)),
            f3(Some(ap / n)),
            pct(Some(answered as f64 / n)),
            pct(Some(answered_right as f64 / n)),
            if held_out > 0 {
                format!(
                    " · group B only (never tuned on): MRR {}",
                    f3(Some(held_out_rr / held_out as f64))
                )
            } else {
                String::new()
            }
        ),
        anchor: format!("BM25 (question field) MAP {:.3}", c.anchor_map),
        target: if held_out > 0 {
            format!("MRR ≥ {:.2} (on group B)", c.target_mrr)
        } else {
            format!("MRR ≥ {:.2}", c.target_mrr)
        },
        // With StackFAQ's group A used as dev material, group B is the test set the data README
        // names for that case; the target is judged on it.
        met: Some(if held_out > 0 {
            held_out_rr / held_out as f64 >= c.target_mrr
        } else {
            mrr >= c.target_mrr
        }),
    });
    if c.distinct_texts {
        distinct_texts_row(c, &rankings, run);
    }
    Ok(())
}

/// The same rankings scored once per distinct query text (see [`Collection::distinct_texts`]).
fn distinct_texts_row(c: &Collection, rankings: &HashMap<&str, Vec<String>>, run: &mut Run<'_>) {
    let texts = by_text(&c.queries);
    let (mut top1, mut rr, mut ap) = (0, 0.0, 0.0);
    for q in &texts {
        let ranked = &rankings[q.text.as_str()];
        if ranked.first().is_some_and(|d| q.relevant.contains(d)) {
            top1 += 1;
        }
        rr += reciprocal_rank(ranked, &q.relevant);
        ap += average_precision(ranked, &q.relevant);
    }
    let n = texts.len() as f64;
    let mrr = rr / n;
    run.row(Row {
        measure: "M3",
        dataset: format!(
            "{} (KB: question + answer; each distinct query text once, relevant = every FAQ its copies name, as the anchor counts)",
            c.name
        ),
        n: format!("{} query texts, {} FAQs", count(texts.len()), c.faqs.len()),
        result: format!(
            "P@1 {} · MRR {} · MAP {}",
            f3(Some(top1 as f64 / n)),
            f3(Some(mrr)),
            f3(Some(ap / n)),
        ),
        anchor: format!("BM25 (question field) MAP {:.3}", c.anchor_map),
        target: format!("MRR ≥ {:.2}", c.target_mrr),
        met: Some(mrr >= c.target_mrr),
    });
}
