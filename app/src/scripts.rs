//! The browser's code for a page, named in the page's head: the main WASM and its JS glue, the
//! script that hydrates with them, and the WASM chunks of the page being rendered (`cargo
//! leptos build --split`), all preloaded so a phone fetches them side by side while it shows
//! the page, not one after another once the main WASM has run.
//!
//! This is Leptos's `HydrationScripts` (its islands script) plus chunk preloads, done here
//! because Leptos's server integration (leptos_integration_utils 0.8.9) adds preloads only for
//! lazy routes, and looks up the split manifest outside the request's reactive owner (they
//! came with some responses and not with others); a phone without them waits for the main
//! WASM, then the lazy loader, then the island's chunks. The server reads the file names once
//! at start ([`Assets`]); each page names its islands' chunks ([`PreloadChunks`], in
//! `crate::routes`).

use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// The site's stylesheet and compiled code as the server found them at start: URLs with
/// their content hashes in release builds.
#[derive(Clone, Debug, Default)]
pub struct Assets {
    pub stylesheet: String,
    /// The main JS glue and WASM.
    pub js: String,
    pub wasm: String,
    /// The lazy loader's JS (`--split` builds only).
    pub split_js: Option<String>,
    /// The chunks (URLs) each lazily loaded function needs, by the function's name in the
    /// split manifest without its number, e.g. `shop_front_loader` (the `ShopFront` island's).
    pub chunks: HashMap<String, Vec<String>>,
}

/// Loads the JS glue, instantiates the main WASM with it, and hydrates each island of the page
/// (`<leptos-island data-component="…">`, named after its exported function; a lazily loaded
/// one returns a promise, settled once its chunk has loaded and it has hydrated), then tells
/// the app all of them have. Leptos's island script, without its wait for an idle moment
/// (interactive as soon as the code is here) and with the end of hydration marked. An island
/// the code does not know (a page and code from different releases) would never answer: the
/// page says it has stopped, with a way to reload (`KEEP_EARLY_TAPS` in `lib.rs`).
const HYDRATE: &str = "(function(js,wasm){import(js).then(function(m){\
m.default({module_or_path:wasm}).then(function(){m.hydrate();var w=[];\
document.querySelectorAll('leptos-island').forEach(function(el){var f=m[el.dataset.component];\
if(f){var r=f(el);if(r&&r.then){w.push(r);}}else if(window.__ordercastCrashed){window.__ordercastCrashed();}});\
Promise.all(w).then(function(){m.hydrated();});});});})";

/// The head's preloads of the main code and the script that hydrates the page with it.
#[component]
pub fn HydrationScripts(assets: Arc<Assets>) -> impl IntoView {
    let script = format!("{HYDRATE}({:?},{:?});", assets.js, assets.wasm);
    view! {
        <link rel="modulepreload" href=assets.js.clone() crossorigin="anonymous"/>
        <link rel="preload" href=assets.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=leptos::nonce::use_nonce() inner_html=script></script>
    }
}

/// Preloads, from the page's head, the chunks of the lazily loaded function `of` (its name in
/// the split manifest without the number, e.g. `shop_front_loader`) and the lazy loader.
/// Renders nothing, on the server and in the browser alike.
#[component]
pub fn PreloadChunks(of: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(assets) = use_context::<Arc<Assets>>() {
        use leptos::tachys::view::RenderHtml;
        use leptos_meta::Link;
        if let (Some(split_js), Some(chunks)) = (&assets.split_js, assets.chunks.get(of)) {
            // Rendered here only to register them with the page's head.
            for chunk in chunks {
                let _ = view! { <Link rel="preload" href=chunk.clone() as_="fetch" type_="application/wasm" crossorigin="anonymous"/> }.to_html();
            }
            let _ = view! { <Link rel="modulepreload" href=split_js.clone() crossorigin="anonymous"/> }.to_html();
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = of;
}
