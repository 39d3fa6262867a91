//! BANKING77-OOS (Zhang et al. 2021): the closest thing to a real support KB with gaps. The KB
//! covers 50 banking intents (one document each, from `train`); in-domain OOS queries are
//! banking questions on the 27 intents it lacks, out-of-domain OOS are CLINC150's. In-scope
//! accuracy on `test`; ID-OOS and OOD-OOS recall (a miss) on the two `oos/test` folders.

use std::path::Path;

use super::kb::{Kb, answers, misses};
use super::metrics::ratio;
use super::{EvalError, Row, Run, count, pct, read_lines};

/// Texts and labels of one split, from the parallel `seq.in` and `label` files.
fn split(dir: &Path, name: &str) -> Result<Vec<(String, String)>, EvalError> {
    let folder = dir.join("banking77-oos").join(name);
    let texts = read_lines(&folder.join("seq.in"))?;
    let labels = read_lines(&folder.join("label"))?;
    if texts.len() != labels.len() {
        return Err(EvalError::Format {
            path: folder,
            what: format!("{} texts but {} labels", texts.len(), labels.len()),
        });
    }
    Ok(texts.into_iter().zip(labels).collect())
}

pub struct Banking77Oos {
    train: Vec<(String, String)>,
    test: Vec<(String, String)>,
    id_oos: Vec<(String, String)>,
    ood_oos: Vec<(String, String)>,
}

pub fn load(dir: &Path) -> Result<Banking77Oos, EvalError> {
    Ok(Banking77Oos {
        train: split(dir, "train")?,
        test: split(dir, "test")?,
        id_oos: split(dir, "id-oos/test")?,
        ood_oos: split(dir, "ood-oos/test")?,
    })
}

impl Banking77Oos {
    pub fn queries(&self) -> usize {
        self.test.len() + self.id_oos.len() + self.ood_oos.len()
    }

    pub fn evaluate(&self, run: &mut Run<'_>) -> Result<(), EvalError> {
        let name = "BANKING77-OOS";
        let mut kb = Kb::from_intents(
            "BANKING77-OOS (50 intents, train)",
            self.train.iter().map(|(t, l)| (t.as_str(), l.as_str())),
        )?;
        let right = answers(&mut kb, &self.test, name, run)?;
        let id = misses(&mut kb, &self.id_oos, name, "in-domain OOS answered", run)?;
        let ood = misses(
            &mut kb,
            &self.ood_oos,
            name,
            "out-of-domain OOS answered",
            run,
        )?;
        run.timed(&kb);
        run.row(Row {
            measure: "M2",
            dataset: "BANKING77-OOS (KB: train, 50 intents; test, id-oos/test, ood-oos/test)"
                .to_owned(),
            n: format!(
                "{} in-scope + {} ID-OOS + {} OOD-OOS",
                count(self.test.len()),
                count(self.id_oos.len()),
                count(self.ood_oos.len())
            ),
            result: format!(
                "in-scope acc {} · ID-OOS recall {} · OOD-OOS recall {}",
                pct(ratio(right, self.test.len() as u64)),
                pct(ratio(id, self.id_oos.len() as u64)),
                pct(ratio(ood, self.ood_oos.len() as u64))
            ),
            anchor: "—".to_owned(),
            target: "—".to_owned(),
            met: None,
        });
        Ok(())
    }
}
