//! Greetings, thanks, goodbyes and acknowledgements, in the languages WhatsApp customers write
//! in, answered in the same language without searching the knowledge base or handing off: a
//! customer who opens with "hola" or "merhaba" should not cost an agent's time.
//!
//! Only a message that is nothing *but* such a phrase counts ("hola" does; "hola, ¿cuánto
//! tarda el envío?" is a question). Phrases are compared after [`detect::normalise`] (see
//! [`key`]), so case, Latin accents (precomposed or typed as a separate mark), punctuation,
//! emoji, Arabic vowel marks and stretching, Turkish İ and joiners inside Indic words do not
//! matter ("¡Hola! 👋" is "hola").

use std::collections::HashMap;
use std::sync::LazyLock;

use super::detect;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hello,
    Thanks,
    Bye,
    Ack,
}

/// One language: its phrases per kind, and its answers in the order hello, thanks, bye, ack.
struct Language {
    hello: &'static [&'static str],
    thanks: &'static [&'static str],
    bye: &'static [&'static str],
    ack: &'static [&'static str],
    answers: [&'static str; 4],
}

/// Where a phrase belongs to two languages ("ok", "si", "ciao"), the first listed wins.
const LANGUAGES: &[Language] = &[
    Language {
        hello: &[
            "hi",
            "hello",
            "hey",
            "hiya",
            "good morning",
            "good afternoon",
            "good evening",
            "hi there",
            "hello there",
        ],
        thanks: &[
            "thanks",
            "thank you",
            "thx",
            "ty",
            "thanks a lot",
            "thank you so much",
            "great thanks",
            "ok thanks",
            "ok thank you",
            "perfect thanks",
            "thank u",
            "thanks so much",
            "many thanks",
            "much appreciated",
            "appreciate it",
            "cheers",
        ],
        bye: &[
            "bye",
            "goodbye",
            "see you",
            "bye bye",
            "have a nice day",
            "have a good day",
            "that's all",
            "thats all",
            "that is all",
            "that's it",
            "nothing else",
            "no thanks",
            "no thank you",
        ],
        ack: &[
            "ok",
            "okay",
            "k",
            "cool",
            "great",
            "perfect",
            "got it",
            "yes",
            "no",
            "alright",
            "sure",
            "awesome",
            "nice",
            "good",
            "understood",
            "sounds good",
        ],
        answers: [
            "Hello! What can I help you with today?",
            "You're welcome! Is there anything else I can help with?",
            "Goodbye, and thanks for getting in touch!",
            "Is there anything else I can help you with?",
        ],
    },
    // Spanish
    Language {
        hello: &[
            "hola",
            "buenas",
            "buenos días",
            "buenas tardes",
            "buenas noches",
            "hola buenos días",
            "hola buenas tardes",
            "hola buenas",
            "qué tal",
            "hola qué tal",
        ],
        thanks: &[
            "gracias",
            "muchas gracias",
            "mil gracias",
            "ok gracias",
            "vale gracias",
            "perfecto gracias",
        ],
        bye: &["adiós", "hasta luego", "chao", "chau", "nos vemos"],
        ack: &["vale", "sí", "claro", "perfecto", "de acuerdo", "entendido"],
        answers: [
            "¡Hola! ¿En qué puedo ayudarte hoy?",
            "¡De nada! ¿Hay algo más en lo que pueda ayudarte?",
            "¡Adiós, y gracias por escribirnos!",
            "¿Hay algo más en lo que pueda ayudarte?",
        ],
    },
    // Portuguese
    Language {
        hello: &[
            "olá",
            "oi",
            "bom dia",
            "boa tarde",
            "boa noite",
            "olá bom dia",
            "oi bom dia",
            "oi boa tarde",
            "e aí",
        ],
        thanks: &[
            "obrigado",
            "obrigada",
            "muito obrigado",
            "muito obrigada",
            "valeu",
            "ok obrigado",
            "ok obrigada",
        ],
        bye: &["tchau", "até logo", "até mais", "adeus"],
        ack: &["sim", "certo", "beleza", "tá bom", "entendi", "perfeito"],
        answers: [
            "Olá! Como posso ajudar você hoje?",
            "De nada! Posso ajudar com mais alguma coisa?",
            "Tchau, e obrigado pelo contato!",
            "Posso ajudar com mais alguma coisa?",
        ],
    },
    // French
    Language {
        hello: &[
            "bonjour",
            "bonsoir",
            "salut",
            "coucou",
            "bonjour madame",
            "bonjour monsieur",
        ],
        thanks: &[
            "merci",
            "merci beaucoup",
            "merci bien",
            "ok merci",
            "super merci",
            "parfait merci",
        ],
        bye: &["au revoir", "à bientôt", "bonne journée", "bonne soirée"],
        ack: &[
            "d'accord",
            "oui",
            "parfait",
            "entendu",
            "ok d'accord",
            "très bien",
        ],
        answers: [
            "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
            "Je vous en prie ! Puis-je vous aider pour autre chose ?",
            "Au revoir, et merci de nous avoir écrit !",
            "Puis-je vous aider pour autre chose ?",
        ],
    },
    // German
    Language {
        hello: &[
            "hallo",
            "guten tag",
            "guten morgen",
            "guten abend",
            "moin",
            "servus",
        ],
        thanks: &[
            "danke",
            "danke schön",
            "vielen dank",
            "danke sehr",
            "ok danke",
            "super danke",
        ],
        bye: &["tschüss", "auf wiedersehen", "bis bald"],
        ack: &[
            "ja",
            "alles klar",
            "gut",
            "super",
            "verstanden",
            "in ordnung",
        ],
        answers: [
            "Hallo! Wie kann ich Ihnen heute helfen?",
            "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
            "Auf Wiedersehen, und danke für Ihre Nachricht!",
            "Kann ich Ihnen sonst noch helfen?",
        ],
    },
    // Italian
    Language {
        hello: &["ciao", "buongiorno", "buonasera", "salve"],
        thanks: &["grazie", "grazie mille", "ok grazie", "perfetto grazie"],
        bye: &["arrivederci", "a presto", "ciao ciao"],
        ack: &["va bene", "certo", "perfetto", "d'accordo", "capito"],
        answers: [
            "Ciao! Come posso aiutarti oggi?",
            "Prego! Posso aiutarti con qualcos'altro?",
            "Arrivederci, e grazie per averci scritto!",
            "Posso aiutarti con qualcos'altro?",
        ],
    },
    // Indonesian
    Language {
        hello: &[
            "halo",
            "hai",
            "selamat pagi",
            "selamat siang",
            "selamat sore",
            "selamat malam",
            "permisi",
        ],
        thanks: &[
            "terima kasih",
            "terima kasih banyak",
            "makasih",
            "trims",
            "ok terima kasih",
        ],
        bye: &["sampai jumpa", "dadah"],
        ack: &["oke", "baik", "siap", "ya", "iya", "sip"],
        answers: [
            "Halo! Ada yang bisa saya bantu hari ini?",
            "Sama-sama! Ada lagi yang bisa saya bantu?",
            "Sampai jumpa, terima kasih sudah menghubungi kami!",
            "Ada lagi yang bisa saya bantu?",
        ],
    },
    // Hindi, romanised (as most write it on WhatsApp)
    Language {
        hello: &["namaste", "namaskar", "hello ji", "hi ji"],
        thanks: &[
            "dhanyavaad",
            "dhanyavad",
            "dhanyawad",
            "shukriya",
            "thank you ji",
        ],
        bye: &["alvida", "phir milenge"],
        ack: &["theek hai", "thik hai", "haan", "accha", "achha", "ji"],
        answers: [
            "Namaste! Aaj main aapki kya madad kar sakta hoon?",
            "Aapka swagat hai! Kya main aur kisi cheez mein madad kar sakta hoon?",
            "Alvida, sampark karne ke liye dhanyavaad!",
            "Kya main aur kisi cheez mein madad kar sakta hoon?",
        ],
    },
    // Hindi, in Devanagari
    Language {
        hello: &["नमस्ते", "नमस्कार"],
        thanks: &["धन्यवाद", "शुक्रिया", "बहुत धन्यवाद"],
        bye: &["अलविदा", "फिर मिलेंगे"],
        ack: &["ठीक है", "हाँ", "हां", "अच्छा"],
        answers: [
            "नमस्ते! आज मैं आपकी क्या मदद कर सकता हूँ?",
            "आपका स्वागत है! क्या मैं किसी और चीज़ में मदद कर सकता हूँ?",
            "अलविदा, संपर्क करने के लिए धन्यवाद!",
            "क्या मैं किसी और चीज़ में मदद कर सकता हूँ?",
        ],
    },
    // Arabic
    Language {
        hello: &[
            "مرحبا",
            "السلام عليكم",
            "أهلا",
            "أهلا وسهلا",
            "صباح الخير",
            "مساء الخير",
            "هلا",
        ],
        thanks: &["شكرا", "شكرا جزيلا", "مشكور", "ألف شكر"],
        bye: &["مع السلامة", "وداعا", "إلى اللقاء"],
        ack: &["تمام", "حسنا", "نعم", "طيب", "اوكي"],
        answers: [
            "مرحبًا! كيف يمكنني مساعدتك اليوم؟",
            "على الرحب والسعة! هل هناك شيء آخر يمكنني مساعدتك به؟",
            "مع السلامة، وشكرًا لتواصلك معنا!",
            "هل هناك شيء آخر يمكنني مساعدتك به؟",
        ],
    },
    // Turkish
    Language {
        hello: &[
            "merhaba",
            "merhabalar",
            "selam",
            "selamlar",
            "iyi günler",
            "günaydın",
            "iyi akşamlar",
        ],
        thanks: &[
            "teşekkürler",
            "teşekkür ederim",
            "çok teşekkürler",
            "sağol",
            "sağ olun",
            "eyvallah",
        ],
        bye: &["hoşça kal", "hoşçakal", "görüşürüz"],
        ack: &["tamam", "evet", "peki", "anladım", "olur"],
        answers: [
            "Merhaba! Bugün size nasıl yardımcı olabilirim?",
            "Rica ederim! Başka yardımcı olabileceğim bir şey var mı?",
            "Hoşça kalın, bize yazdığınız için teşekkürler!",
            "Başka yardımcı olabileceğim bir şey var mı?",
        ],
    },
    // Russian
    Language {
        hello: &[
            "привет",
            "здравствуйте",
            "добрый день",
            "доброе утро",
            "добрый вечер",
            "здрасте",
        ],
        thanks: &["спасибо", "спасибо большое", "большое спасибо", "благодарю"],
        bye: &["пока", "до свидания", "всего доброго"],
        ack: &["хорошо", "ок", "да", "понятно", "ясно", "ладно"],
        answers: [
            "Здравствуйте! Чем я могу вам помочь сегодня?",
            "Пожалуйста! Могу ли я помочь чем-нибудь ещё?",
            "До свидания, спасибо, что написали нам!",
            "Могу ли я помочь чем-нибудь ещё?",
        ],
    },
];

