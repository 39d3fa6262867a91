//! The whole evaluation over a tiny dataset folder written to a temporary directory, so these
//! tests check the file reading and the scoring without `../shared` and in milliseconds.

use std::path::Path;

use indicatif::ProgressBar;

use super::{EvalError, Row, evaluate};

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const RELABEL: &str = "bot,sentence,original_label,explicit_request,reason\n\
    curekart,Chat with an Agent,CHAT_WITH_AGENT,yes,asks for an agent\n\
    curekart,Useless,CHAT_WITH_AGENT,no,complaint\n\
    powerplay11,Need an agent,CHAT_WITH_AN_AGENT,yes,asks for an agent\n";

/// A miniature of every dataset, in the real layout and formats (BOMs included).
fn tiny_data(root: &Path) {
    write(
        root,
        "clinc150/data_full.json",
        r#"{
        "train": [["what is my bank balance", "balance"],
                  ["how much money do i have in my account", "balance"],
                  ["set an alarm for 7am", "alarm"],
                  ["wake me up with an alarm", "alarm"],
                  ["are you a real person or a bot", "are_you_a_bot"],
                  ["is this a real person", "are_you_a_bot"]],
        "val": [["are you a computer", "are_you_a_bot"]],
        "test": [["tell me my bank balance", "balance"], ["set an alarm please", "alarm"],
                 ["am i talking to a real person", "are_you_a_bot"]],
        "oos_train": [], "oos_val": [],
        "oos_test": [["who won the football game", "oos"]]
    }"#,
    );
    write(
        root,
        "bitext/bitext_llm_training_sample_4514.csv",
        "instruction,intent,response\n\
         Duplicate text!,track_order,Track your order under Order History.\n\
         track my order please,track_order,Track your order under Order History.\n\
         how do I get a refund,get_refund,Refunds are requested on the Refunds page.\n\
         I want a refund of my money,get_refund,Refunds are requested on the Refunds page.\n",
    );
    write(
        root,
        "bitext/bitext_customer_service_training_8175.csv",
        "\u{feff}flags,utterance,category,intent\n\
         B,I want to talk to a human,CONTACT,contact_human_agent\n\
         B,where is my order,ORDER,track_order\n\
         B,what is the customer service email,CONTACT,contact_customer_service\n\
         B,duplicate text,ORDER,track_order\n",
    );
    write(
        root,
        "bitext/bitext_utterances_sample_21534.csv",
        "\u{feff}flags,utterance,category,intent\nB,get me an agent,CONTACT,contact_human_agent\n",
    );
    let train =
        "sentence,label\nI want to order a product,ORDER_TAKING\nchat with agent,CHAT_WITH_AGENT\n";
    let test = "sentence,label\norder a product,ORDER_TAKING\nHy,NO_NODES_DETECTED\n";
    for version in ["v1", "v2"] {
        for bot in ["sofmattress", "curekart", "powerplay11"] {
            write(
                root,
                &format!("hint3/{version}/train/{bot}_train.csv"),
                train,
            );
            write(root, &format!("hint3/{version}/test/{bot}_test.csv"), test);
        }
    }
    write(
        root,
        "hint3/v2/test/curekart_test.csv",
        "sentence,label\nChat with an Agent,CHAT_WITH_AGENT\nUseless,CHAT_WITH_AGENT\n\
         Order my product,ORDER_TAKING\nHy,NO_NODES_DETECTED\n",
    );
    write(
        root,
        "hint3/v2/test/powerplay11_test.csv",
        "sentence,label\nNeed an agent,CHAT_WITH_AN_AGENT\n",
    );
    for (split, texts, labels) in [
        (
            "train",
            "my card has not arrived\nwhat is the exchange rate\n",
            "card_arrival\nexchange_rate\n",
        ),
        ("test", "when will my card arrive\n", "card_arrival\n"),
        ("id-oos/test", "how do i close my account\n", "oos\n"),
        ("ood-oos/test", "play some jazz music\n", "oos\n"),
        ("valid", "has my card arrived yet\n", "card_arrival\n"),
        ("id-oos/valid", "how do i close my account\n", "oos\n"),
        ("ood-oos/valid", "book a table for two\n", "oos\n"),
    ] {
        write(root, &format!("banking77-oos/{split}/seq.in"), texts);
        write(root, &format!("banking77-oos/{split}/label"), labels);
    }
    write(
        root,
        "stackfaq/faqs.jsonl",
        "{\"faq_id\": 0, \"question\": \"Strikethrough with GitHub Markdown\", \"answer\": \"Use tildes.\"}\n\
         {\"faq_id\": 1, \"question\": \"How do I delete my Facebook account?\", \"answer\": \"Go to settings.\"}\n",
    );
    write(
        root,
        "stackfaq/queries.jsonl",
        "{\"query_id\": \"0-0\", \"query\": \"strikethrough on github\", \"faq_id\": 0, \"group\": \"A\"}\n\
         {\"query_id\": \"1-0\", \"query\": \"removing my facebook account\", \"faq_id\": 1, \"group\": \"B\"}\n",
    );
    write(
        root,
        "covidfaq/faqs.jsonl",
        "{\"faq_id\": \"1\", \"question\": \"What is COVID-19?\", \"answer\": \"A disease caused by a new virus.\"}\n\
         {\"faq_id\": \"2\", \"question\": \"How does the virus spread?\", \"answer\": \"Through droplets.\"}\n",
    );
    write(
        root,
        "covidfaq/queries.jsonl",
        "{\"query_id\": \"9\", \"query\": \"how is the virus spread\", \"faq_ids\": [\"2\", \"1\"]}\n\
         {\"query_id\": \"10\", \"query\": \"what is covid\", \"faq_ids\": [\"1\"]}\n\
         {\"query_id\": \"11\", \"query\": \"what is covid\", \"faq_ids\": [\"2\"]}\n",
    );
}

