//! Small values this browser keeps: between visits (`localStorage`: the sound settings and
//! each shop's cart) or for this tab only (`sessionStorage`: a board's unacknowledged orders
//! across a reload). On the server, and where storage is refused (private modes, full quota),
//! nothing is kept and nothing fails.

/// Where a value is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// In this browser, between visits.
    Browser,
    /// In this tab, across reloads of its page; gone with the tab.
    Tab,
}

pub fn get(key: &str) -> Option<String> {
    get_in(Kept::Browser, key)
}

/// Keeps `value` under `key`; an empty value removes the key.
pub fn set(key: &str, value: &str) {
    set_in(Kept::Browser, key, value)
}

pub fn get_in(kept: Kept, key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    return storage(kept)?.get_item(key).ok().flatten();
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (kept, key);
        None
    }
}

/// Keeps `value` under `key`; an empty value removes the key.
pub fn set_in(kept: Kept, key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(s) = storage(kept) {
        let _ = if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (kept, key, value);
}

#[cfg(feature = "hydrate")]
fn storage(kept: Kept) -> Option<web_sys::Storage> {
    let window = leptos::prelude::window();
    match kept {
        Kept::Browser => window.local_storage(),
        Kept::Tab => window.session_storage(),
    }
    .ok()
    .flatten()
}