/// Every phrase, normalised, to its language and kind.
static PHRASES: LazyLock<HashMap<String, (usize, Kind)>> = LazyLock::new(|| {
    let mut phrases = HashMap::new();
    for (i, language) in LANGUAGES.iter().enumerate() {
        let kinds = [
            (Kind::Hello, language.hello),
            (Kind::Thanks, language.thanks),
            (Kind::Bye, language.bye),
            (Kind::Ack, language.ack),
        ];
        for (kind, list) in kinds {
            for phrase in list {
                phrases.entry(key(phrase)).or_insert((i, kind));
            }
        }
    }
    phrases
});

/// The text as phrases are compared: Turkish capital İ made a plain I (lower-casing it would
/// leave a combining dot), combining accents typed as separate marks, the Arabic stretching
/// mark and zero-width joiners dropped (all would split a word), then [`detect::normalise`],
/// then Arabic vowel marks dropped ("شكراً" is "شكرا").
fn key(text: &str) -> String {
    let text: String = text
        .chars()
        .filter(|c| {
            !('\u{0300}'..='\u{036F}').contains(c) && !matches!(c, 'ـ' | '\u{200C}' | '\u{200D}')
        })
        .map(|c| if c == 'İ' { 'I' } else { c })
        .collect();
    detect::normalise(&text)
        .chars()
        .filter(|c| !('\u{064B}'..='\u{065F}').contains(c))
        .collect()
}

