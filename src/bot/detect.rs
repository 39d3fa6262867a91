//! Is this message a request to talk to a person? A rule-based detector over normalised text,
//! in the languages WhatsApp customers write in: English, Spanish, Portuguese, French, German,
//! Italian, Indonesian, Hindi (romanised and Devanagari), Arabic, Turkish and Russian.
//!
//! A request names someone human (person, agent, representative, atendente, оператор…)
//! together with a way of asking for them (talk to, connect me, quero falar, поговорить…), or is
//! that name almost alone ("agent!", "humano por favor"). Questions *about* people — "are you
//! a bot?", "what is your support email?", "I spoke to an agent yesterday" — are not requests.
//!
//! Phrases match whole words. A `*` marks an open end: `оператор*` matches "оператором",
//! `*موظف` matches "بموظف"; inflected and agglutinative languages need that.

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, TextAnalyzer, WhitespaceTokenizer};

/// Words and phrases that name a human helper.
const HUMAN: &[&str] = &[
    // English
    "human",
    "humans",
    "person",
    "people",
    "real person",
    "someone",
    "somebody",
    "anyone",
    "agent",
    "agents",
    "live agent",
    "representative",
    "rep",
    "operator",
    "staff",
    "employee",
    "manager",
    "supervisor",
    "customer service",
    "customer support",
    "customer care",
    "support team",
    "your team",
    "the team",
    "live chat",
    "live support",
    "real human",
    "actual human",
    "actual person",
    "advisor",
    "consultant",
    "assistant",
    "expert",
    "human agent",
    "live person",
    // Spanish
    "humano",
    "persona",
    "agente",
    "asesor",
    "asesora",
    "operador",
    "operadora",
    "representante",
    "alguien",
    "persona real",
    "servicio al cliente",
    "atencion al cliente",
    "soporte",
    // Portuguese
    "pessoa",
    "atendente",
    "alguem",
    "pessoa real",
    "suporte",
    "atendimento",
    // French
    "humain",
    "personne",
    "conseiller",
    "conseillere",
    "operateur",
    "operatrice",
    "quelqu'un",
    "quelqu un",
    "service client",
    "vraie personne",
    // German
    "mensch",
    "menschen",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "beraterin",
    "jemand",
    "jemandem",
    "kundenservice",
    "kundendienst",
    // Italian
    "umano",
    "operatore",
    "qualcuno",
    "assistenza",
    "consulente",
    // Indonesian
    "manusia",
    "orang",
    "agen",
    "cs",
    "petugas",
    // Hindi (romanised and Devanagari)
    "insaan",
    "insan",
    "aadmi",
    "vyakti",
    "executive",
    "*इंसान*",
    "*एजेंट*",
    "*व्यक्ति*",
    // Arabic
    "*انسان*",
    "*موظف*",
    "*شخص*",
    "*وكيل*",
    "*ممثل*",
    "*خدمه العملاء*",
    "*الدعم*",
    // Turkish
    "temsilci*",
    "yetkili*",
    "insan",
    "insanla*",
    "insana*",
    "birisi*",
    "biriyle",
    "canli destek",
    "gercek kisi*",
    // Russian
    "человек*",
    "оператор*",
    "сотрудник*",
    "менеджер*",
    "специалист*",
    "консультант*",
    "живой",
    "живым",
];