fn row<'a>(rows: &'a [Row], dataset_part: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.dataset.contains(dataset_part))
        .unwrap_or_else(|| panic!("no row for {dataset_part:?} in {rows:#?}"))
}

#[test]
fn the_evaluation_scores_every_dataset_of_a_tiny_folder() {
    let dir = tempfile::tempdir().unwrap();
    tiny_data(dir.path());
    let report = evaluate(dir.path(), RELABEL, &ProgressBar::hidden()).unwrap();
    let rows = &report.rows;
    // 3 Bitext + 2 HINT3 detection + 4 multilingual checks + 6 HINT3 KB (twice) + CLINC150 +
    // BANKING77-OOS + 2 KB sizes + 2 FAQ + COVID's distinct texts.
    assert_eq!(rows.len(), 28, "{rows:#?}");

    // The duplicate of a training-file text is dropped, the BOM does not hide the header, and
    // only the CLINC150 test split's "are you a bot?" questions are added (train and val are
    // the detector's training and unused material).
    let bitext = row(
        rows,
        "Bitext 8,175 (test) deduped against the training files 4→3 rows + 1 CLINC test \
         are_you_a_bot; pos = human_agent",
    );
    assert!(bitext.result.starts_with("P 1.000 · R 1.000"), "{bitext:?}");
    assert_eq!(bitext.met, Some(true));
    // Counting the contact-details question as a positive costs recall.
    let service = row(rows, "are_you_a_bot; pos = + customer_service");
    assert!(
        service.result.starts_with("P 1.000 · R 0.500"),
        "{service:?}"
    );

    // "Useless" is an agent label but not a request: the relabelling makes recall whole.
    let raw = row(rows, "CHAT_WITH_(AN_)AGENT labels");
    assert!(raw.result.starts_with("P 1.000 · R 0.667"), "{raw:?}");
    let relabelled = row(rows, "relabelled by hand");
    assert!(
        relabelled.result.starts_with("P 1.000 · R 1.000"),
        "{relabelled:?}"
    );

    // The hand-written checks are compiled in, so they are scored whatever the folder holds.
    for (name, n) in [
        ("hand-written multilingual check, held out", "180 ("),
        ("second hand-written multilingual check", "168 ("),
        ("third hand-written multilingual check", "159 ("),
    ] {
        let check = row(rows, name);
        assert!(check.n.starts_with(n), "{check:?}");
        assert!(
            check.result.contains("right per language: en "),
            "{check:?}"
        );
    }

    let clinc = row(rows, "CLINC150");
    assert_eq!(clinc.result, "in-scope acc 100.0 · OOS recall 100.0");
    assert_eq!(clinc.met, Some(true));

    let hint3 = row(rows, "HINT3 v1 sofmattress");
    assert_eq!(
        hint3.result,
        "in-scope acc 100.0 · OOS recall 100.0 · MCC 1.00 (binary 1.00)"
    );
    assert_eq!(hint3.met, Some(true));

    let banking = row(rows, "BANKING77-OOS");
    assert!(
        banking.result.starts_with("in-scope acc 100.0"),
        "{banking:?}"
    );

    // The size check: the same queries on the small KB, and on the KB padded with a
    // distractor made of the one Bitext utterance.
    let small = row(rows, "CLINC150 with a KB of 3 documents");
    assert_eq!(small.result, "in-scope acc 100.0 · OOS recall 100.0");
    let large = row(rows, "CLINC150 with a KB of 4 documents");
    assert!(large.result.starts_with("in-scope acc 100.0"), "{large:?}");

    let stack = row(rows, "StackFAQ");
    assert!(
        stack
            .result
            .starts_with("P@1 1.000 · MRR 1.000 · MAP 1.000"),
        "{stack:?}"
    );
    // Row by row, one text labelled with two FAQs can be right only once: "what is covid"
    // finds FAQ 1 and nothing else, so its copy labelled 2 scores nothing.
    let covid = row(rows, "COVID FAQ (KB: question + answer; all queries)");
    assert!(
        covid
            .result
            .starts_with("P@1 0.667 · MRR 0.667 · MAP 0.667"),
        "{covid:?}"
    );
    // Each text once with every FAQ its copies name, as the anchor counts: both texts have a
    // relevant FAQ first; "what is covid" finds one of its two, so its precision is half.
    let texts = row(
        rows,
        "COVID FAQ (KB: question + answer; each distinct query text once",
    );
    assert_eq!(texts.n, "2 query texts, 2 FAQs");
    assert!(
        texts
            .result
            .starts_with("P@1 1.000 · MRR 1.000 · MAP 0.750"),
        "{texts:?}"
    );

    assert_eq!(report.latencies.len(), 6 + 1 + 1 + 2 + 2);
    assert!(report.latencies.iter().all(|l| l.searches > 0));
    // Every detector decision is timed too.
    assert!(!report.detector.is_empty());
}

