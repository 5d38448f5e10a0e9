//! Ordercast's shared crate.
//!
//! - [`domain`]: the order state machine, access rules, event topics and input limits (pure).
//! - [`api`]: the REST API's JSON shapes.
//! - [`pages`]: the Leptos pages, rendered on the server (`ssr`) and hydrated in the browser
//!   (`hydrate`).
//! - [`backend`] (server only): the interface through which pages reach the server's data.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
pub mod live;
pub mod pages;
pub mod protocol;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// The HTML document around the app, rendered once per server response.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // Effects run only in the browser: this marks the page once hydration has taken over,
    // which the browser tests wait for instead of sleeping.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    let live = live::Live::provide();

    view! {
        <Stylesheet id="leptos" href="/pkg/ordercast.css"/>
        <Title text="Ordercast"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Ordercast"</a>
                <live::LinkIndicator live/>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=pages::orders::OrdersPage/>
                    <Route path=StaticSegment("login") view=pages::login::LoginPage/>
                </Routes>
            </main>
        </Router>
    }
}
