//! Stop words the analyzers of languages other than English remove once a token is lower-cased
//! and accent-folded: the folded spellings of tantivy's (Snowball's) lists, because customers
//! type "nao" for "não" and the accented list no longer matches, and the words customers wrap a
//! question in ("¿cómo puedo…?", "quero saber…", "подскажите, пожалуйста"), as the English
//! list does. A wrapper word left in a query is rare in the knowledge base, so it would weigh
//! most and sink the share of the question a good passage covers.
//!
//! Every word here is written as it reads after folding (no accents; `ё` as `е`; Arabic without
//! vowel marks, with plain alef and `ى` as `ي`).

use crate::domain::KbLanguage;

/// The words to remove after folding, for one language.
pub fn after_folding(language: KbLanguage) -> Vec<String> {
    let lists: &[&[&str]] = match language {
        KbLanguage::Spanish => &[SPANISH_FOLDED, SPANISH_ASKING],
        KbLanguage::Portuguese => &[PORTUGUESE_FOLDED, PORTUGUESE_ASKING],
        KbLanguage::French => &[FRENCH_FOLDED, FRENCH_ASKING],
        KbLanguage::German => &[GERMAN_FOLDED, GERMAN_ASKING],
        KbLanguage::Italian => &[ITALIAN_FOLDED, ITALIAN_ASKING],
        KbLanguage::Russian => &[RUSSIAN_ASKING],
        KbLanguage::Turkish => &[TURKISH],
        KbLanguage::Arabic => &[ARABIC],
        KbLanguage::Danish => &[DANISH_FOLDED],
        KbLanguage::Finnish => &[FINNISH_FOLDED],
        KbLanguage::Hungarian => &[HUNGARIAN_FOLDED],
        KbLanguage::Norwegian => &[NORWEGIAN_FOLDED],
        KbLanguage::Swedish => &[SWEDISH_FOLDED],
        KbLanguage::English
        | KbLanguage::Dutch
        | KbLanguage::Romanian
        | KbLanguage::Greek
        | KbLanguage::Tamil
        | KbLanguage::None => &[],
    };
    lists
        .iter()
        .flat_map(|list| list.iter().map(|w| (*w).to_owned()))
        .collect()
}

// Folded spellings of the accented words in tantivy's lists (generated from them; "taksi",
// Finnish "täksi" but also "taxi", is left out).

#[rustfmt::skip]
const DANISH_FOLDED: &[&str] = &[
    "nar", "ogsa", "pa", "sadan", "vaere", "vaeret",
];

#[rustfmt::skip]
const FINNISH_FOLDED: &[&str] = &[
    "eivat", "etta", "han", "haneen", "hanella", "hanelle", "hanelta", "hanen", "hanessa",
    "hanesta", "hanet", "hanta", "heidan", "heidat", "heilla", "heilta", "heissa", "heista",
    "heita", "keilla", "keilta", "keina", "keissa", "keista", "keita", "kenella", "kenelta",
    "kenena", "kenessa", "kenesta", "keta", "ketka", "meidan", "meidat", "meilla", "meilta",
    "meissa", "meista", "meita", "mika", "milla", "milta", "mina", "minka", "missa", "mista",
    "mita", "mitka", "naiden", "naihin", "naiksi", "nailla", "naille", "nailta", "naina",
    "naissa", "naista", "naita", "nama", "niilla", "niilta", "niina", "niissa", "niista", "niita",
    "seka", "siina", "siita", "silla", "silta", "sina", "sita", "tahan", "talla", "talle",
    "talta", "tama", "taman", "tana", "tassa", "tasta", "tata", "teidan", "teidat", "teilla",
    "teilta", "teissa", "teista", "teita",
];

#[rustfmt::skip]
const FRENCH_FOLDED: &[&str] = &[
    "a", "etaient", "etais", "etait", "etant", "etee", "etees", "etes", "etiez", "etions",
    "eumes", "eutes", "fumes", "futes", "meme",
];

#[rustfmt::skip]
const GERMAN_FOLDED: &[&str] = &[
    "dass", "fur", "konnen", "konnte", "uber", "wahrend", "wurde", "wurden",
];