#[test]
fn a_missing_data_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = evaluate(&dir.path().join("nope"), RELABEL, &ProgressBar::hidden()).unwrap_err();
    assert!(matches!(err, EvalError::NoData(_)));
    assert!(err.to_string().contains("BATON_EVAL_DATA"), "{err}");
}

#[test]
fn an_agent_row_missing_from_the_relabelling_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    tiny_data(dir.path());
    let partial = RELABEL.lines().take(3).collect::<Vec<_>>().join("\n");
    let err = evaluate(dir.path(), &partial, &ProgressBar::hidden()).unwrap_err();
    assert!(err.to_string().contains("Need an agent"), "{err}");
}

#[test]
fn the_compiled_in_relabelling_is_well_formed() {
    let map = super::hint3::parse_relabel(super::HINT3_RELABEL, std::path::Path::new("x")).unwrap();
    // 14 curekart + 38 powerplay11 agent-labelled rows in the v2 test files.
    assert_eq!(map.len(), 52);
    assert!(map.values().any(|explicit| *explicit));
}

#[test]
fn the_threshold_sweep_reads_only_dev_splits_and_moves_monotonically() {
    let dir = tempfile::tempdir().unwrap();
    tiny_data(dir.path());
    let table = super::sweep::run(dir.path()).unwrap();
    let (dev, hint3) = table.split_once("\nHINT3 v1 train").unwrap();
    let rows: Vec<&str> = dev.lines().skip(2).collect();
    assert_eq!(rows.len(), 10, "{table}");
    // The HINT3 cross-validation: one row per threshold tried, an MCC per bot.
    let cv: Vec<&str> = hint3.lines().filter(|l| l.starts_with("| 0.")).collect();
    assert_eq!(cv.len(), super::hint3::HINT3_THRESHOLDS.len(), "{table}");
    assert!(cv.iter().all(|r| r.split('|').count() == 6), "{table}");
    // Out-of-domain recall can only grow as the threshold rises.
    let ood: Vec<f64> = rows
        .iter()
        .map(|r| r.split('|').nth(6).unwrap().trim().parse().unwrap())
        .collect();
    assert!(ood.windows(2).all(|w| w[0] <= w[1]), "{table}");
    // The FAQ dev sets: StackFAQ's group A only, and the Bitext training file as an FAQ whose
    // questions are not also queries; both small enough here to rank every query right.
    let (_, faq) = table.split_once("FAQ retrieval on dev material").unwrap();
    assert!(
        faq.contains("| StackFAQ group A | 2 | 1 | 1.000 | 1.000 |"),
        "{table}"
    );
    assert!(
        faq.contains("| Bitext FAQ (training file) | 2 | 2 | 1.000 | 1.000 |"),
        "{table}"
    );
}

#[test]
fn the_hint3_cross_validation_holds_out_every_intent_once_and_a_fifth_of_the_rest() {
    use super::hint3::{OOS, cross_validate, cv_threshold};
    // Five intents of five utterances each, one fold per intent.
    let words = ["refund", "delivery", "password", "invoice", "warranty"];
    let train: Vec<(String, String)> = words
        .iter()
        .flat_map(|w| (0..5).map(move |j| (format!("question {j} about my {w}"), w.to_string())))
        .collect();
    let judged = cross_validate(&train).unwrap();
    // Every utterance once as out of scope; in each fold, one utterance of each of the
    // other four intents as an in-scope query.
    assert_eq!(judged.iter().filter(|q| q.truth == OOS).count(), 25);
    assert_eq!(judged.iter().filter(|q| q.truth != OOS).count(), 5 * 4);
    // In-scope queries find their own intent, which the KB still holds.
    assert!(
        judged
            .iter()
            .filter(|q| q.truth != OOS)
            .all(|q| q.best.as_deref() == Some(q.truth.as_str()))
    );
    let t = cv_threshold(&judged);
    assert!(super::hint3::HINT3_THRESHOLDS.contains(&t));
}
