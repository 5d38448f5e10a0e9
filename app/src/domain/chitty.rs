//! Chitties: a customer's photographed shopping list. The server reads it (OCR), this module
//! turns each line it read into a quantity and an item ([`parse_line`]) and proposes the
//! shop's products that item most likely means ([`rank`]); the shop's staff confirm or
//! correct every line before it becomes an order. The machine proposes; a person confirms.
//!
//! Pure and table-tested: the same rules run wherever a chitty is handled.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a chitty is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChittyStatus {
    /// Stored; waiting for or being read.
    Processing,
    /// Read: its lines and proposed products wait for the shop's staff.
    Read,
    /// Could not be read (the reason says why); the shop can still see the photo.
    Failed,
    /// Staff turned it into an order (`order_id`).
    Ordered,
    /// Staff declined it (the reason says why).
    Rejected,
}

impl ChittyStatus {
    pub const ALL: [ChittyStatus; 5] =
        [ChittyStatus::Processing, ChittyStatus::Read, ChittyStatus::Failed, ChittyStatus::Ordered, ChittyStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            ChittyStatus::Processing => "processing",
            ChittyStatus::Read => "read",
            ChittyStatus::Failed => "failed",
            ChittyStatus::Ordered => "ordered",
            ChittyStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ChittyStatus> {
        ChittyStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Staff may still make an order of it or reject it. A list that could not be read can
    /// still be typed in by staff from its photo.
    pub fn awaits_staff(self) -> bool {
        matches!(self, ChittyStatus::Read | ChittyStatus::Failed)
    }

    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, ChittyStatus::Ordered | ChittyStatus::Rejected)
    }
}

impl fmt::Display for ChittyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Largest quantity read from a list; a bigger number is a size ("500g"), not a count.
pub const MAX_LINE_QUANTITY: i64 = 99;

/// One line of a list as understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedLine {
    /// How many; 1 when the line does not say.
    pub quantity: i64,
    /// Whether the line said how many (false: `quantity` is the default 1).
    pub quantity_read: bool,
    /// What is asked for, without the quantity and unit.
    pub item: String,
    /// A unit or size the line gave ("kg", "500 g", "dozen"), for staff to judge.
    pub unit: Option<String>,
}

/// Units and containers: kept as a hint, not matched against product names.
const UNITS: &[&str] = &[
    "kg", "kgs", "kilo", "kilos", "g", "gm", "gms", "gr", "grams", "l", "lt", "ltr", "ltrs", "litre", "litres", "liter",
    "liters", "ml", "lb", "lbs", "oz", "pack", "packs", "pk", "pkt", "packet", "packets", "bottle", "bottles", "btl",
    "can", "cans", "tin", "tins", "bag", "bags", "box", "boxes", "jar", "jars", "bunch", "bunches", "pc", "pcs",
    "piece", "pieces", "loaf", "loaves", "dozen", "doz", "tub", "tubs", "carton", "cartons",
];

/// Units that measure a size rather than count things.
const MEASURES: &[&str] = &[
    "kg", "kgs", "kilo", "kilos", "g", "gm", "gms", "gr", "grams", "l", "lt", "ltr", "ltrs", "litre", "litres", "liter",
    "liters", "ml", "lb", "lbs", "oz",
];

fn is_unit(word: &str) -> bool {
    UNITS.contains(&word.to_lowercase().as_str())
}

/// A number written as a word.
fn number_word(word: &str) -> Option<i64> {
    Some(match word.to_lowercase().as_str() {
        "a" | "an" | "one" => 1,
        "two" | "couple" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" | "dozen" => 12,
        _ => return None,
    })
}

/// What OCR reads instead of a digit in handwriting: `l`, `I`, `|` for 1, `Z` for 2, `S`
/// for 5, `G`/`b` for 6, `O`/`o` for 0.
fn confusable_digit(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => c,
        'l' | 'I' | '|' | 'i' | '!' => '1',
        'Z' | 'z' => '2',
        'S' | 's' => '5',
        'G' | 'b' => '6',
        'O' | 'o' => '0',
        _ => return None,
    })
}

