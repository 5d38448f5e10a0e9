//! The browser entry point. cargo-leptos builds this crate to WASM; the generated JS calls
//! `hydrate` once the server-rendered HTML has loaded, and the pages become interactive.

// Leptos views are deeply nested types; the larger pages need a deeper limit.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic stops the app for good (the WASM aborts): log it, and tell the page so.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        app::crashed();
    }));
    // Lazy routes (see `app::routes`): the page's WASM chunks load, then it hydrates; only
    // then is it marked interactive and are the taps made while loading replayed.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else { return };
        let owner = leptos::mount::hydrate_from_async(body, app::App).await;
        owner.forget();
        app::hydrated();
    });
}
