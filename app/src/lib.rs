//! Ordercast's shared crate.
//!
//! - [`domain`]: the order state machine, access rules, event topics and input limits (pure).
//! - [`api`] and [`protocol`]: the REST API's JSON shapes and the socket's messages.
//! - [`patch`] and [`cart`]: how events change what a page shows, and the customer's cart (pure).
//! - [`timestamp`] and [`text`]: reading the API's timestamps and changing the case of text,
//!   without chrono's general parser or Unicode's tables in the WASM.
//! - [`client`], [`session`], [`live`]: the pages' access to the API, who is signed in, and the
//!   tab's one live connection.
//! - [`pages`]: the Leptos pages, rendered on the server (`ssr`); the browser (`hydrate`)
//!   hydrates only their islands, the parts that change or answer, which share what [`tab`]
//!   holds. With [`toast`] and [`chime`]; [`routes`] names the staff pages' code.
//! - [`backend`] (server only): the interface through which pages reach the server's data.

// Leptos views are deeply nested types; the larger pages need a deeper limit.
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod cart;
pub mod chime;
pub mod client;
pub mod domain;
pub mod kept;
pub mod live;
pub mod notify;
pub mod pages;
pub mod patch;
pub mod photo;
pub mod protocol;
pub mod push;
pub mod routes;
pub mod scripts;
pub mod session;
pub mod tab;
pub mod text;
pub mod timestamp;
pub mod toast;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// Taps on buttons before the page is interactive (the WASM still loading on a slow phone) are
/// kept, shown busy, and replayed once it is, so a tap is never lost. Links and forms work
/// without it already; a `<select data-submit-on-change>` (the admin's filters) submits its
/// form when changed, with or without the WASM. The service worker (`public/sw.js`:
/// notifications, the offline shell) is registered from here too, before the WASM has loaded,
/// and the browser's time zone is left in a cookie for the server to render the next page's
/// times in ([`pages::common::ViewerZone`]).
///
/// And the page says when its app has stopped: a panic (the `frontend` crate's hook calls
/// `__ordercastCrashed`) or any other trap of the WASM, which the browser reports as an
/// uncaught `WebAssembly.RuntimeError`, leaves an app that no longer updates the page nor
/// answers it. `data-crashed` on `<body>` shows the banner saying so (`.crashed`); a board,
/// which staff leave unattended, reloads itself after a few seconds, unless it already did so
/// in the last minute (then it waits for someone to reload it, rather than loop).
const KEEP_EARLY_TAPS: &str = "(function(){var q=[];\
window.__ordercastCrashed=function(){var b=document.body;if(!b||b.hasAttribute('data-crashed'))return;\
var again=false;try{var last=Number(sessionStorage.getItem('ordercast-crash-reload'));again=Date.now()-last<60000;\
if(location.pathname==='/board'&&!again){sessionStorage.setItem('ordercast-crash-reload',String(Date.now()));\
b.setAttribute('data-crashed','reloading');setTimeout(function(){location.reload();},5000);return;}}catch(e){}\
b.setAttribute('data-crashed','true');};\
function trapped(e){if(window.WebAssembly&&(e.error||e.reason) instanceof WebAssembly.RuntimeError){window.__ordercastCrashed();}}\
window.addEventListener('error',trapped);window.addEventListener('unhandledrejection',trapped);\
document.addEventListener('change',function(e){var s=e.target;\
if(s&&s.matches&&s.matches('select[data-submit-on-change]')&&s.form){s.form.requestSubmit();}});\
document.addEventListener('click',function(e){\
if(document.body.getAttribute('data-hydrated')==='true')return;\
var b=e.target.closest&&e.target.closest('button[type=button]');if(!b)return;\
e.preventDefault();e.stopPropagation();q.push([b,b.getAttribute('aria-label')]);b.setAttribute('aria-busy','true');},true);\
window.__ordercastReplayTaps=function(){q.splice(0).forEach(function(t){var b=t[0];b.removeAttribute('aria-busy');\
if(!b.isConnected&&t[1]){b=document.querySelector('button[aria-label=\"'+t[1]+'\"]');}\
if(b&&!b.disabled){b.click();}});};\
if('serviceWorker' in navigator){navigator.serviceWorker.register('/sw.js').catch(function(){});}\
try{document.cookie='tz='+Intl.DateTimeFormat().resolvedOptions().timeZone+';path=/;max-age=31536000;samesite=lax';}catch(e){}})();";