/// A count in quantity position: digits, possibly misread (`l` → 1, `Z` → 2, `1O` → 10). A
/// token with no real digit counts only when it is made of the shapes OCR confuses with
/// digits in upper case or as symbols (`l`, `I`, `|`, `Z`, `S`, `G`, `O`, `b`), so that words
/// ("is", "so") stay words.
fn read_count(token: &str) -> Option<i64> {
    if token.is_empty() || token.chars().count() > 3 {
        return None;
    }
    let has_digit = token.chars().any(|c| c.is_ascii_digit());
    let only_shapes = token.chars().all(|c| "lI|ZSGOb".contains(c)) && token != "O";
    if !has_digit && !only_shapes {
        return None;
    }
    let digits: String = token.chars().map(confusable_digit).collect::<Option<_>>()?;
    digits.parse().ok()
}

/// Splits `2kg`, `500g`, `3x` into a count and what follows it.
fn split_count(token: &str) -> Option<(i64, &str)> {
    let end = token.char_indices().find(|(_, c)| !c.is_ascii_digit()).map(|(i, _)| i).unwrap_or(token.len());
    if end == 0 {
        return None;
    }
    Some((token[..end].parse().ok()?, &token[end..]))
}

/// A quantity at the start of `words`: how many, a unit hint, and how many words it used.
fn leading_quantity(words: &[&str]) -> Option<(i64, Option<String>, usize)> {
    let w0 = *words.first()?;
    let w1 = words.get(1).copied();
    let lower0 = w0.to_lowercase();
    // "half a dozen", "half dozen", "a dozen", "two dozen"
    if lower0 == "half" {
        return match (w1.map(str::to_lowercase).as_deref(), words.get(2).map(|w| w.to_lowercase()).as_deref()) {
            (Some("dozen"), _) => Some((6, Some("dozen".into()), 2)),
            (Some("a"), Some("dozen")) => Some((6, Some("dozen".into()), 3)),
            _ => Some((1, Some("half".into()), 1)),
        };
    }
    if lower0 == "dozen" {
        return Some((12, Some("dozen".into()), 1));
    }
    let (count, rest, used) = if let Some(n) = number_word(w0) {
        (n, "", 1)
    } else if let Some(n) = read_count(w0) {
        (n, "", 1)
    } else if let Some(n) = w0.strip_suffix(['x', 'X']).and_then(read_count) {
        (n, "", 1)
    } else if let Some((n, rest)) = split_count(w0) {
        (n, rest, 1)
    } else {
        return None;
    };
    let mut used = used;
    let mut unit = (!rest.is_empty()).then(|| rest.to_lowercase());
    if unit.as_deref().is_some_and(|u| !is_unit(u)) {
        return None; // "7up", "3bread": not a quantity we understand.
    }
    // "2 x milk", "2 dozen eggs", "2 kg apples"
    if let Some(next) = words.get(used) {
        let lower = next.to_lowercase();
        if unit.is_none() && (lower == "x" || lower == "×" || lower == "*") {
            used += 1;
        } else if unit.is_none() && lower == "dozen" {
            return Some((count.saturating_mul(12), Some("dozen".into()), used + 1));
        } else if unit.is_none() && is_unit(&lower) && words.len() > used + 1 {
            unit = Some(lower);
            used += 1;
        }
    }
    Some(sized(count, unit, used))
}

/// A number with a measure that is too big to be a count ("500 g") is a size: one of it.
fn sized(count: i64, unit: Option<String>, used: usize) -> (i64, Option<String>, usize) {
    match unit {
        Some(u) if count > MAX_LINE_QUANTITY && MEASURES.contains(&u.as_str()) => (1, Some(format!("{count} {u}")), used),
        unit => (count, unit, used),
    }
}

