//! Input limits, checked before anything touches the database.

use thiserror::Error;

pub const MAX_ITEMS_PER_ORDER: usize = 50;
pub const MAX_QUANTITY: i64 = 1_000;
pub const MAX_PRICE_MINOR: i64 = 100_000_000; // one million in major units
pub const MAX_STOCK: i64 = 1_000_000;
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_NOTE_LEN: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("an order needs at least one item")]
    NoItems,
    #[error("an order can have at most {MAX_ITEMS_PER_ORDER} items")]
    TooManyItems,
    #[error("product {0} appears more than once; give it once with the total quantity")]
    DuplicateProduct(i64),
    #[error("quantity must be between 1 and {MAX_QUANTITY}, got {0}")]
    Quantity(i64),
    #[error("price must be between 0 and {MAX_PRICE_MINOR} minor units, got {0}")]
    Price(i64),
    #[error("stock must be between 0 and {MAX_STOCK}, got {0}")]
    Stock(i64),
    #[error("low-stock threshold must be between 0 and {MAX_STOCK}, got {0}")]
    Threshold(i64),
    #[error("name must be 1 to {MAX_NAME_LEN} characters")]
    Name,
    #[error("note must be at most {MAX_NOTE_LEN} characters")]
    Note,
    #[error("text must be 1 to {MAX_NOTE_LEN} characters")]
    NotificationText,
    #[error("give a reason of 1 to {MAX_REASON_LEN} characters")]
    Reason,
    #[error("nothing to change: give at least one field")]
    EmptyUpdate,
    #[error("that is not an email address")]
    Email,
    #[error("passwords need {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters")]
    Password,
    #[error("only shopkeepers work in shops")]
    ShopsForNonStaff,
    #[error("{0} must be at most {MAX_SHOP_TEXT_LEN} characters")]
    ShopText(&'static str),
    #[error("a phone number has digits, spaces and + ( ) - . only")]
    Phone,
    #[error("currency must be a three-letter ISO 4217 code such as EUR or GBP")]
    Currency,
    #[error("the late threshold must be after the getting-late one, both between 1 and {MAX_ALERT_MINS} minutes")]
    AlertMinutes,
}

pub const MAX_SHOP_TEXT_LEN: usize = 200;
pub const MAX_ALERT_MINS: i64 = 240;

/// A shop's address, phone or opening hours (`what` names it in the error).
pub fn shop_text(what: &'static str, s: &str) -> Result<(), ValidationError> {
    (s.chars().count() <= MAX_SHOP_TEXT_LEN).then_some(()).ok_or(ValidationError::ShopText(what))
}

pub fn phone(s: &str) -> Result<(), ValidationError> {
    let ok = s.chars().count() <= 40 && s.chars().all(|c| c.is_ascii_digit() || " +()-./".contains(c));
    ok.then_some(()).ok_or(ValidationError::Phone)
}

pub fn currency(s: &str) -> Result<(), ValidationError> {
    (s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())).then_some(()).ok_or(ValidationError::Currency)
}

/// The board's "getting late" and "late" thresholds, in minutes.
pub fn alert_minutes(warn: i64, late: i64) -> Result<(), ValidationError> {
    (1 <= warn && warn < late && late <= MAX_ALERT_MINS).then_some(()).ok_or(ValidationError::AlertMinutes)
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 256;

pub fn email(s: &str) -> Result<(), ValidationError> {
    let s = s.trim();
    let ok = s.len() <= 254 && !s.contains(char::is_whitespace) && s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    });
    ok.then_some(()).ok_or(ValidationError::Email)
}

pub fn password(s: &str) -> Result<(), ValidationError> {
    (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&s.chars().count()).then_some(()).ok_or(ValidationError::Password)
}

/// Checks an order's lines: (product id, quantity).
pub fn order_items(items: &[(i64, i64)]) -> Result<(), ValidationError> {
    if items.is_empty() {
        return Err(ValidationError::NoItems);
    }
    if items.len() > MAX_ITEMS_PER_ORDER {
        return Err(ValidationError::TooManyItems);
    }
    let mut seen = std::collections::HashSet::new();
    for &(product_id, quantity) in items {
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(ValidationError::Quantity(quantity));
        }
        if !seen.insert(product_id) {
            return Err(ValidationError::DuplicateProduct(product_id));
        }
    }
    Ok(())
}

