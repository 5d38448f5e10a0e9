//! Changing the case of text the way Unicode says, by the browser's own tables in the WASM
//! (Rust's are some 20 KB of it) and by Rust's on the server. Our own labels, which are
//! ASCII, use `to_ascii_lowercase` and need neither.

/// `text` in lower case: to compare what someone typed with a name, whatever its case.
pub fn lower(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_lower_case().into();
    #[cfg(not(feature = "hydrate"))]
    text.to_lowercase()
}

/// `text` in upper case.
pub fn upper(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_upper_case().into();
    #[cfg(not(feature = "hydrate"))]
    text.to_uppercase()
}