/// A quantity at the end of `words` ("milk x2", "milk ×2", "milk 2", "milk x 2", "milk - 2").
fn trailing_quantity(words: &[&str]) -> Option<(i64, usize)> {
    let last = *words.last()?;
    let before = words.len().checked_sub(2).map(|i| words[i].to_lowercase());
    if let Some(n) = last.strip_prefix(['x', 'X', '×']).and_then(read_count) {
        return Some((n, 1));
    }
    if last.chars().all(|c| c.is_ascii_digit()) {
        let n = last.parse().ok()?;
        return match before.as_deref() {
            Some("x" | "×" | "-" | "*" | "=") => Some((n, 2)),
            _ => Some((n, 1)),
        };
    }
    None
}

/// Reads one line of a list: its quantity, unit and item. `None` when the line holds no item
/// (blank, a bare number, scribbles).
pub fn parse_line(raw: &str) -> Option<ParsedLine> {
    let cleaned: String = raw.replace('×', " x ").replace(['“', '”', '"', '‘', '’', '`'], "");
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    // Bullets and list numbering ("-", "*", "•", "1.", "2)").
    while let Some(first) = words.first() {
        let bullet = first.chars().all(|c| "-–—*•·>+~_.,:;".contains(c));
        let numbering = first.len() > 1
            && (first.ends_with('.') || first.ends_with(')'))
            && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit());
        if bullet || (numbering && words.len() > 1) {
            words.remove(0);
        } else {
            break;
        }
    }
    let (mut quantity, mut unit, mut quantity_read) = (1, None, false);
    if let Some((n, u, used)) = leading_quantity(&words).filter(|&(_, _, used)| used < words.len()) {
        (quantity, unit, quantity_read) = (n, u, true);
        words.drain(..used);
    } else if let Some((n, used)) = trailing_quantity(&words).filter(|&(_, used)| used < words.len()) {
        (quantity, quantity_read) = (n, true);
        words.truncate(words.len() - used);
    }
    if !(1..=MAX_LINE_QUANTITY).contains(&quantity) {
        (quantity, quantity_read) = (1, false);
    }
    // A size after the item ("oat milk 1l", "rice 2 kg") is a hint, not part of the name.
    if unit.is_none() {
        if let Some(last) = words.last() {
            if let Some((n, u)) = split_count(last).filter(|(_, u)| !u.is_empty() && is_unit(u)) {
                unit = Some(format!("{n} {}", u.to_lowercase()));
                words.pop();
            } else if words.len() >= 3 && is_unit(last) && words[words.len() - 2].parse::<i64>().is_ok() {
                unit = Some(format!("{} {}", words[words.len() - 2], last.to_lowercase()));
                words.truncate(words.len() - 2);
            }
        }
    }
    let item = words
        .join(" ")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '(')
        .trim()
        .to_owned();
    if item.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return None;
    }
    Some(ParsedLine { quantity, quantity_read, item, unit })
}

/// Lower-case words without punctuation, plurals folded ("Tomatoes (500 g)" → "tomato 500 g").
pub fn normalize(text: &str) -> String {
    let lowered: String =
        text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    lowered.split_whitespace().map(singular).collect::<Vec<_>>().join(" ")
}

fn singular(word: &str) -> &str {
    if word.len() <= 3 || word.ends_with("ss") || !word.is_char_boundary(word.len() - 1) {
        return word;
    }
    if let Some(stem) = word.strip_suffix("oes") {
        return &word[..stem.len() + 1];
    }
    if word.ends_with("ies") || word.ends_with("ches") || word.ends_with("shes") || word.ends_with("xes") {
        // "cherries" → "cherrie", "peaches" → "peache": both sides fold the same way.
        return &word[..word.len() - 1];
    }
    word.strip_suffix('s').unwrap_or(word)
}

/// Words that say nothing about which product is meant.
fn is_filler(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_digit()) || is_unit(word) || matches!(word, "of" | "and" | "the" | "for" | "some" | "please" | "pls")
}

