use super::*;

fn terms_of(query: &str) -> Vec<String> {
    terms(query).unwrap()
}

#[test]
fn a_search_is_its_words_and_quoted_phrases_folded() {
    assert_eq!(terms_of("  Crème   BRÛLÉE "), ["creme", "brulee"]);
    assert_eq!(
        terms_of("refund \"Broken   blender\" 1234"),
        ["refund", "broken blender", "1234"]
    );
    // A quote left open runs to the end; an empty pair is nothing; a repeat counts once.
    assert_eq!(terms_of("late \"order 77"), ["late", "order 77"]);
    assert_eq!(terms_of("\"\" late LATE"), ["late"]);
    assert!(terms_of(" \t ").is_empty());
    // LIKE's wildcards are text like any other here (the store escapes them).
    assert_eq!(terms_of("100% a_b"), ["100%", "a_b"]);
    // A phone's typographic quotes are quotes; control characters are nothing.
    assert_eq!(terms_of("“Order 77” «late»"), ["order 77", "late"]);
    assert_eq!(terms_of("a\u{0}b\tc"), ["a", "b", "c"]);
}

#[test]
fn a_search_is_bounded() {
    assert_eq!(terms_of(&"w ".repeat(8)).len(), 1);
    let nine = (1..=9)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let err = terms(&nine).unwrap_err();
    assert_eq!(
        (err.field, err.problem.as_str()),
        ("q", "at most 8 words or phrases")
    );
    assert!(terms(&"x".repeat(MAX_QUERY_CHARS)).is_ok());
    let err = terms(&"x".repeat(MAX_QUERY_CHARS + 1)).unwrap_err();
    assert_eq!(err.problem, "at most 200 characters");
}

#[test]
fn the_search_text_is_folded_on_one_line() {
    assert_eq!(search_text("My  CRÈME\nbrûlée\t"), "my creme brulee");
    let stored = search_text("My crème\nbrûlée");
    assert!(
        terms_of("\"creme brulee\"")
            .iter()
            .all(|t| stored.contains(t.as_str()))
    );
}

fn marked(excerpt: &Excerpt) -> String {
    excerpt
        .parts()
        .into_iter()
        .map(|(text, hit)| {
            if hit {
                format!("[{text}]")
            } else {
                text.to_owned()
            }
        })
        .collect()
}

#[test]
fn a_short_message_is_shown_whole_with_its_terms_marked() {
    let terms = terms_of("blender \"order 12\"");
    let shown = excerpt("My Blender\narrived broken, ORDER  1234.", &terms);
    assert_eq!(shown.text, "My Blender arrived broken, ORDER 1234.");
    assert_eq!(marked(&shown), "My [Blender] arrived broken, [ORDER 12]34.");
    // Found without its accents, marked with them; overlapping finds are one mark.
    let shown = excerpt("La crème brûlée", &terms_of("creme rem brul"));
    assert_eq!(marked(&shown), "La [crème] [brûl]ée");
    // Nothing found (the customer's name matched, say): the start.
    assert_eq!(
        marked(&excerpt("Hello there", &terms_of("zebra"))),
        "Hello there"
    );
}

#[test]
fn a_long_message_is_cut_around_the_first_term_between_words() {
    let words: Vec<String> = (0..100).map(|i| format!("w{i:02}")).collect();
    let text = words.join(" ");
    let shown = excerpt(&text, &terms_of("w50"));
    assert!(shown.text.starts_with("…w"), "{}", shown.text);
    assert!(shown.text.ends_with('…'), "{}", shown.text);
    let inner = shown.text.trim_matches('…');
    // Whole words only, the term well inside, about the length asked.
    assert!(inner.split(' ').all(|w| w.len() == 3), "{inner}");
    let at = inner.find("w50").unwrap();
    assert!((30..=LEAD_CHARS).contains(&at), "{at}");
    assert!((EXCERPT_CHARS - 4..=EXCERPT_CHARS).contains(&inner.len()));
    assert_eq!(&shown.text[shown.hits[0].clone()], "w50");
    // Near the start: no cut before; near the end: the end shown whole.
    let first = excerpt(&text, &terms_of("w01"));
    assert!(first.text.starts_with("w00 w01") && first.text.ends_with('…'));
    let last = excerpt(&text, &terms_of("w99"));
    assert!(last.text.starts_with('…') && last.text.ends_with("w98 w99"));
    assert_eq!(&last.text[last.hits[0].clone()], "w99");
}

#[test]
fn marks_stay_on_character_boundaries_in_any_script() {
    let text = format!("{} Ёлкин заказ №77 ﬁle", "привет ".repeat(40));
    let shown = excerpt(&text, &terms_of("елкин file"));
    assert_eq!(
        shown
            .parts()
            .into_iter()
            .filter(|p| p.1)
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        ["Ёлкин", "ﬁle"]
    );
    assert!(shown.text.ends_with("№77 ﬁle") && shown.text.starts_with('…'));
    // A Korean word written in its parts (as some systems store file names) reads as the
    // syllables the search folded it into.
    let parts = "\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}";
    let shown = excerpt(&format!("파일 {parts} 문서"), &terms_of("한글"));
    assert_eq!(shown.parts()[1], (parts, true));
}
