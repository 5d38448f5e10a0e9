//! The browser entry point. cargo-leptos builds this crate to WASM; the page's script
//! (`app::scripts`) loads it, calls [`hydrate`], then hydrates each of the page's islands
//! (`<leptos-island>`, see `app::tab`) with its own exported function, and calls
//! [`hydrated`] once all of them have: a lazily loaded island first fetches its chunk.

// Leptos views are deeply nested types; the larger pages need a deeper limit.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic stops the app for good (the WASM aborts): log it, and tell the page so.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        app::crashed();
    }));
    leptos::mount::hydrate_islands();
}

/// Every island of the page has hydrated: the page is marked interactive, and the taps made
/// while it loaded are replayed.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrated() {
    app::hydrated();
}