fn content_words(normalized: &str) -> Vec<&str> {
    normalized.split(' ').filter(|w| !w.is_empty() && !is_filler(w)).collect()
}

/// A word with the letters OCR confuses in handwriting folded together (`e`/`o`/`a`/`c`,
/// `i`/`l`/`1`, `u`/`v`, `n`/`h`, `g`/`q`/`y`, `f`/`t`, `s`/`5`, `z`/`2`, `b`/`6`).
fn fold_shapes(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'e' | 'o' | 'a' | 'c' | '0' => 'o',
            'i' | 'l' | '1' | 'j' => 'l',
            'u' | 'v' => 'u',
            'n' | 'h' => 'n',
            'g' | 'q' | 'y' | '9' => 'g',
            'f' | 't' => 't',
            's' | '5' => 's',
            'z' | '2' => 'z',
            'b' | '6' => 'b',
            c => c,
        })
        .collect()
}

/// How alike two words are, 0–1, forgiving the letter swaps and misreads of OCR: the edit
/// distance of the words, or (a little less sure) of their shapes.
fn word_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let edit = strsim::normalized_damerau_levenshtein(a, b)
        .max(0.9 * strsim::normalized_damerau_levenshtein(&fold_shapes(a), &fold_shapes(b)));
    // A word the other starts with ("choc" / "chocolate") is a strong hint on a list.
    let prefix = if a.len() >= 3 && b.starts_with(a) { 0.85 } else { 0.0 };
    edit.max(prefix)
}

/// How well `query` (a line's item) names `name` (a product or an alias), 0–1. Both are
/// normalised. Each word of the query is matched to its closest word of the name (token
/// similarity), blended with the edit distance of the whole strings, which rewards the same
/// words in the same order.
pub fn similarity(query: &str, name: &str) -> f64 {
    let q = content_words(query);
    let n = content_words(name);
    if q.is_empty() || n.is_empty() {
        return 0.0;
    }
    let weight = |w: &str| w.chars().count() as f64;
    let total: f64 = q.iter().map(|w| weight(w)).sum();
    let covered: f64 =
        q.iter().map(|w| weight(w) * n.iter().map(|m| word_similarity(w, m)).fold(0.0, f64::max)).sum();
    let tokens = covered / total;
    // The name's words the query leaves out lower the score a little ("milk" is more
    // "Milk" than "Oat milk").
    let name_total: f64 = n.iter().map(|w| weight(w)).sum();
    let name_covered: f64 =
        n.iter().map(|m| weight(m) * q.iter().map(|w| word_similarity(w, m)).fold(0.0, f64::max)).sum();
    let coverage = name_covered / name_total;
    let whole = strsim::normalized_damerau_levenshtein(&q.join(" "), &n.join(" "));
    (0.7 * tokens + 0.1 * coverage + 0.2 * whole).clamp(0.0, 1.0)
}

/// A product a line may mean, with how sure the match is (0–100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub product_id: i64,
    pub confidence: u8,
}

/// Below this a proposal is not made: staff pick the product themselves.
pub const MIN_PROPOSAL_CONFIDENCE: u8 = 55;
/// From this on a proposal is shown as sure.
pub const SURE_CONFIDENCE: u8 = 80;

