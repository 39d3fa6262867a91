//! Is this message a request to talk to a person? A trained classifier decides: a logistic
//! regression over character n-grams and words of the normalised text ([`features`]), with
//! weights made by `baton train-detector` from the public training splits and hand-written
//! examples in the languages WhatsApp customers write in: English, Spanish, Portuguese,
//! French, German, Italian, Indonesian, Hindi (romanised and Devanagari), Arabic, Turkish and
//! Russian ([`model`], `data/detector/`, docs/EVALUATION.md).
//!
//! A request asks for someone human (a person, agent, atendente, оператор…) in any phrasing,
//! with typos, or inside a longer complaint. Questions *about* people — "are you a bot?", "what
//! is your support email?", "I spoke to an agent yesterday" — are not requests; the training
//! data holds many of them in every language, so the model learns the difference rather than
//! a list of exceptions. One rule runs after it: a message, or a clause, that only asks what
//! the bot is ([`identity`]) is never a request, however it names a person.

pub mod features;
pub mod identity;
pub mod model;

use std::sync::LazyLock;

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, TextAnalyzer, WhitespaceTokenizer};

use model::Model;

/// The shipped weights, made by `baton train-detector` (compiled in, parsed on first use).
pub const MODEL_TSV: &str = include_str!("../../../data/detector/model.tsv");

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    Model::parse(MODEL_TSV).expect("data/detector/model.tsv is made by baton train-detector")
});

/// The shipped model.
pub fn model() -> &'static Model {
    &MODEL
}

/// Whether the customer is asking to be handed to a person: the model's probability for the
/// message, or for one of its clauses, reaches the shipped threshold. A message with nothing
/// to read (only punctuation or emoji) never is, and neither is a piece that only asks what
/// the bot is ([`identity::only_questions`]: "are you a real person?" names a person without
/// asking for one, and the bot answers it itself), while "are you a bot? get me a person"
/// still is. The threshold is the model's own, chosen on the model alone.
pub fn is_human_request(text: &str) -> bool {
    MODEL.probability_of_pieces(text, |piece| !identity::only_questions(piece)) >= MODEL.threshold
}

