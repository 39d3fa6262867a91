//! "Are you a bot?" — a customer asking what they are talking to, and in which language, so
//! the bot can say so in that language instead of searching the knowledge base for it.
//!
//! A question is an asking phrase ("are you", "¿eres", "ты") with a word for what the bot
//! might be ("bot", "humano", "человек") among the next three words — or, in Turkish, where
//! the question particle comes last ("insan mısın?"), among the two words before it. Words are
//! compared whole, after [`normalise`], so "are you available?" (where "ai" hides inside a
//! word) or "is this a bottle?" is not one; an entry ending in `*` matches any word it begins
//! (Russian cases: "с человеком"). The word lists avoid what a shop sells: "is this a robot
//! vacuum?" would otherwise read as a question about the bot, so "is this a" asks only about
//! people, bots and machines by name, and "real" counts only after "are you".

use super::normalise;

/// Words looked at beside an asking phrase.
const WINDOW: usize = 3;
/// Words looked at before a Turkish question particle.
const WINDOW_BEFORE: usize = 2;

/// One way of asking, in one language.
struct Form {
    language: &'static str,
    asking: &'static [&'static str],
    what: &'static [&'static str],
    /// The words for what come before the asking phrase (Turkish question particles).
    before: bool,
}

const FORMS: &[Form] = &[
    Form {
        language: "en",
        asking: &["are you", "are u", "r u", "you a"],
        what: &[
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
        ],
        before: false,
    },
    Form {
        language: "en",
        asking: &[
            "is this a",
            "is this an",
            "is this",
            "am i talking to",
            "am i chatting with",
            "am i speaking to",
            "am i speaking with",
            "who am i talking to",
            "who am i chatting with",
            "is it a",
        ],
        what: &[
            "bot",
            "robot",
            "human",
            "real person",
            "real human",
            "live person",
            "a person",
            "ai",
            "machine",
            "computer",
            "chatbot",
            "automated",
        ],
        before: false,
    },
    Form {
        language: "es",
        asking: &[
            "eres",
            "es usted",
            "estoy hablando con",
            "hablo con",
            "estoy chateando con",
        ],
        what: &[
            "bot",
            "robot",
            "humano",
            "humana",
            "persona",
            "real",
            "maquina",
            "ia",
            "automatico",
            "de verdad",
        ],
        before: false,
    },
    Form {
        language: "pt",
        asking: &[
            "voce e",
            "vc e",
            "voce eh",
            "vc eh",
            "estou falando com",
            "to falando com",
            "falo com",
        ],
        what: &[
            "bot",
            "robo",
            "humano",
            "humana",
            "pessoa",
            "real",
            "maquina",
            "ia",
            "de verdade",
            "gente",
        ],
        before: false,
    },
    Form {
        language: "fr",
        asking: &[
            "es-tu",
            "es tu",
            "t'es",
            "tu es",
            "etes-vous",
            "etes vous",
            "vous etes",
            "je parle a",
            "je parle avec",
            "je discute avec",
        ],
        what: &[
            "bot", "robot", "humain", "humaine", "personne", "vrai", "vraie", "reel", "reelle",
            "machine", "ia",
        ],
        before: false,
    },
    Form {
        language: "de",
        asking: &[
            "bist du",
            "biste",
            "sind sie",
            "rede ich mit",
            "spreche ich mit",
            "schreibe ich mit",
            "chatte ich mit",
        ],
        what: &[
            "bot", "roboter", "mensch", "echt", "echter", "echte", "ki", "maschine", "person",
            "computer",
        ],
        before: false,
    },
    Form {
        language: "it",
        asking: &[
            "sei",
            "lei e",
            "sto parlando con",
            "sto chattando con",
            "parlo con",
        ],
        what: &[
            "bot", "robot", "umano", "umana", "persona", "vero", "vera", "reale", "macchina", "ia",
        ],
        before: false,
    },
    Form {
        language: "id",
        asking: &[
            "kamu",
            "anda",
            "apakah ini",
            "ini",
            "lagi chat sama",
            "saya bicara dengan",
        ],
        what: &[
            "bot",
            "robot",
            "manusia",
            "orang asli",
            "orang beneran",
            "orang sungguhan",
            "asli",
            "mesin",
            "ai",
        ],
        before: false,
    },
    Form {
        language: "hi",
        asking: &[
            "tum",
            "aap",
            "kya tum",
            "kya aap",
            "क्या आप",
            "आप",
            "तुम",
            "क्या तुम",
        ],
        what: &[
            "bot",
            "robot",
            "insaan",
            "insan",
            "human",
            "real",
            "machine",
            "इंसान",
            "इन्सान",
            "बॉट",
            "रोबोट",
            "मशीन",
            "असली",
        ],
        before: false,
    },
    Form {
        language: "ar",
        asking: &["انت", "هل انت", "انتي", "هل انتي", "حضرتك"],
        what: &[
            "بوت",
            "روبوت",
            "انسان",
            "حقيقي",
            "الي",
            "بشر",
            "بني ادم",
            "ذكاء",
        ],
        before: false,
    },
    Form {
        language: "ru",
        asking: &["ты", "вы", "я говорю с", "я общаюсь с", "я переписываюсь с"],
        what: &[
            "бот*",
            "робот*",
            "человек*",
            "живой",
            "живым",
            "живого",
            "настоящий",
            "ии",
            "машин*",
        ],
        before: false,
    },
    Form {
        language: "tr",
        asking: &["misin", "musun", "misiniz", "musunuz"],
        what: &["insan", "bot", "robot", "gercek", "yapay"],
        before: true,
    },
];