/// The (at most) three products `item` most likely means, best first. `aliases` are what
/// this shop's staff taught earlier (normalised text → product) and are tried first: a line
/// that reads exactly like one is that product.
pub fn rank(item: &str, products: &[(i64, &str)], aliases: &[(String, i64)]) -> Vec<Match> {
    let query = normalize(item);
    let mut best: Vec<(i64, f64)> = Vec::new();
    let mut offer = |id: i64, score: f64| match best.iter_mut().find(|(p, _)| *p == id) {
        Some((_, s)) => *s = s.max(score),
        None => best.push((id, score)),
    };
    for (alias, id) in aliases {
        if !products.iter().any(|(p, _)| p == id) {
            continue; // an alias of a product the shop no longer has
        }
        let score = if *alias == query { 1.0 } else { similarity(&query, alias) * 0.98 };
        offer(*id, score);
    }
    for &(id, name) in products {
        offer(id, similarity(&query, &normalize(name)));
    }
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    best.into_iter()
        .filter(|&(_, s)| s > 0.3)
        .take(3)
        .map(|(product_id, s)| Match { product_id, confidence: (s * 100.0).round().clamp(0.0, 100.0) as u8 })
        .collect()
}

/// The product to propose for a line: the best match, if it is good enough.
pub fn proposal(matches: &[Match]) -> Option<i64> {
    matches.first().filter(|m| m.confidence >= MIN_PROPOSAL_CONFIDENCE).map(|m| m.product_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: i64, item: &str, unit: Option<&str>) -> Option<ParsedLine> {
        Some(ParsedLine { quantity: q, quantity_read: true, item: item.into(), unit: unit.map(Into::into) })
    }

    fn unread(item: &str) -> Option<ParsedLine> {
        Some(ParsedLine { quantity: 1, quantity_read: false, item: item.into(), unit: None })
    }

    #[test]
    fn quantities_are_read_in_every_way_people_write_them() {
        let table: &[(&str, Option<ParsedLine>)] = &[
            ("2 croissants", line(2, "croissants", None)),
            ("2x croissants", line(2, "croissants", None)),
            ("2X Croissants", line(2, "Croissants", None)),
            ("2 x croissants", line(2, "croissants", None)),
            ("3 × rye bread", line(3, "rye bread", None)),
            ("croissants x2", line(2, "croissants", None)),
            ("croissants ×2", line(2, "croissants", None)),
            ("croissants x 2", line(2, "croissants", None)),
            ("croissants - 4", line(4, "croissants", None)),
            ("croissants 3", line(3, "croissants", None)),
            ("a sourdough loaf", line(1, "sourdough loaf", None)),
            ("one rye bread", line(1, "rye bread", None)),
            ("twelve buns", line(12, "buns", None)),
            ("a dozen eggs", line(12, "eggs", Some("dozen"))),
            ("dozen eggs", line(12, "eggs", Some("dozen"))),
            ("half dozen eggs", line(6, "eggs", Some("dozen"))),
            ("half a dozen eggs", line(6, "eggs", Some("dozen"))),
            ("2 dozen eggs", line(24, "eggs", Some("dozen"))),
            ("half loaf rye", line(1, "loaf rye", Some("half"))),
            ("2kg apples", line(2, "apples", Some("kg"))),
            ("2 kg apples", line(2, "apples", Some("kg"))),
            ("500g tomatoes", line(1, "tomatoes", Some("500 g"))),
            ("croissants", unread("croissants")),
            ("oat milk 1l", Some(ParsedLine { quantity: 1, quantity_read: false, item: "oat milk".into(), unit: Some("1 l".into()) })),
            ("- 2 bananas", line(2, "bananas", None)),
            ("• bananas", unread("bananas")),
            ("1. bananas", unread("bananas")),
            ("2) 3 apples", line(3, "apples", None)),
            ("7up", unread("7up")),
            ("", None),
            ("   ", None),
            ("42", None),
            ("- -", None),
            ("2 x", None),
        ];
        for (raw, want) in table {
            assert_eq!(&parse_line(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn misread_digits_in_the_quantity_are_put_right() {
        let table: &[(&str, i64)] = &[
            ("l croissant", 1),
            ("I croissant", 1),
            ("| croissant", 1),
            ("Z croissants", 2),
            ("S apples", 5),
            ("G eggs", 6),
            ("b eggs", 6),
            ("1O buns", 10),
            ("lO buns", 10),
            ("Zx bananas", 2),
            ("bananas xZ", 2),
            ("bananas xS", 5),
        ];
        for (raw, want) in table {
            let got = parse_line(raw).unwrap_or_else(|| panic!("{raw:?} read nothing"));
            assert_eq!(got.quantity, *want, "{raw:?}");
            assert!(got.quantity_read, "{raw:?}");
        }
        // Words stay words; a zero or a huge count is no count.
        assert_eq!(parse_line("so good bread"), unread("so good bread"));
        assert_eq!(parse_line("is bread"), unread("is bread"));
        assert_eq!(parse_line("O apples"), unread("O apples"));
        assert_eq!(parse_line("250 apples"), unread("apples"));
    }

    const CATALOGUE: &[(i64, &str)] = &[
        (1, "Sourdough loaf"),
        (2, "Croissant"),
        (3, "Rye bread"),
        (4, "Cinnamon bun"),
        (5, "Apples (1 kg)"),
        (6, "Bananas (1 kg)"),
        (7, "Tomatoes (500 g)"),
        (8, "Oat milk (1 l)"),
    ];

    #[test]
    fn lines_as_written_or_misread_find_their_product() {
        let table: &[(&str, i64)] = &[
            ("croissants", 2),
            ("Croisants", 2),
            ("cr0issant", 2),
            ("sourdough", 1),
            ("sour dough loaf", 1),
            ("Sourdougn", 1),
            ("rye", 3),
            ("rye bred", 3),
            ("cinnamon buns", 4),
            ("cinamon bun", 4),
            ("apples", 5),
            ("appels", 5),
            ("bananas", 6),
            ("bannanas", 6),
            ("tomatos", 7),
            ("tomatoes", 7),
            ("oat milk", 8),
            ("milk", 8),
            ("oatmilk", 8),
        ];
        for (item, want) in table {
            let ranked = rank(item, CATALOGUE, &[]);
            assert_eq!(proposal(&ranked), Some(*want), "{item:?} → {ranked:?}");
            assert!(ranked.len() <= 3);
            assert!(ranked.windows(2).all(|w| w[0].confidence >= w[1].confidence), "{ranked:?}");
        }
    }

    #[test]
    fn nothing_is_proposed_for_what_the_shop_does_not_sell() {
        for item in ["toilet paper", "batteries", "xq zz"] {
            let ranked = rank(item, CATALOGUE, &[]);
            assert_eq!(proposal(&ranked), None, "{item:?} → {ranked:?}");
        }
    }

    #[test]
    fn aliases_staff_taught_come_first() {
        // Nothing in the catalogue looks like "granny's", but staff said it means apples.
        let aliases = vec![(normalize("granny's"), 5), (normalize("bread"), 3)];
        assert_eq!(rank("Granny's", CATALOGUE, &aliases)[0], Match { product_id: 5, confidence: 100 });
        assert_eq!(proposal(&rank("bread", CATALOGUE, &aliases)), Some(3));
        // A near reading of an alias is still a strong hint.
        assert_eq!(proposal(&rank("grannys", CATALOGUE, &aliases)), Some(5));
        // An alias of a product the shop no longer sells is ignored.
        assert_eq!(proposal(&rank("granny's", &CATALOGUE[..4], &aliases)), None);
    }

    #[test]
    fn normalising_folds_case_punctuation_and_plurals() {
        assert_eq!(normalize("Tomatoes (500 g)"), "tomato 500 g");
        assert_eq!(normalize("  CROISSANTS!! "), "croissant");
        assert_eq!(normalize("Granny's"), "granny s");
        assert_eq!(normalize("glass"), "glass");
    }

    #[test]
    fn statuses_round_trip() {
        for s in ChittyStatus::ALL {
            assert_eq!(ChittyStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert!(ChittyStatus::Read.awaits_staff() && ChittyStatus::Failed.awaits_staff());
        assert!(!ChittyStatus::Processing.awaits_staff() && !ChittyStatus::Ordered.awaits_staff());
    }
}
