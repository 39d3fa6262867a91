//! `baton eval --sweep`: how the "KB has nothing" threshold trades answers for caution, measured
//! on the **dev** splits only (CLINC150 `val` / `oos_val`, BANKING77-OOS `valid` and the two
//! `oos/valid` folders), so the threshold the bot ships with is chosen without the test data.
//!
//! HINT3 has no dev split, and its train files have no out-of-scope messages, so its sweep is a
//! cross-validation on each bot's train file with held-out intents standing in for "out of
//! scope" (see [`cross_validate`]).
//!
//! It also ranks the FAQ-shaped dev sets ([`faq::dev_sets`]), where a change to how questions
//! and answers are weighed is tried before any FAQ test split sees it.

use std::path::Path;

use super::faq;
use super::hint3::{FOLDS, HINT3_THRESHOLDS, OOS, cross_validate, mcc_at};
use super::kb::Kb;
use super::metrics::reciprocal_rank;
use super::{EvalError, read_csv_pairs, read_json, read_text};

/// The thresholds every sweep reports.
const THRESHOLDS: [f32; 10] = [0.15, 0.175, 0.2, 0.215, 0.235, 0.25, 0.275, 0.3, 0.35, 0.4];

/// One query's best hit: its relevance and whether that hit is the right intent.
struct Scored {
    relevance: f32,
    right: bool,
}

fn score(kb: &mut Kb, queries: &[(String, String)]) -> Result<Vec<Scored>, EvalError> {
    queries
        .iter()
        .map(|(text, intent)| {
            let ranked = kb.rank(text)?;
            Ok(Scored {
                relevance: ranked.relevance,
                right: ranked.documents.first() == Some(intent),
            })
        })
        .collect()
}

fn lines(dir: &Path, name: &str) -> Result<Vec<(String, String)>, EvalError> {
    let read = |file: &str| -> Result<Vec<String>, EvalError> {
        Ok(read_text(&dir.join(name).join(file))?
            .lines()
            .map(str::to_owned)
            .collect())
    };
    Ok(read("seq.in")?.into_iter().zip(read("label")?).collect())
}

/// The sweep as a Markdown table: in-scope accuracy and OOS recall per threshold.
pub fn run(dir: &Path) -> Result<String, EvalError> {
    let clinc: std::collections::HashMap<String, Vec<(String, String)>> =
        read_json(&dir.join("clinc150/data_full.json"))?;
    let get = |split: &str| clinc.get(split).cloned().unwrap_or_default();
    let mut clinc_kb = Kb::from_intents(
        "CLINC150 (train)",
        get("train").iter().map(|(t, i)| (t.as_str(), i.as_str())),
    )?;
    let clinc_in = score(&mut clinc_kb, &get("val"))?;
    let clinc_oos = score(&mut clinc_kb, &get("oos_val"))?;

    let banking = dir.join("banking77-oos");
    let train = lines(&banking, "train")?;
    let mut banking_kb = Kb::from_intents(
        "BANKING77-OOS (train)",
        train.iter().map(|(t, i)| (t.as_str(), i.as_str())),
    )?;
    let banking_in = score(&mut banking_kb, &lines(&banking, "valid")?)?;
    let banking_id = score(&mut banking_kb, &lines(&banking, "id-oos/valid")?)?;
    let banking_ood = score(&mut banking_kb, &lines(&banking, "ood-oos/valid")?)?;

    let answered_right = |s: &[Scored], t: f32| {
        100.0 * s.iter().filter(|q| q.relevance >= t && q.right).count() as f64
            / s.len().max(1) as f64
    };
    let missed = |s: &[Scored], t: f32| {
        100.0 * s.iter().filter(|q| q.relevance < t).count() as f64 / s.len().max(1) as f64
    };
    let mut out = String::from(
        "| threshold | CLINC150 val in-scope | CLINC150 oos_val recall | BANKING77-OOS valid in-scope | ID-OOS valid recall | OOD-OOS valid recall |\n|---|---|---|---|---|---|\n",
    );
    for t in THRESHOLDS {
        out.push_str(&format!(
            "| {t:.3} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            answered_right(&clinc_in, t),
            missed(&clinc_oos, t),
            answered_right(&banking_in, t),
            missed(&banking_id, t),
            missed(&banking_ood, t),
        ));
    }
    out.push_str(&hint3_table(dir)?);
    out.push_str(&faq_table(dir)?);
    Ok(out)
}

/// The HINT3 v1 train-file cross-validation as a Markdown table: MCC per threshold and bot.
fn hint3_table(dir: &Path) -> Result<String, EvalError> {
    let mut columns = Vec::new();
    for bot in ["sofmattress", "curekart", "powerplay11"] {
        let path = dir.join(format!("hint3/v1/train/{bot}_train.csv"));
        let judged = cross_validate(&read_csv_pairs(&path, "sentence", "label")?)?;
        let oos = judged.iter().filter(|q| q.truth == OOS).count();
        columns.push((
            format!("{bot} ({} queries, {oos} OOS)", judged.len()),
            judged,
        ));
    }
    let mut out = format!(
        "\nHINT3 v1 train, {FOLDS}-fold cross-validation with held-out intents as out of scope (multi-class MCC):\n\n| threshold | {} |\n|---|{}\n",
        columns
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(columns.len())
    );
    for t in HINT3_THRESHOLDS {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, judged)| format!("{:.3}", mcc_at(judged, t)))
            .collect();
        out.push_str(&format!("| {t:.3} | {} |\n", cells.join(" | ")));
    }
    Ok(out)
}

/// FAQ retrieval on dev material (see [`faq::dev_sets`]): MRR and P@1 per knowledge base.
fn faq_table(dir: &Path) -> Result<String, EvalError> {
    let mut out = String::from(
        "\nFAQ retrieval on dev material:\n\n| KB | documents | queries | MRR | P@1 |\n|---|---|---|---|---|\n",
    );
    for set in faq::dev_sets(dir)? {
        let mut kb = Kb::build(set.name, set.documents)?;
        let (mut rr, mut top1) = (0.0, 0);
        for (text, relevant) in &set.queries {
            let ranked = kb.rank(text)?;
            rr += reciprocal_rank(&ranked.documents, relevant);
            top1 += usize::from(
                ranked
                    .documents
                    .first()
                    .is_some_and(|d| relevant.contains(d)),
            );
        }
        let n = set.queries.len().max(1) as f64;
        out.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.3} |\n",
            set.name,
            kb.documents,
            set.queries.len(),
            rr / n,
            top1 as f64 / n
        ));
    }
    Ok(out)
}
