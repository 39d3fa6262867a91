//! Searching the handoffs by what was said in them: the terms of a search as typed, and the
//! excerpt of a message that shows where they are.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::ParseError;
use super::text::search_fold;

/// Terms in one search: each is one more condition on every handoff.
pub const MAX_TERMS: usize = 8;

/// Characters in one search, as typed.
pub const MAX_QUERY_CHARS: usize = 200;

/// About how many characters an excerpt shows.
const EXCERPT_CHARS: usize = 160;

/// How much of what comes before the first term an excerpt keeps, at most.
const LEAD_CHARS: usize = 50;

/// The terms of a search: its words, or "phrases in quotes" (typographic quotes too), each
/// folded as search text is ([`search_fold`]), control characters left out, duplicates once.
/// Every term must be found for a handoff to match. An empty or blank search has none.
pub fn terms(query: &str) -> Result<Vec<String>, ParseError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ParseError::new(
            "q",
            format!("at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let mut terms: Vec<String> = Vec::new();
    let query: String = query
        .chars()
        .map(|c| match c {
            '“' | '”' | '„' | '«' | '»' => '"',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    // Outside quotes the text splits at spaces; inside, it is one term. A quote left open
    // runs to the end.
    for (i, part) in query.split('"').enumerate() {
        let quoted = i % 2 == 1;
        let pieces: Vec<&str> = if quoted {
            vec![part]
        } else {
            part.split_whitespace().collect()
        };
        for piece in pieces {
            let term = search_fold(piece)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !term.is_empty() && !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    if terms.len() > MAX_TERMS {
        return Err(ParseError::new(
            "q",
            format!("at most {MAX_TERMS} words or phrases"),
        ));
    }
    Ok(terms)
}

/// What the search looks for terms in: `text` folded ([`search_fold`]), its runs of white
/// space as one space (a phrase is found across a line break). Stored with each message.
pub fn search_text(text: &str) -> String {
    search_fold(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A part of a message around the terms it holds, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    /// Where the terms are in `text` (byte ranges, in order, not overlapping).
    pub hits: Vec<Range<usize>>,
}

impl Excerpt {
    /// The excerpt in pieces, each with whether it is one of the terms: for marking them.
    pub fn parts(&self) -> Vec<(&str, bool)> {
        let mut parts = Vec::new();
        let mut at = 0;
        for hit in &self.hits {
            if hit.start > at {
                parts.push((&self.text[at..hit.start], false));
            }
            parts.push((&self.text[hit.clone()], true));
            at = hit.end;
        }
        if at < self.text.len() {
            parts.push((&self.text[at..], false));
        }
        parts
    }
}

/// At most about [`EXCERPT_CHARS`] characters of `text` (white space made single spaces), from
/// a little before the first of `terms` it holds, cut between words where there is one and
/// marked "…" where cut; with where each term is.
pub fn excerpt(text: &str, terms: &[String]) -> Excerpt {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Characters as a reader sees them: a letter with its marks, a syllable written in parts.
    let chars: Vec<&str> = line.graphemes(true).collect();
    // The folded text, and for each of its bytes the character it came from.
    let mut folded = String::new();
    let mut origin = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        let f = search_fold(c);
        origin.extend(std::iter::repeat_n(i, f.len()));
        folded.push_str(&f);
    }
    // Every place a term is, as character ranges of `chars`, merged where they touch.
    let mut found: Vec<Range<usize>> = terms
        .iter()
        .filter(|t| !t.is_empty())
        .flat_map(|t| {
            folded
                .match_indices(t.as_str())
                .map(|(at, m)| origin[at]..origin[at + m.len() - 1] + 1)
                .collect::<Vec<_>>()
        })
        .collect();
    found.sort_by_key(|r| (r.start, r.end));
    let mut hits: Vec<Range<usize>> = Vec::new();
    for range in found {
        match hits.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => hits.push(range),
        }
    }
    let (start, end) = window(&chars, hits.first().map_or(0, |h| h.start));
    let mut excerpt = Excerpt {
        text: String::new(),
        hits: Vec::new(),
    };
    if start > 0 {
        excerpt.text.push('…');
    }
    // Byte offsets in the excerpt of each character from `start`.
    let mut offsets = Vec::with_capacity(end - start + 1);
    for c in &chars[start..end] {
        offsets.push(excerpt.text.len());
        excerpt.text.push_str(c);
    }
    offsets.push(excerpt.text.len());
    excerpt.hits = hits
        .into_iter()
        .filter(|h| h.start >= start && h.end <= end)
        .map(|h| offsets[h.start - start]..offsets[h.end - start])
        .collect();
    if end < chars.len() {
        excerpt.text.push('…');
    }
    excerpt
}

/// The characters of `chars` to show for a term at `first`: from up to [`LEAD_CHARS`] before
/// it (from the start of a word), up to [`EXCERPT_CHARS`] in all (to the end of a word).
fn window(chars: &[&str], first: usize) -> (usize, usize) {
    if chars.len() <= EXCERPT_CHARS {
        return (0, chars.len());
    }
    let mut start = first.saturating_sub(LEAD_CHARS);
    if start > 0 {
        // After the first space before the cut, unless the term's own word is that long.
        if let Some(space) = chars[start..first].iter().position(|c| *c == " ") {
            start += space + 1;
        }
    }
    // A term near the end shows the end whole.
    start = start.min(chars.len() - EXCERPT_CHARS).min(first);
    let mut end = start + EXCERPT_CHARS;
    if end < chars.len() {
        if let Some(space) = chars[start..end].iter().rposition(|c| *c == " ") {
            if space > EXCERPT_CHARS / 2 {
                end = start + space;
            }
        }
    }
    (start, end)
}

#[cfg(test)]
mod tests;