/// Ways of asking to be put in touch.
const ASK: &[&str] = &[
    // English: the verbs of getting through to someone, in any form ("talking", "contacted")
    "talk*",
    "speak*",
    "chat*",
    "contact*",
    "connect*",
    "transfer*",
    "reach*",
    "direct*",
    "escalat*",
    "get in touch",
    "wanna",
    "want",
    "need",
    "have to",
    "talk to",
    "talk with",
    "speak to",
    "speak with",
    "chat with",
    "chat to",
    "connect me",
    "connect with",
    "transfer me",
    "put me through",
    "put me in touch",
    "get me",
    "give me",
    "let me talk",
    "let me speak",
    "i want",
    "i wanna",
    "i need",
    "i would like",
    "i'd like",
    "id like",
    "can i get",
    "can i have",
    "could i get",
    "may i",
    "escalate",
    "contact a",
    "contact an",
    "contact someone",
    "reach a",
    "reach an",
    "reach someone",
    "is there a",
    "is there an",
    "is there someone",
    "is there anyone",
    "need help from",
    "hand me over",
    "hand over",
    "pass me",
    "route me",
    // Spanish
    "hablar con",
    "quiero hablar",
    "necesito hablar",
    "pasame con",
    "paseme con",
    "comunicame con",
    "comunicarme con",
    "me comunica",
    "puedo hablar",
    "quiero un",
    "quiero una",
    "necesito un",
    "necesito una",
    "contactar con",
    "me pasas con",
    "transfiereme",
    // Portuguese
    "falar com",
    "quero falar",
    "preciso falar",
    "me passa",
    "me transfere",
    "posso falar",
    "quero um",
    "quero uma",
    "preciso de",
    "chamar um",
    "chama um",
    // French
    "parler a",
    "parler avec",
    "je veux parler",
    "je voudrais parler",
    "passez moi",
    "mettez moi en relation",
    "contacter",
    "joindre",
    "avoir un",
    "je veux un",
    "je veux une",
    "je voudrais un",
    "je voudrais une",
    "j'aimerais parler",
    "je souhaite parler",
    // German
    "sprechen",
    "reden",
    "verbinden",
    "verbinde",
    "ich will",
    "ich mochte",
    "ich moechte",
    "kann ich",
    "durchstellen",
    "weiterleiten",
    "ich brauche",
    // Italian
    "parlare con",
    "voglio parlare",
    "vorrei parlare",
    "passami",
    "mettermi in contatto",
    "posso parlare",
    "voglio un",
    "voglio una",
    "vorrei un",
    "vorrei una",
    // Indonesian
    "bicara dengan",
    "berbicara dengan",
    "ngobrol dengan",
    "mau bicara",
    "ingin bicara",
    "hubungkan",
    "sambungkan",
    "minta",
    "bisa bicara",
    // Hindi
    "baat karni",
    "baat karna",
    "baat karao",
    "baat kara",
    "baat karwa",
    "se baat",
    "connect karo",
    "chahiye",
    "chahta",
    "chahti",
    "*बात*",
    // Arabic
    "*اتكلم*",
    "*اتحدث*",
    "*التحدث*",
    "*تحويلي*",
    "*حولني*",
    "*اريد*",
    "*ممكن*",
    "*عايز*",
    // Turkish
    "konus*",
    "gorus*",
    "bagla*",
    "istiyorum",
    // Russian
    "поговор*",
    "связат*",
    "соедин*",
    "переключ*",
    "позов*",
    "хочу",
    "нужен",
    "нужна",
    "можно",
];

/// Patterns that mention people without asking for one (matched anywhere).
const NOT_A_REQUEST: &[&str] = &[
    // English: someone as the subject of a story, not the one asked for
    "someone stole",
    "someone hacked",
    "someone used",
    "someone took",
    "someone charged",
    "someone logged",
    "someone accessed",
    "someone ordered",
    "someone else",
    "somebody stole",
    "somebody hacked",
    "somebody used",
    "somebody else",
    "if you are a",
    "are u a",
    "r u a",
    "are you a",
    "are you human",
    "are you real",
    "are you an",
    "is this a bot",
    "is this a human",
    "is this a real",
    "is this automated",
    "am i talking to a",
    "am i chatting with a",
    "am i speaking to a",
    "am i speaking with a",
    "am i talking with a",
    "is this a person",
    "email",
    "e-mail",
    "phone number",
    "telephone number",
    "opening hours",
    "business hours",
    "address",
    "spoke to",
    "spoke with",
    "talked to",
    "talked with",
    "agent code",
    "agent number",
    "agent id",
    "travel agent",
    "real estate agent",
    "user agent",
    // Spanish / Portuguese / Italian
    "eres un bot",
    "eres humano",
    "eres una persona",
    "eres real",
    "correo",
    "telefono",
    "numero de",
    "voce e um robo",
    "voce e humano",
    "e um bot",
    "telefone",
    "sei un bot",
    "sei umano",
    "sei una persona",
    "hable con",
    "falei com",
    "ho parlato",
    // French / German
    "etes vous un robot",
    "es tu un robot",
    "tu es un bot",
    "courriel",
    "bist du ein bot",
    "bist du ein mensch",
    "sind sie ein bot",
    "sind sie ein mensch",
    "telefonnummer",
    // Indonesian / Hindi / Turkish
    "apakah kamu bot",
    "kamu bot",
    "kamu manusia",
    "nomor",
    "kya tum bot",
    "kya aap bot",
    "bot musun",
    "insan misin",
    "e posta",
    "numara",
    // Arabic / Russian
    "روبوت",
    "بوت",
    "رقم",
    "ايميل",
    "ты бот",
    "вы бот",
    "ты человек",
    "вы человек",
    "почта",
    "номер",
];

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

/// Whether `phrase` occurs in the normalised text, as whole words unless a `*` opens an end.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    !spans(text, phrase).is_empty()
}

