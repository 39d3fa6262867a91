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
//! people, bots and machines by name, and "real" counts only after "are you". A phrase that
//! is also how people *ask* for someone is left out: "falo com um humano?" and "saya bicara
//! dengan manusia" are as often "can I talk to a human?", and the detector decides those.

use std::ops::Range;

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
            // "are you a human agent?" asks what the bot is; "is this agent code valid?" does
            // not, so only this form has it.
            "agent",
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
        asking: &["kamu", "anda", "apakah ini", "ini", "lagi chat sama"],
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
            // Only as itself: "позовите оператора" asks for one.
            "оператор",
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
    let words = split(&text);
    FORMS
        .iter()
        .find(|form| question(form, &words).is_some())
        .map(|form| form.language)
}

/// Whether a normalised text is identity questions and nothing else: "are you a real person?",
/// "bot or human?" asked as "are you a bot or a human" — but not "are you a bot? get me a
/// person", where something is left once the question is cut out ([`without_questions`]).
pub fn only_questions(normalised: &str) -> bool {
    without_questions(normalised).is_some_and(|rest| rest.is_empty())
}

/// The words of a normalised text that are not an identity question: "are you a bot? get me a
/// person" → "get me a person", "are you a real person or a bot?" → "". Every question is cut
/// out, from its asking phrase to the last of the words for what the bot is that follow each
/// other within three words (in Turkish, from that word to the particle). `None` when the text
/// holds no identity question.
fn without_questions(normalised: &str) -> Option<String> {
    let mut words = split(normalised);
    let mut cut = false;
    while let Some(span) = FORMS.iter().find_map(|form| question(form, &words)) {
        words.drain(span);
        cut = true;
    }
    cut.then(|| words.join(" "))
}

fn split(normalised: &str) -> Vec<&str> {
    normalised.split(' ').filter(|w| !w.is_empty()).collect()
}

/// Where the first identity question of this form lies in `words`, as a range of words.
fn question(form: &Form, words: &[&str]) -> Option<Range<usize>> {
    form.asking.iter().find_map(|asking| {
        let phrase: Vec<&str> = asking.split(' ').collect();
        words
            .windows(phrase.len())
            .enumerate()
            .filter(|(_, run)| *run == phrase.as_slice())
            .find_map(|(at, _)| {
                let end = at + phrase.len();
                if form.before {
                    let from = at.saturating_sub(WINDOW_BEFORE);
                    let found = named(&words[from..at], form.what)?;
                    Some(from + found.start..end)
                } else {
                    // "a bot or a human", "a real life person": the question runs on to the
                    // last word for what the bot is that follows within the window.
                    let mut last = end;
                    while let Some(found) =
                        named(&words[last..(last + WINDOW).min(words.len())], form.what)
                    {
                        last += found.end;
                    }
                    (last > end).then_some(at..last)
                }
            })
    })
}

/// Where the words first name one of `what`, each a whole word or phrase or, with a trailing
/// `*`, any word beginning with it.
fn named(words: &[&str], what: &[&str]) -> Option<Range<usize>> {
    (0..words.len()).find_map(|at| {
        what.iter().find_map(|what| match what.strip_suffix('*') {
            Some(stem) => words[at].starts_with(stem).then_some(at..at + 1),
            None => {
                let wanted: Vec<&str> = what.split(' ').collect();
                let end = at + wanted.len();
                (end <= words.len() && words[at..end] == wanted[..]).then_some(at..end)
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::{language, without_questions};

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
            ("ты живой оператор?", "ru"),
            ("are you a human agent?", "en"),
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

    #[test]
    fn the_question_is_cut_out_and_the_rest_kept() {
        for (text, rest) in [
            ("are you a bot", ""),
            ("are you a bot get me a person", "get me a person"),
            ("are you a real person or a bot", ""),
            ("are you a real life person", ""),
            ("are you a bot i want a person", "i want a person"),
            ("hi are you human i need help", "hi i need help"),
            ("insan misin yoksa bot musun", "yoksa"),
            (
                "sto parlando con un bot o con una persona",
                "o con una persona",
            ),
            ("ты бот или человек", ""),
            ("are you a human agent", ""),
            ("вы оператор позовите оператора", "позовите оператора"),
        ] {
            assert_eq!(without_questions(text).as_deref(), Some(rest), "{text:?}");
        }
        assert_eq!(without_questions("get me a person"), None);
    }
}