/// The language of an identity question ("are you a bot?" → `en`, "¿eres humano?" → `es`),
/// or `None` when the message is not one.
pub fn language(text: &str) -> Option<&'static str> {
    let text = normalise(text);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    FORMS
        .iter()
        .find(|form| asks(form, &words))
        .map(|form| form.language)
}

fn asks(form: &Form, words: &[&str]) -> bool {
    form.asking.iter().any(|asking| {
        let phrase: Vec<&str> = asking.split(' ').collect();
        words
            .windows(phrase.len())
            .enumerate()
            .filter(|(_, run)| *run == phrase.as_slice())
            .any(|(at, _)| {
                let beside = if form.before {
                    &words[at.saturating_sub(WINDOW_BEFORE)..at]
                } else {
                    let from = at + phrase.len();
                    &words[from..(from + WINDOW).min(words.len())]
                };
                form.what.iter().any(|what| names(beside, what))
            })
    })
}

/// Whether the words name `what`: a whole word or phrase, or with a trailing `*`, any word
/// beginning with it.
fn names(words: &[&str], what: &str) -> bool {
    match what.strip_suffix('*') {
        Some(stem) => words.iter().any(|w| w.starts_with(stem)),
        None => {
            let wanted: Vec<&str> = what.split(' ').collect();
            words
                .windows(wanted.len())
                .any(|run| run == wanted.as_slice())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::language;

    #[test]
    fn identity_questions_are_recognised_in_each_language() {
        for (text, expected) in [
            ("are you a bot?", "en"),
            ("Are you human", "en"),
            ("r u real", "en"),
            ("am I talking to a real person?", "en"),
            ("is this automated?", "en"),
            ("¿eres un bot?", "es"),
            ("¿eres humano?", "es"),
            ("vc é humano?", "pt"),
            ("t'es humain ?", "fr"),
            ("vous êtes un robot ?", "fr"),
            ("bist du ein Mensch?", "de"),
            ("sei umano?", "it"),
            ("kamu manusia?", "id"),
            ("ini bot ya?", "id"),
            ("kya aap insaan ho?", "hi"),
            ("क्या आप इंसान हैं?", "hi"),
            ("هل أنت إنسان؟", "ar"),
            ("انت بوت؟", "ar"),
            ("Ты бот?", "ru"),
            ("вы живой человек?", "ru"),
            ("я говорю с человеком?", "ru"),
            ("insan mısın?", "tr"),
            ("Bot musun?", "tr"),
        ] {
            assert_eq!(language(text), Some(expected), "{text:?}");
        }
    }

    #[test]
    fn questions_about_the_shop_are_not_about_the_bot() {
        for text in [
            "are you available on sunday?",
            "are you open today?",
            "are you really closed on mondays?",
            "send me the details",
            "is this a repair shop?",
            "is this a bottle of wine?",
            "is this real leather?",
            "is this a good jacket",
            "I want a human",
            "¿es un robot de cocina?",
            "sei persone nel mio account",
            "ini botol kaca?",
            "это робот-пылесос?",
            "siparişim gerçekten geldi mi",
        ] {
            assert_eq!(language(text), None, "{text:?}");
        }
    }
}