/// The HTML document around the app, rendered once per server response. `assets` names the
/// stylesheet and the compiled code (with their content hashes in release builds).
pub fn shell(options: LeptosOptions, assets: std::sync::Arc<scripts::Assets>) -> impl IntoView {
    provide_context(assets.clone());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="apple-touch-icon" href="/icons/apple-touch-icon.png"/>
                <meta name="theme-color" content="#1f2433"/>
                <link rel="stylesheet" id="leptos" href=assets.stylesheet.clone()/>
                <script nonce=leptos::nonce::use_nonce() inner_html=KEEP_EARLY_TAPS></script>
                <AutoReload options/>
                <scripts::HydrationScripts assets/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Marks the page interactive once every island of it has hydrated (the lazily loaded ones
/// included), and replays the taps [`KEEP_EARLY_TAPS`] kept until then. The browser
/// tests wait for the mark instead of sleeping. Called by the `frontend` crate.
#[cfg(feature = "hydrate")]
pub fn hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
    if let Ok(event) = web_sys::Event::new(HYDRATED_EVENT) {
        let _ = document().dispatch_event(&event);
    }
    call_page_script("__ordercastReplayTaps");
}

/// Runs `f` once the page has hydrated, every island of it (at once if it has): what changes
/// the page afterwards (the clock's first tick, the live link) must not change its structure
/// while a lazily loaded island is still being hydrated.
#[cfg(feature = "hydrate")]
pub fn when_hydrated(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    if document().body().and_then(|b| b.get_attribute("data-hydrated")).as_deref() == Some("true") {
        f();
    } else {
        let once = wasm_bindgen::closure::Closure::once_into_js(f);
        let _ = document().add_event_listener_with_callback(HYDRATED_EVENT, once.unchecked_ref());
    }
}

/// Tells the page its app has stopped (see [`KEEP_EARLY_TAPS`]): called by the `frontend`
/// crate's panic hook, before the WASM aborts.
#[cfg(feature = "hydrate")]
pub fn crashed() {
    call_page_script("__ordercastCrashed");
}

/// Calls `window[name]()`, a function [`KEEP_EARLY_TAPS`] defined, if it is there.
#[cfg(feature = "hydrate")]
fn call_page_script(name: &str) {
    use wasm_bindgen::JsCast;
    let f = js_sys::Reflect::get(&window(), &wasm_bindgen::JsValue::from_str(name));
    if let Ok(f) = f.and_then(|f| f.dyn_into::<js_sys::Function>()) {
        let _ = f.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// Dispatched on `document` once the page has hydrated.
pub const HYDRATED_EVENT: &str = "ordercast-hydrated";

/// The app as the server renders it: the router runs on the server only; in the browser each
/// page is the server's HTML with its islands hydrated, and a link is a page load.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // What the islands share in the browser (see `tab`), provided here for the server's render.
    live::Live::provide();
    let session = session::Session::provide();
    toast::Toasts::provide();
    pages::common::Clock::provide();

    view! {
        <Title text="Ordercast"/>
        <Router>
            // Shown by the stylesheet alone if the app has not started some seconds after the
            // page arrived (its code failed to load, or was refused): no script can say so
            // then, and a board that looks fresh but never updates would cost orders.
            <div class="not-started" role="alert">
                <strong>"Not live."</strong>
                " This page has not started yet, so it does not update. If this stays, check the connection and "
                <a href="">"reload the page"</a>
                "."
            </div>
            // Shown once the app has stopped after it started (a panic, or any other trap of
            // its code; see `KEEP_EARLY_TAPS`): the page no longer updates or answers.
            <div class="crashed" role="alert">
                <strong>"Stopped."</strong>
                " Something went wrong on this page, so it no longer updates. "
                <span class="crashed-manual"><a href="">"Reload the page"</a>"."</span>
                <span class="crashed-auto">"It reloads itself in a few seconds."</span>
            </div>
            <header class="topbar">
                <a class="brand" href="/">"Ordercast"</a>
                <pages::nav::Nav/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move { view! { <tab::TabLink signed_in=session.0.await.ok()/> } })}
                </Suspense>
            </header>
            <main>
                <live::OfflineCopyNotice/>
                // Every page is rendered whole before it is sent (`SsrMode::Async`): its data
                // is an in-process read of a few milliseconds, so streaming a "Loading…" shell
                // first only gains those milliseconds, and costs a phone the page's real
                // content in its first paint (it came later, swapped in by script), the
                // page's own title (the shell's was sent before the page set it), and a real
                // redirect to sign in (the status was sent before the page knew it needed one).
                <Routes fallback=pages::nav::NotFound>
                    <Route path=path!("/") ssr=SsrMode::Async view=pages::nav::Home/>
                    <Route path=path!("/login") ssr=SsrMode::Async view=pages::login::LoginPage/>
                    <Route path=path!("/shops") ssr=SsrMode::Async view=pages::shops::ShopsPage/>
                    <Route path=path!("/shops/:id") ssr=SsrMode::Async view=pages::shops::ShopPage/>
                    <Route path=path!("/orders") ssr=SsrMode::Async view=pages::orders::OrdersPage/>
                    <Route path=path!("/orders/:id") ssr=SsrMode::Async view=pages::orders::OrderPage/>
                    <Route path=path!("/lists/:id") ssr=SsrMode::Async view=pages::chitties::ListPage/>
                    <Route path=path!("/board") ssr=SsrMode::Async view=routes::board/>
                    <Route path=path!("/admin") ssr=SsrMode::Async view=routes::admin/>
                    <Route path=path!("/admin/users") ssr=SsrMode::Async view=routes::users/>
                </Routes>
            </main>
            <toast::Toaster/>
        </Router>
    }
}