pub fn price(minor: i64) -> Result<(), ValidationError> {
    (0..=MAX_PRICE_MINOR).contains(&minor).then_some(()).ok_or(ValidationError::Price(minor))
}

pub fn stock(n: i64) -> Result<(), ValidationError> {
    (0..=MAX_STOCK).contains(&n).then_some(()).ok_or(ValidationError::Stock(n))
}

pub fn threshold(n: i64) -> Result<(), ValidationError> {
    (0..=MAX_STOCK).contains(&n).then_some(()).ok_or(ValidationError::Threshold(n))
}

/// The characters that do not count as text: Unicode's White_Space (what `str::trim` removes)
/// and the byte-order mark. Spelled out because the API document has to say the same thing as
/// a JSON Schema pattern ([`has_text_pattern`]), and regex engines disagree on `\s`
/// (ECMAScript's leaves out U+0085 and takes U+FEFF; Python's takes U+001C–U+001F; ASCII
/// modes take neither U+00A0 nor U+3000).
pub const BLANKS: &[char] = &[
    '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}',
    '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200a}', '\u{2028}',
    '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{feff}',
];

/// Whether `s` holds something besides [`BLANKS`].
pub fn has_text(s: &str) -> bool {
    s.chars().any(|c| !BLANKS.contains(&c))
}

/// [`has_text`] as a JSON Schema pattern: one character that is not blank, the blanks written
/// as themselves so that every engine reads the class alike.
pub fn has_text_pattern() -> String {
    format!("[^{}]", BLANKS.iter().collect::<String>())
}

/// A name: something besides spaces, and at most [`MAX_NAME_LEN`] characters as sent (the
/// limit the API document states; the spaces around it are trimmed when stored).
pub fn name(s: &str) -> Result<(), ValidationError> {
    (has_text(s) && s.chars().count() <= MAX_NAME_LEN).then_some(()).ok_or(ValidationError::Name)
}

pub fn note(s: &str) -> Result<(), ValidationError> {
    (s.chars().count() <= MAX_NOTE_LEN).then_some(()).ok_or(ValidationError::Note)
}

/// A notification's text as sent: something besides spaces, at most [`MAX_NOTE_LEN`] characters.
pub fn notification_text(s: &str) -> Result<(), ValidationError> {
    (has_text(s) && s.chars().count() <= MAX_NOTE_LEN).then_some(()).ok_or(ValidationError::NotificationText)
}

/// Longest reason staff give for rejecting a shopping list (the customer reads it).
pub const MAX_REASON_LEN: usize = 300;

/// Why staff reject a shopping list, as sent: something besides spaces, at most
/// [`MAX_REASON_LEN`] characters (kept trimmed).
pub fn reject_reason(s: &str) -> Result<(), ValidationError> {
    (has_text(s) && s.chars().count() <= MAX_REASON_LEN).then_some(()).ok_or(ValidationError::Reason)
}

#[cfg(test)]
mod shop_tests {
    use super::*;

    #[test]
    fn a_notifications_text_is_named_as_text_in_its_error() {
        assert!(notification_text("ready soon").is_ok());
        assert!(notification_text(&"é".repeat(MAX_NOTE_LEN)).is_ok());
        for bad in [String::new(), "  ".into(), "x".repeat(MAX_NOTE_LEN + 1), format!("{} ", "x".repeat(MAX_NOTE_LEN))] {
            assert_eq!(notification_text(&bad).unwrap_err().to_string(), "text must be 1 to 500 characters");
        }
    }

    #[test]
    fn shop_details_are_checked() {
        assert!(phone("+44 (0)20 7946-0958").is_ok());
        assert_eq!(phone("call me"), Err(ValidationError::Phone));
        assert!(currency("GBP").is_ok());
        for bad in ["gbp", "EU", "EURO", "€"] {
            assert_eq!(currency(bad), Err(ValidationError::Currency), "{bad}");
        }
        assert!(alert_minutes(5, 10).is_ok());
        for (w, l) in [(0, 10), (10, 10), (11, 10), (5, 241)] {
            assert_eq!(alert_minutes(w, l), Err(ValidationError::AlertMinutes), "{w} {l}");
        }
        assert!(shop_text("address", &"x".repeat(200)).is_ok());
        assert_eq!(shop_text("address", &"x".repeat(201)), Err(ValidationError::ShopText("address")));
    }
}