#[rustfmt::skip]
const HUNGARIAN_FOLDED: &[&str] = &[
    "altal", "altalaban", "amig", "arrol", "at", "azert", "aztan", "azutan", "bar", "belul",
    "egesz", "egyeb", "eleg", "elo", "eloszor", "elott", "elso", "en", "eppen", "es", "ezert",
    "fele", "igy", "ismet", "jo", "jol", "keressunk", "keresztul", "kivul", "kozott", "kozul",
    "legalabb", "magat", "mar", "mas", "masik", "miert", "mig", "neha", "nehany", "nelkul", "o",
    "ok", "oket", "ossze", "ra", "sajat", "szamara", "talan", "tehat", "tobb", "tovabb",
    "tovabba", "ugy", "uj", "ujabb", "ujra", "utan", "utana", "utolso", "valo",
];

#[rustfmt::skip]
const ITALIAN_FOLDED: &[&str] = &[
    "avra", "avro", "fara", "faro", "perche", "piu", "sara", "saro", "stara", "staro",
];

#[rustfmt::skip]
const NORWEGIAN_FOLDED: &[&str] = &[
    "a", "bade", "bae", "hja", "na", "nar", "ogsa", "pa", "sa", "sann", "sjol", "vaere", "vaert",
];

#[rustfmt::skip]
const PORTUGUESE_FOLDED: &[&str] = &[
    "ate", "eramos", "estao", "estavamos", "estiveramos", "estivessemos", "foramos", "fossemos",
    "ha", "hao", "houveramos", "houverao", "houveriamos", "houvessemos", "ja", "nao", "sao",
    "sera", "serao", "seriamos", "so", "tambem", "tera", "terao", "teriamos", "tinhamos",
    "tiveramos", "tivessemos", "voce", "voces",
];

#[rustfmt::skip]
const SPANISH_FOLDED: &[&str] = &[
    "eramos", "estabamos", "estais", "estan", "estara", "estaran", "estaras", "estare",
    "estareis", "estaria", "estariais", "estariamos", "estarian", "estarias", "esteis", "esten",
    "estes", "estuvieramos", "estuviesemos", "fueramos", "fuesemos", "habeis", "habia", "habiais",
    "habiamos", "habian", "habias", "habra", "habran", "habras", "habre", "habreis", "habria",
    "habriais", "habriamos", "habrian", "habrias", "hayais", "hubieramos", "hubiesemos", "mas",
    "mia", "mias", "mio", "mios", "seais", "sera", "seran", "seras", "sere", "sereis", "seria",
    "seriais", "seriamos", "serian", "serias", "si", "tambien", "tendra", "tendran", "tendras",
    "tendre", "tendreis", "tendria", "tendriais", "tendriamos", "tendrian", "tendrias", "teneis",
    "tengais", "tenia", "teniais", "teniamos", "tenian", "tenias", "tuvieramos", "tuviesemos",
];

#[rustfmt::skip]
const SWEDISH_FOLDED: &[&str] = &[
    "an", "ar", "at", "da", "dar", "for", "fran", "nagon", "nagot", "nagra", "nar", "over", "pa",
    "sa", "sadan", "sadana", "sadant", "sjalv", "varfor",
];

// The words a question is wrapped in: greetings, thanks, "I want / need / can", "how / when /
// where / how much", "tell me", "please". Only those the language's list lacks.

#[rustfmt::skip]
const SPANISH_ASKING: &[&str] = &[
    "hola", "buenas", "buenos", "gracias", "favor", "porfa", "porfavor", "xfa", "quiero",
    "quisiera", "queria", "necesito", "necesitaria", "puedo", "puede", "pueden", "puedes",
    "podria", "podrian", "podemos", "debo", "deberia", "saber", "decir", "dime", "digame",
    "adonde", "cuales", "cuanto", "cuanta", "cuantos", "cuantas", "alguien", "usted", "ustedes",
    "ud", "uds", "ok", "vale", "q", "pq", "xq",
];