/// Longest message, in words, read as a string of phrases: small talk is short.
const MOST_WORDS: usize = 12;

/// What a message made only of such phrases says: "thank you, bye" is a goodbye, "ok thanks"
/// a thanks, "hi, good morning" a greeting. A goodbye outranks thanks, thanks a greeting, and
/// a greeting an acknowledgement; the language is that of the phrase that decides. `None` when
/// any word of the message belongs to no phrase ("thanks, where is my order?").
fn read(key: &str) -> Option<(usize, Kind)> {
    if let Some(&found) = PHRASES.get(key) {
        return Some(found);
    }
    let words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() || words.len() > MOST_WORDS {
        return None;
    }
    // covers[i]: the fewest phrases that make up the first i words, if any do.
    let mut covers: Vec<Option<Vec<(usize, Kind)>>> = vec![None; words.len() + 1];
    covers[0] = Some(Vec::new());
    for end in 1..=words.len() {
        for start in 0..end {
            let Some(&found) = PHRASES.get(&words[start..end].join(" ")) else {
                continue;
            };
            let Some(mut cover) = covers[start].clone() else {
                continue;
            };
            cover.push(found);
            if covers[end]
                .as_ref()
                .is_none_or(|best| best.len() > cover.len())
            {
                covers[end] = Some(cover);
            }
        }
    }
    let rank = |kind: Kind| match kind {
        Kind::Bye => 0,
        Kind::Thanks => 1,
        Kind::Hello => 2,
        Kind::Ack => 3,
    };
    covers[words.len()]
        .take()?
        .into_iter()
        .min_by_key(|&(_, kind)| rank(kind))
}