/// Whether stock at `stock` is low for a product with this threshold.
pub fn is_low_stock(stock: i64, threshold: i64) -> bool {
    stock <= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unicode_white_space_and_the_byte_order_mark() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(BLANKS.contains(&c), c.is_whitespace() || c == '\u{feff}', "U+{:04X}", c as u32);
        }
        assert!(!has_text(""));
        assert!(!has_text(" \u{85}\u{3000}\u{feff}\t"));
        assert!(has_text(" Rye\u{a0}"));
        assert!(name("\u{85}").is_err() && name("\u{3000}").is_err() && name("x").is_ok());
        assert_eq!(reject_reason(" \u{3000}"), Err(ValidationError::Reason));
        assert_eq!(reject_reason(&"x".repeat(MAX_REASON_LEN)), Ok(()));
        assert_eq!(reject_reason(&"é".repeat(MAX_REASON_LEN + 1)), Err(ValidationError::Reason));
        let pattern = has_text_pattern();
        assert!(pattern.starts_with("[^\t\n") && pattern.ends_with("\u{feff}]") && !pattern.contains('\\'));
    }

    #[test]
    fn order_items_need_sane_quantities_and_no_repeats() {
        assert_eq!(order_items(&[(1, 2), (2, 1)]), Ok(()));
        assert_eq!(order_items(&[]), Err(ValidationError::NoItems));
        assert_eq!(order_items(&[(1, 0)]), Err(ValidationError::Quantity(0)));
        assert_eq!(order_items(&[(1, -3)]), Err(ValidationError::Quantity(-3)));
        assert_eq!(order_items(&[(1, MAX_QUANTITY + 1)]), Err(ValidationError::Quantity(1001)));
        assert_eq!(order_items(&[(1, i64::MAX)]), Err(ValidationError::Quantity(i64::MAX)));
        assert_eq!(order_items(&[(1, 1), (1, 1)]), Err(ValidationError::DuplicateProduct(1)));
        let many: Vec<_> = (0..=MAX_ITEMS_PER_ORDER as i64).map(|i| (i, 1)).collect();
        assert_eq!(order_items(&many), Err(ValidationError::TooManyItems));
    }

    #[test]
    fn prices_stock_and_names_have_bounds() {
        assert_eq!(price(0), Ok(()));
        assert_eq!(price(-1), Err(ValidationError::Price(-1)));
        assert_eq!(price(MAX_PRICE_MINOR + 1), Err(ValidationError::Price(MAX_PRICE_MINOR + 1)));
        assert_eq!(stock(MAX_STOCK), Ok(()));
        assert_eq!(stock(-1), Err(ValidationError::Stock(-1)));
        assert_eq!(threshold(-1), Err(ValidationError::Threshold(-1)));
        assert_eq!(name("Bread"), Ok(()));
        assert_eq!(name("   "), Err(ValidationError::Name));
        assert_eq!(name(&"x".repeat(MAX_NAME_LEN + 1)), Err(ValidationError::Name));
        assert_eq!(note(&"x".repeat(MAX_NOTE_LEN)), Ok(()));
        assert_eq!(note(&"x".repeat(MAX_NOTE_LEN + 1)), Err(ValidationError::Note));
    }

    #[test]
    fn emails_and_passwords_are_checked() {
        assert_eq!(email("a@b.test"), Ok(()));
        for bad in ["", "a", "a@", "@b.test", "a@b", "a b@c.test", "a@.test", "a@b."] {
            assert_eq!(email(bad), Err(ValidationError::Email), "{bad}");
        }
        assert_eq!(password("12345678"), Ok(()));
        assert_eq!(password("1234567"), Err(ValidationError::Password));
        assert_eq!(password(&"x".repeat(MAX_PASSWORD_LEN + 1)), Err(ValidationError::Password));
    }

    #[test]
    fn stock_at_the_threshold_is_low() {
        assert!(is_low_stock(5, 5));
        assert!(!is_low_stock(6, 5));
    }
}