#[rustfmt::skip]
const PORTUGUESE_ASKING: &[&str] = &[
    "ola", "oi", "bom", "boa", "obrigado", "obrigada", "obg", "favor", "pf", "quero", "queria",
    "gostaria", "preciso", "precisava", "posso", "pode", "podem", "poderia", "podemos", "consigo",
    "saber", "dizer", "diga", "onde", "quais", "quanto", "quanta", "quantos", "quantas", "porque",
    "pq", "vc", "vcs", "alguem", "algo", "ok", "sim", "tudo", "bem", "pra", "pro", "ai",
];

#[rustfmt::skip]
const FRENCH_ASKING: &[&str] = &[
    "bonjour", "bonsoir", "salut", "merci", "svp", "stp", "plait", "veux", "voudrais", "voulais",
    "aimerais", "souhaite", "souhaiterais", "besoin", "peux", "pouvez", "peut", "pourrais",
    "pourriez", "puis", "savoir", "dire", "dites", "comment", "quand", "combien", "pourquoi",
    "quoi", "faut", "est", "rien", "quelque", "chose", "oui", "ok",
];

#[rustfmt::skip]
const GERMAN_ASKING: &[&str] = &[
    "hallo", "hi", "hey", "guten", "danke", "vielen", "dank", "bitte", "mochte", "mochten",
    "brauche", "konnten", "darf", "durfen", "wann", "warum", "wieso", "weshalb", "wieviel",
    "wieviele", "viele", "lange", "jemand", "ja", "ok", "okay", "gibt", "sagen", "wissen",
    "weiss", "gerne", "gern",
];

#[rustfmt::skip]
const ITALIAN_ASKING: &[&str] = &[
    "ciao", "salve", "buongiorno", "buonasera", "grazie", "favore", "prego", "voglio", "vorrei",
    "volevo", "devo", "posso", "puo", "possiamo", "potete", "potrei", "potreste", "potrebbe",
    "sapere", "dire", "dimmi", "quando", "quali", "cosa", "qualcosa", "qualcuno", "ok",
];

#[rustfmt::skip]
const RUSSIAN_ASKING: &[&str] = &[
    "здравствуйте", "привет", "добрый", "доброе", "спасибо", "пожалуйста", "хочу", "хотел",
    "хотела", "хотелось", "хотим", "нужно", "нужен", "нужна", "могу", "можете", "мог", "могли",
    "подскажите", "скажите", "узнать", "какие", "какое", "каким", "сколько", "почему", "ок",
];

// No stop list for these two in tantivy: the commonest function words as well.

#[rustfmt::skip]
const TURKISH: &[&str] = &[
    "acaba", "ama", "ancak", "bana", "beni", "benim", "bir", "biraz", "biz", "bu", "bunu",
    "bunun", "da", "daha", "de", "diye", "en", "gibi", "hangi", "hem", "her", "hic", "icin",
    "ile", "ise", "kac", "kadar", "ki", "kim", "mi", "mu", "misiniz", "musunuz", "miyim", "muyum",
    "misin", "nasil", "ne", "neden", "nerede", "nereden", "nereye", "niye", "o", "olan", "olarak",
    "sen", "siz", "size", "sizin", "su", "ve", "veya", "ya", "yani", "merhaba", "selam",
    "selamlar", "tesekkurler", "tesekkur", "sagol", "sagolun", "lutfen", "rica", "istiyorum",
    "isterim", "istiyoruz", "var", "mumkun", "tamam",
];

#[rustfmt::skip]
const ARABIC: &[&str] = &[
    "في", "من", "الي", "علي", "عن", "ان", "او", "و", "ثم", "مع", "هذا", "هذه", "ذلك", "تلك",
    "التي", "الذي", "الذين", "هو", "هي", "هم", "انا", "نحن", "انت", "انتم", "لي", "لك", "لنا",
    "عند", "عندي", "هل", "كيف", "متي", "اين", "ماذا", "ما", "لماذا", "كم", "اي", "لا", "لم", "لن",
    "قد", "كان", "كانت", "يكون", "تم", "كل", "بعض", "اذا", "لو", "يا", "مرحبا", "اهلا", "السلام",
    "عليكم", "شكرا", "فضلك", "سمحت", "اريد", "ابغي", "ممكن", "يمكن", "يمكنني", "استطيع", "احتاج",
    "اعرف", "هناك",
];
