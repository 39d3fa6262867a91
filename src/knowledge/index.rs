//! A tantivy index over one bot's passages: BM25 with stemming, plus a relevance figure that
//! means the same whatever the size of the knowledge base — the share of the query's weight
//! (IDF) that the passage covers.

use std::collections::HashSet;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use crate::domain::KbLanguage;
use crate::store::ChunkRecord;

const ANALYZER: &str = "baton";

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    document_id: Field,
    title: Field,
    heading: Field,
    body: Field,
    /// Title, heading and body together: the field document frequencies come from.
    all: Field,
}

/// One bot's passages, searchable.
pub struct BotIndex {
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    /// The language the analyzer was built for; a bot whose language changes gets a new index.
    language: KbLanguage,
}

/// A passage found for a query.
#[derive(Debug, Clone)]
pub struct Hit {
    pub chunk_id: String,
    pub document_id: String,
    pub title: String,
    pub heading: String,
    pub body: String,
    /// The raw BM25 score; only comparable within one query.
    pub score: f32,
    /// The IDF-weighted share of the query's terms found in the passage, from 0 to 1.
    pub relevance: f32,
}

/// Words that carry no topic: function words, and the question and politeness words customers
/// wrap every question in ("how do I…", "can you please…"). Without them, "how" would weigh as
/// much as "refund" in a query.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "done",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "her",
    "here",
    "hers",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "let",
    "like",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "no",
    "not",
    "now",
    "of",
    "on",
    "one",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "please",
    "pls",
    "really",
    "she",
    "something",
    "anything",
    "thing",
    "things",
    "stuff",
    "way",
    "ok",
    "okay",
    "also",
    "still",
    "ever",
    "yes",
    "hey",
    "should",
    "so",
    "some",
    "such",
    "tell",
    "thank",
    "thanks",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "too",
    "u",
    "up",
    "us",
    "very",
    "want",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "long",
    "many",
    "often",
    "soon",
    "able",
    "possible",
];