/// The answer to a message that is only greetings, thanks, goodbyes or acknowledgements, in
/// the message's language; `None` for anything else.
pub fn answer(message: &str) -> Option<&'static str> {
    let (language, kind) = read(&key(message))?;
    let answers = &LANGUAGES[language].answers;
    Some(match kind {
        Kind::Hello => answers[0],
        Kind::Thanks => answers[1],
        Kind::Bye => answers[2],
        Kind::Ack => answers[3],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_are_answered_in_their_own_language_whatever_the_punctuation() {
        let cases = [
            ("Hello!", "Hello! What can I help you with today?"),
            ("¡Hola! 👋", "¡Hola! ¿En qué puedo ayudarte hoy?"),
            ("buenos dias", "¡Hola! ¿En qué puedo ayudarte hoy?"),
            ("Olá", "Olá! Como posso ajudar você hoje?"),
            (
                "Bonjour",
                "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
            ),
            ("Guten Tag", "Hallo! Wie kann ich Ihnen heute helfen?"),
            ("Ciao", "Ciao! Come posso aiutarti oggi?"),
            ("selamat pagi", "Halo! Ada yang bisa saya bantu hari ini?"),
            (
                "namaste 🙏",
                "Namaste! Aaj main aapki kya madad kar sakta hoon?",
            ),
            ("नमस्ते", "नमस्ते! आज मैं आपकी क्या मदद कर सकता हूँ?"),
            ("السلام عليكم", "مرحبًا! كيف يمكنني مساعدتك اليوم؟"),
            ("Merhaba", "Merhaba! Bugün size nasıl yardımcı olabilirim?"),
            (
                "Здравствуйте!",
                "Здравствуйте! Чем я могу вам помочь сегодня?",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(answer(message), Some(expected), "{message}");
        }
    }

    #[test]
    fn thanks_goodbyes_and_acknowledgements_are_told_apart() {
        assert_eq!(
            answer("muchas gracias!!"),
            Some("¡De nada! ¿Hay algo más en lo que pueda ayudarte?")
        );
        assert_eq!(
            answer("Teşekkürler"),
            Some("Rica ederim! Başka yardımcı olabileceğim bir şey var mı?")
        );
        // Typed without the Turkish letters, as on many phones, or capitalised with İ.
        assert_eq!(answer("tesekkurler"), answer("teşekkürler"));
        assert_eq!(answer("İyi günler"), answer("iyi günler"));
        assert!(answer("İyi günler").is_some());
        // An accent typed as a separate mark, and Arabic stretched with tatweel.
        assert_eq!(answer("adio\u{301}s"), answer("adiós"));
        assert!(answer("adiós").is_some());
        assert_eq!(answer("شكــرا"), answer("شكرا"));
        assert_eq!(
            answer("شكراً"),
            Some("على الرحب والسعة! هل هناك شيء آخر يمكنني مساعدتك به؟")
        );
        assert_eq!(
            answer("Tschüss"),
            Some("Auf Wiedersehen, und danke für Ihre Nachricht!")
        );
        assert_eq!(
            answer("theek hai"),
            Some("Kya main aur kisi cheez mein madad kar sakta hoon?")
        );
        assert_eq!(
            answer("ok"),
            Some("Is there anything else I can help you with?")
        );
    }

    #[test]
    fn a_message_of_several_phrases_is_answered_by_the_one_that_decides() {
        let bye = Some("Goodbye, and thanks for getting in touch!");
        assert_eq!(answer("thank you, bye"), bye);
        assert_eq!(answer("Ok thanks, bye!"), bye);
        assert_eq!(answer("no thanks, that's all 🙂"), bye);
        assert_eq!(
            answer("great, thank you so much!"),
            Some("You're welcome! Is there anything else I can help with?")
        );
        assert_eq!(
            answer("hi, good morning"),
            Some("Hello! What can I help you with today?")
        );
        assert_eq!(answer("gracias, adiós"), answer("adiós"));
        assert_eq!(answer("merci, au revoir"), answer("au revoir"));
        assert_eq!(answer("ok, good"), answer("ok"));
    }

    #[test]
    fn a_greeting_with_a_question_is_a_question() {
        assert_eq!(answer("hola, ¿cuánto tarda el envío?"), None);
        assert_eq!(answer("hello, where is my order"), None);
        assert_eq!(answer("merci pour rien"), None);
        assert_eq!(answer("thanks, but where is my order?"), None);
        assert_eq!(answer("ok ok ok ok ok ok ok ok ok ok ok ok ok"), None);
        assert_eq!(answer(""), None);
    }
}