/// A message reduced to lowercase, accent-folded words separated by single spaces. Letters of
/// every script stay (with Devanagari and Arabic marks); punctuation becomes a word break.
pub fn normalise(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| match c {
            '’' | '‘' | '`' => '\'',
            // Arabic alef variants and teh marbuta are written interchangeably.
            'أ' | 'إ' | 'آ' => 'ا',
            'ة' => 'ه',
            'ـ' => ' ',
            c if c.is_alphanumeric() || c == '\'' || c == '-' => c,
            c if ('\u{0900}'..='\u{097F}').contains(&c)
                || ('\u{064B}'..='\u{065F}').contains(&c) =>
            {
                c
            }
            _ => ' ',
        })
        .collect();
    let mut analyzer = TextAnalyzer::builder(WhitespaceTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(&spaced);
    let mut words = Vec::new();
    while stream.advance() {
        // Turkish dotless ı folds to i, as customers type it either way.
        words.push(stream.token().text.replace('ı', "i"));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_requests_are_detected() {
        for text in [
            "I want to talk to a person",
            "can I speak to an agent?",
            "connect me to support team please",
            "get me a human",
            "Agent!",
            "human please",
            "this is useless, get me a real person",
            "I’d like to speak with a representative",
            "is there someone I can talk to about my order?",
            "TRANSFER ME TO CUSTOMER SERVICE",
            "i need to chat with a live agent now",
        ] {
            assert!(is_human_request(text), "{text:?} should be a request");
        }
    }

    #[test]
    fn requests_in_the_languages_of_whatsapp_customers_are_detected() {
        for text in [
            "Quiero hablar con una persona",
            "¿Puedo hablar con un agente?",
            "pásame con un asesor por favor",
            "Quero falar com um atendente",
            "preciso falar com uma pessoa real 😡",
            "Je veux parler à un conseiller",
            "j'aimerais parler à quelqu'un du service client",
            "Ich möchte mit einem Mitarbeiter sprechen",
            "kann ich bitte mit einem Menschen reden",
            "Vorrei parlare con un operatore",
            "voglio parlare con una persona",
            "saya mau bicara dengan cs",
            "tolong hubungkan saya dengan agen",
            "mujhe agent se baat karni hai",
            "kisi insaan se baat karao",
            "मुझे एजेंट से बात करनी है",
            "أريد التحدث مع موظف",
            "ممكن اتكلم مع خدمة العملاء",
            "Müşteri temsilcisiyle görüşmek istiyorum",
            "bir insanla konuşmak istiyorum",
            "Хочу поговорить с оператором",
            "соедините меня с живым человеком",
            "humano por favor",
            "оператор",
        ] {
            assert!(is_human_request(text), "{text:?} should be a request");
        }
    }

    #[test]
    fn questions_about_people_are_not_requests() {
        for text in [
            "are you a human?",
            "Are you a bot?",
            "what's your support email?",
            "what is your customer service phone number?",
            "my agent code doesn't work",
            "I spoke to an agent yesterday and they said it was shipped",
            "how long does shipping take?",
            "do people usually return this item?",
            "¿eres un bot?",
            "cuál es el correo de atención al cliente",
            "você é um robô?",
            "quel est le numéro de téléphone du service client",
            "bist du ein Mensch?",
            "Ты бот?",
            "какой номер у оператора",
            "هل انت روبوت",
            "this is insane, I want a refund",
            "I'm the admin of my account and I want to change the email",
            "quero comprar um presente para outra pessoa",
            "quiero saber si otra persona puede recoger mi pedido",
            "saya mau pesan untuk 2 orang",
            "",
        ] {
            assert!(!is_human_request(text), "{text:?} should not be a request");
        }
    }

    #[test]
    fn identity_questions_are_told_apart() {
        for text in [
            "are you a bot?",
            "Are you human",
            "am I talking to a real person?",
            "is this automated?",
            "¿eres un bot?",
            "Ты бот?",
        ] {
            assert!(identity::language(text).is_some(), "{text:?}");
        }
        for text in [
            "I want a human",
            "are you open on sunday?",
            "is this a good jacket",
        ] {
            assert!(identity::language(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn asking_whether_the_bot_is_a_person_is_not_asking_for_one() {
        for text in [
            "¿eres un agente humano?",
            "você é um atendente humano?",
            "vous êtes un conseiller humain ?",
            "sei un operatore vero?",
            "anda agen manusia?",
            "insan temsilci misiniz?",
            "are you a human agent?",
            "ты живой оператор?",
        ] {
            assert!(
                model().is_request_message(text),
                "{text:?}: the model alone reads it as a request, so this test tests the rule"
            );
            assert!(!is_human_request(text), "{text:?} should not be a request");
        }
        for text in [
            "are you a bot? get me a person",
            "are you a bot i want a human agent",
            "¿eres un bot? quiero hablar con una persona",
            "are you an agent? i need a human agent",
            "ты бот? позовите оператора",
            // As often "can I talk to a human?" as "am I talking to one?".
            "falo com um humano?",
            "saya bicara dengan manusia?",
        ] {
            assert!(is_human_request(text), "{text:?} should be a request");
        }
    }

    #[test]
    fn typos_and_other_forms_of_the_verbs_are_understood() {
        for text in [
            "Chat with agrnt",
            "I'm trying to speak wiht an assistant",
            "help contacting an agent",
            "can you transfer to me an agent?",
            "need help talking to somebody",
            "assistance tospeak with an operator",
            "uare not helpful at all need help to speak with someody",
            "I try to ocntact an agent",
            "should I chat with an expert",
        ] {
            assert!(is_human_request(text), "{text:?} should be a request");
        }
        for text in [
            "someone stole my password, I need help recovering it",
            "I want to know if that person can pick up my order",
            "if you are a real person tell me",
        ] {
            assert!(!is_human_request(text), "{text:?} should not be a request");
        }
        // A "correction" of an everyday word changes nothing without a person named nearby.
        assert!(!is_human_request(
            "I want that steak medium rare, can you note it on my order"
        ));
    }

    #[test]
    fn text_is_folded_and_split_on_punctuation() {
        assert_eq!(normalise("Pásame CON un Asesor!!"), "pasame con un asesor");
        assert_eq!(normalise("Müşteri temsilcisi"), "musteri temsilcisi");
        assert_eq!(normalise("أريد"), "اريد");
    }
}