/// English keeps the analyzer tuned here; other languages are analysed as in
/// [`super::analysis`].
fn analyzer(language: KbLanguage) -> TextAnalyzer {
    if language != KbLanguage::English {
        return super::analysis::analyzer(language);
    }
    let stopwords = StopWordFilter::remove(STOP_WORDS.iter().map(|w| (*w).to_owned()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stopwords)
        .filter(Stemmer::new(Language::English))
        .build()
}

impl BotIndex {
    pub fn build(chunks: &[ChunkRecord], language: KbLanguage) -> tantivy::Result<BotIndex> {
        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            chunk_id: builder.add_text_field("chunk_id", STRING | STORED),
            document_id: builder.add_text_field("document_id", STRING | STORED),
            title: builder.add_text_field("title", text.clone().set_stored()),
            heading: builder.add_text_field("heading", text.clone().set_stored()),
            body: builder.add_text_field("body", text.clone().set_stored()),
            all: builder.add_text_field("all", text),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(ANALYZER, analyzer(language));
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        for chunk in chunks {
            writer.add_document(doc!(
                fields.chunk_id => chunk.id.as_str(),
                fields.document_id => chunk.document_id.as_str(),
                fields.title => chunk.title.as_str(),
                fields.heading => chunk.heading.as_str(),
                fields.body => chunk.body.as_str(),
                fields.all => format!("{}\n{}\n{}", chunk.title, chunk.heading, chunk.body),
            ))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        reader.reload()?;
        Ok(BotIndex {
            reader,
            fields,
            analyzer: analyzer(language),
            language,
        })
    }

    pub fn language(&self) -> KbLanguage {
        self.language
    }

    /// The analysed terms of a text: lower-cased, folded, stemmed, without stop words.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            let term = stream.token().text.clone();
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        terms
    }

    pub fn search(&self, query: &str, limit: usize) -> tantivy::Result<Vec<Hit>> {
        let terms = self.terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut weights = Vec::with_capacity(terms.len());
        for term in &terms {
            let df = searcher.doc_freq(&Term::from_field_text(self.fields.all, term))? as f32;
            // Numbers (order ids, quantities) are facts, not topics: they may match, but a
            // passage is not less relevant for lacking the customer's order number.
            let weight = if term.chars().all(|c| c.is_ascii_digit()) {
                0.0
            } else {
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            };
            weights.push(weight);
            for (field, boost) in [
                (self.fields.title, 1.5),
                (self.fields.heading, 1.5),
                (self.fields.body, 1.0),
            ] {
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), boost)),
                ));
            }
        }
        let total_weight: f32 = weights.iter().sum();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let get = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let (title, heading, body) = (
                get(self.fields.title),
                get(self.fields.heading),
                get(self.fields.body),
            );
            let present: HashSet<String> = self
                .terms(&format!("{title}\n{heading}\n{body}"))
                .into_iter()
                .collect();
            let covered: f32 = terms
                .iter()
                .zip(&weights)
                .filter(|(term, _)| present.contains(*term))
                .map(|(_, weight)| weight)
                .sum();
            hits.push(Hit {
                chunk_id: get(self.fields.chunk_id),
                document_id: get(self.fields.document_id),
                title,
                heading,
                body,
                score,
                relevance: if total_weight > 0.0 {
                    covered / total_weight
                } else {
                    0.0
                },
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod language_tests {
    //! Knowledge bases in other languages, searched in their own language: each test asks in
    //! a different word form (or spelling) from the one the passage uses.

    use super::*;
    use crate::bot::builtin::RELEVANCE_THRESHOLD;

    fn index(language: KbLanguage, passages: &[(&str, &str, &str)]) -> BotIndex {
        let chunks: Vec<ChunkRecord> = passages
            .iter()
            .enumerate()
            .map(|(i, (title, heading, body))| ChunkRecord {
                id: (i + 1).to_string(),
                document_id: format!("doc-{}", i + 1),
                title: (*title).into(),
                heading: (*heading).into(),
                body: (*body).into(),
            })
            .collect();
        BotIndex::build(&chunks, language).unwrap()
    }

    /// The passage a question finds, which must be relevant enough to answer from.
    fn answers(index: &BotIndex, question: &str, chunk_id: &str) {
        let hits = index.search(question, 3).unwrap();
        let best = hits
            .first()
            .unwrap_or_else(|| panic!("nothing found for {question:?}"));
        assert_eq!(best.chunk_id, chunk_id, "{question:?}: {hits:?}");
        assert!(
            best.relevance >= RELEVANCE_THRESHOLD,
            "{question:?} is not answered: {hits:?}"
        );
    }

    #[test]
    fn english_keeps_its_own_stop_words_and_stemmer() {
        let index = index(KbLanguage::English, &[]);
        assert_eq!(index.language(), KbLanguage::English);
        assert_eq!(index.terms("How do I get my refunds, please?"), ["refund"]);
        assert_eq!(index.terms("Atención"), ["atencion"]);
    }

    #[test]
    fn spanish_singular_and_plural_find_each_other_with_or_without_accents() {
        let index = index(
            KbLanguage::Spanish,
            &[
                (
                    "Envíos",
                    "Plazos de entrega",
                    "El envío estándar tarda de 3 a 5 días hábiles. El envío exprés llega al día siguiente.",
                ),
                (
                    "Devoluciones",
                    "Política de devoluciones",
                    "Puedes devolver los productos sin usar en un plazo de 30 días. Los reembolsos se hacen al método de pago original.",
                ),
                (
                    "Pagos",
                    "Tarjetas aceptadas",
                    "Aceptamos Visa, Mastercard y PayPal.",
                ),
            ],
        );
        answers(&index, "reembolso", "2");
        answers(&index, "¿Cuánto tarda el envio?", "1");
        answers(&index, "Hola, quiero hacer una devolución por favor", "2");
        answers(&index, "tarjeta", "3");
        assert_eq!(index.terms("reembolsos"), index.terms("Reembolso"));
    }

    #[test]
    fn portuguese_accents_fold_so_unaccented_questions_match() {
        let index = index(
            KbLanguage::Portuguese,
            &[
                (
                    "Entrega",
                    "Prazos",
                    "A entrega padrão leva de 3 a 5 dias úteis.",
                ),
                (
                    "Devoluções",
                    "Política de devolução",
                    "Você pode devolver produtos não usados em até 30 dias. O reembolso é feito no cartão de crédito.",
                ),
            ],
        );
        answers(&index, "devolucoes", "2");
        answers(&index, "reembolso no cartao de credito", "2");
        answers(&index, "oi, qual o prazo de entrega padrao?", "1");
    }

    #[test]
    fn german_inflected_nouns_and_umlaut_spellings_match() {
        let index = index(
            KbLanguage::German,
            &[
                (
                    "Versand",
                    "Lieferzeiten",
                    "Die Lieferung dauert zwei bis drei Werktage. Für Bestellungen über 50 Euro ist der Versand kostenlos.",
                ),
                (
                    "Rückgabe",
                    "Rückerstattungen",
                    "Rückerstattungen werden innerhalb von fünf Tagen auf das ursprüngliche Zahlungsmittel gebucht.",
                ),
            ],
        );
        answers(&index, "Rückerstattung", "2");
        answers(&index, "Rueckerstattung Zahlungsmittels", "2");
        answers(&index, "Lieferungen", "1");
        answers(&index, "kostenloser Versand für meine Bestellung?", "1");
    }

    #[test]
    fn russian_case_endings_match() {
        let index = index(
            KbLanguage::Russian,
            &[
                (
                    "Доставка",
                    "Сроки доставки",
                    "Доставка по Москве занимает один день.",
                ),
                (
                    "Возврат",
                    "Возврат товара",
                    "Возврат товара возможен в течение 14 дней. Деньги вернём на карту.",
                ),
            ],
        );
        answers(&index, "доставку", "1");
        answers(&index, "Здравствуйте, подскажите про возврате товаров", "2");
        answers(&index, "деньгами на карте", "2");
    }

    #[test]
    fn arabic_articles_prefixes_and_marks_do_not_get_in_the_way() {
        let index = index(
            KbLanguage::Arabic,
            &[
                (
                    "الإرجاع",
                    "سياسة الإرجاع",
                    "يمكنك إرجاع المنتجات خلال 14 يومًا من الاستلام.",
                ),
                ("الشحن", "تكلفة الشحن", "الشحن مجاني للطلبات فوق 200 ريال."),
            ],
        );
        answers(&index, "كيف يمكنني ارجاع منتج؟", "1");
        answers(&index, "والشحن", "2");
        answers(&index, "الشَّحْن", "2");
    }

    #[test]
    fn none_folds_and_lowercases_but_keeps_words_whole() {
        let index = index(
            KbLanguage::None,
            &[
                (
                    "Pengembalian dana",
                    "Proses",
                    "Pengembalian dana diproses dalam 5 hari kerja.",
                ),
                (
                    "Pengiriman",
                    "Ongkos kirim",
                    "Pengiriman gratis untuk pesanan di atas Rp100.000.",
                ),
                ("भुगतान", "कार्ड", "हम सभी अंतर्राष्ट्रीय कार्ड स्वीकार करते हैं।"),
            ],
        );
        assert_eq!(index.terms("Pengembalian DANA"), ["pengembalian", "dana"]);
        answers(&index, "pengembalian dana", "1");
        answers(&index, "ongkos kirim pengiriman", "2");
        answers(&index, "अंतर्राष्ट्रीय कार्ड", "3");
    }
}