/// Where `phrase` occurs: the first and last word index of each occurrence.
fn spans(text: &str, phrase: &str) -> Vec<(usize, usize)> {
    let open_left = phrase.starts_with('*');
    let open_right = phrase.ends_with('*');
    let core = phrase.trim_matches('*');
    let needle = format!(
        "{}{core}{}",
        if open_left { "" } else { " " },
        if open_right { "" } else { " " }
    );
    let padded = format!(" {text} ");
    padded
        .match_indices(&needle)
        .map(|(at, _)| {
            // Byte offset of the core in `text` (the padding adds one leading space).
            let start = if open_left { at.saturating_sub(1) } else { at };
            let end = (start + core.len()).min(text.len());
            let word = |byte: usize| text.get(..byte).map_or(0, |t| t.matches(' ').count());
            (word(start), word(end.saturating_sub(1)))
        })
        .collect()
}

/// Asking and the person asked for must be close: "I want to know if that person…" is not a
/// request, "I want to speak to a person" is. At most three words may stand between them, in
/// either order (Hindi and Turkish put the verb last).
const MAX_GAP: usize = 4;

fn near(text: &str, first: &[&str], second: &[&str]) -> bool {
    let a: Vec<(usize, usize)> = first.iter().flat_map(|p| spans(text, p)).collect();
    let b: Vec<(usize, usize)> = second.iter().flat_map(|p| spans(text, p)).collect();
    a.iter().any(|&(a_start, a_end)| {
        b.iter().any(|&(b_start, b_end)| {
            // Zero when the two overlap.
            let gap = b_start
                .saturating_sub(a_end)
                .max(a_start.saturating_sub(b_end));
            gap <= MAX_GAP
        })
    })
}

/// English words a typo should not hide: "agrnt", "wiht", "someody", "ocntact". Only words of
/// five letters or more, so short everyday words ("that" ≠ "chat") are never "corrected".
const TYPO_TARGETS: &[&str] = &[
    "agent",
    "person",
    "human",
    "operator",
    "assistant",
    "somebody",
    "someone",
    "representative",
    "customer",
    "support",
    "service",
    "speak",
    "contact",
    "transfer",
    "chatting",
    "talking",
    "speaking",
    "contacting",
    "connect",
];

/// Fixes one-edit typos of the words that matter, and splits "tospeak" into "to speak".
fn correct_typos(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.len() < 4 || TYPO_TARGETS.contains(&word) {
                return word.to_owned();
            }
            if let Some(rest) = word.strip_prefix("to").filter(|r| TYPO_TARGETS.contains(r)) {
                return format!("to {rest}");
            }
            TYPO_TARGETS
                .iter()
                .find(|target| {
                    target.len() >= 5
                        && word.len() + 1 >= target.len()
                        && strsim::damerau_levenshtein(word, target) == 1
                })
                .map_or_else(|| word.to_owned(), |target| (*target).to_owned())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the customer is asking to be handed to a person.
pub fn is_human_request(text: &str) -> bool {
    let text = correct_typos(&normalise(text));
    if text.is_empty() {
        return false;
    }
    if !HUMAN.iter().any(|p| contains_phrase(&text, p)) {
        return false;
    }
    if NOT_A_REQUEST.iter().any(|p| text.contains(p)) {
        return false;
    }
    // "agent", "human please", "humano por favor", "оператор!"
    let nearly_alone = text.split(' ').count() <= 3;
    nearly_alone || near(&text, ASK, HUMAN)
}

/// Whether the customer asks what they are talking to ("are you a bot?", "is this a human?").
pub fn is_identity_question(text: &str) -> bool {
    let text = normalise(text);
    const ASKING: &[&str] = &[
        "are you a",
        "are you an",
        "are you human",
        "are you real",
        "is this a",
        "is this an",
        "am i talking to",
        "am i chatting with",
        "am i speaking to",
        "am i speaking with",
        "is this automated",
        "are you automated",
        "is this human",
        "eres un",
        "eres una",
        "voce e um",
        "es tu un",
        "etes vous un",
        "bist du ein",
        "sei un",
        "apakah kamu",
        "kya tum",
        "kya aap",
        "ты",
        "вы",
        "هل انت",
        "sen",
    ];
    const WHAT: &[&str] = &[
        "bot",
        "robot",
        "human",
        "person",
        "real",
        "ai",
        "machine",
        "computer",
        "chatbot",
        "automated",
        "people",
        "humano",
        "robo",
        "humain",
        "mensch",
        "umano",
        "manusia",
        "бот",
        "робот",
        "человек",
        "روبوت",
        "بوت",
        "insan misin",
        "bot musun",
    ];
    ASKING
        .iter()
        .any(|p| contains_phrase(&text, p) || text.starts_with(p))
        && WHAT
            .iter()
            .any(|w| contains_phrase(&text, w) || text.contains(w))
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
            assert!(is_identity_question(text), "{text:?}");
        }
        for text in [
            "I want a human",
            "are you open on sunday?",
            "is this a good jacket",
        ] {
            assert!(!is_identity_question(text), "{text:?}");
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
