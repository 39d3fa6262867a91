//! CLINC150 (Larson et al. 2019), `data_full.json`: 150 in-scope intents and out-of-scope
//! queries. The knowledge base holds one document per intent, made from its `train`
//! utterances; `test` measures answering (not a miss, and the right intent on top) and
//! `oos_test` measures "the KB has nothing" (a miss).

use std::collections::HashMap;
use std::path::Path;

use super::kb::{Kb, answers, misses};
use super::metrics::ratio;
use super::{EvalError, Row, Run, count, pct, read_json};

pub struct Clinc150 {
    splits: HashMap<String, Vec<(String, String)>>,
}

pub fn load(dir: &Path) -> Result<Clinc150, EvalError> {
    let path = dir.join("clinc150/data_full.json");
    let splits: HashMap<String, Vec<(String, String)>> = read_json(&path)?;
    for split in ["train", "val", "test", "oos_test"] {
        if !splits.contains_key(split) {
            return Err(EvalError::Format {
                path,
                what: format!("no {split:?} split"),
            });
        }
    }
    Ok(Clinc150 { splits })
}

impl Clinc150 {
    fn split(&self, name: &str) -> &[(String, String)] {
        self.splits.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn queries(&self) -> usize {
        self.split("test").len() + self.split("oos_test").len()
    }

    pub fn evaluate(&self, run: &mut Run<'_>) -> Result<(), EvalError> {
        let name = "CLINC150";
        let train = self.split("train");
        let mut kb = Kb::from_intents(
            "CLINC150 (150 intents, train)",
            train.iter().map(|(t, i)| (t.as_str(), i.as_str())),
        )?;
        let right = answers(&mut kb, self.split("test"), name, run)?;
        let caught = misses(
            &mut kb,
            self.split("oos_test"),
            name,
            "out-of-scope answered",
            run,
        )?;
        run.timed(&kb);
        let (test, oos) = (self.split("test").len(), self.split("oos_test").len());
        let accuracy = ratio(right, test as u64);
        let recall = ratio(caught, oos as u64);
        run.row(Row {
            measure: "M2",
            dataset: "CLINC150 data_full (KB: train; test, oos_test)".to_owned(),
            n: format!("{} in-scope + {} OOS", count(test), count(oos)),
            result: format!(
                "in-scope acc {} · OOS recall {}",
                pct(accuracy),
                pct(recall)
            ),
            anchor: "BERT 96.2 / 52.3 · Rasa 90.9 / 31.2 · DialogFlow 90.8 / 26.7".to_owned(),
            target: "in-scope ≥ 91 with OOS recall ≥ 60".to_owned(),
            met: Some(accuracy.unwrap_or(0.0) >= 0.91 && recall.unwrap_or(0.0) >= 0.60),
        });
        Ok(())
    }
}
