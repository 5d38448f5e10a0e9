//! What the islands of a browser tab share: the live connection, who is signed in, the toasts
//! and the clock.
//!
//! The server renders every page whole; the browser hydrates only its islands (`#[island]`),
//! the parts that change with events or answer a tap, so a phone downloads and runs their
//! code and not the rest of the app (the router, the navigation, the staff's screens: see
//! [`crate::routes`] for which islands are in the main WASM and which are loaded lazily).
//! Islands are hydrated one by one, each on its own: they share no component tree, so nothing
//! one provides reaches another. What they share is made once per tab, here, and [`enter`]
//! hands it to the island being built. On the server, [`crate::App`] provides the same values
//! for each request and `enter` finds them there.
//!
//! [`TabLink`] is the tab's first island (in the header): it brings who is signed in, as the
//! server rendered the page for them, and starts the live connection once every island of the
//! page has hydrated, from the `seq` the page was rendered at.

use crate::api::User;
use crate::live::Live;
#[cfg(feature = "hydrate")]
use crate::pages::common::Clock;
use crate::session::SessionInfo;
#[cfg(feature = "hydrate")]
use crate::toast::Toasts;
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
struct Shared {
    live: Live,
    toasts: Toasts,
    clock: Clock,
}

#[cfg(feature = "hydrate")]
thread_local! {
    static SHARED: std::cell::OnceCell<Shared> = const { std::cell::OnceCell::new() };
    /// Who the page was rendered for, from [`TabLink`]'s props.
    static SIGNED_IN: std::cell::OnceCell<Option<SessionInfo>> = const { std::cell::OnceCell::new() };
}

/// Gives the island being built the tab's [`Live`], [`Toasts`] and [`Clock`] as context.
/// Every island calls it first.
pub fn enter() {
    if use_context::<Live>().is_some() {
        return; // the server's `App`, or an island within an island
    }
    #[cfg(feature = "hydrate")]
    {
        let shared = SHARED.with(|s| *s.get_or_init(create));
        provide_context(shared.live);
        provide_context(shared.toasts);
        provide_context(shared.clock);
    }
}

/// The tab's shared values, made by the first island that hydrates; they live as long as the
/// tab (islands are never torn down).
#[cfg(feature = "hydrate")]
fn create() -> Shared {
    let live = Live::provide();
    let toasts = Toasts::provide();
    let clock = Clock::provide();
    // Notifications from admins, and a customer's own order changes, whatever the page.
    live.on_event(move |event| {
        if let Some(n) = crate::patch::notification_of(event) {
            toasts.push(n.severity, n.text);
        } else if let Some(order) = crate::patch::order_of(event) {
            let me = viewer().map(|u| u.id);
            let mine = me == Some(order.customer_id);
            // What the customer did themselves needs no toast; what the shop did does.
            let by_me = order.history.last().is_some_and(|h| Some(h.by_user_id) == me);
            // One toast per order, the latest change; none while the page shows its status.
            if mine && !by_me && event.event_type == crate::domain::EventType::OrderUpdated && !shows_order_status(order.id) {
                let text = format!("Order #{} is now {}", order.id, order.status.label().to_ascii_lowercase());
                toasts.push_keyed(crate::api::Severity::Info, Some(format!("order-{}", order.id)), text);
            }
        }
    });
    Shared { live, toasts, clock }
}

/// Whether the page on screen shows order `id`'s status already (its own page, or the list).
#[cfg(feature = "hydrate")]
fn shows_order_status(id: i64) -> bool {
    let path = window().location().pathname().unwrap_or_default();
    path == "/orders" || path == format!("/orders/{id}")
}

/// The signed-in user the page was rendered for: on the server, from the session loaded for
/// the request; in the browser, from what the server gave [`TabLink`].
pub fn viewer() -> Option<User> {
    #[cfg(feature = "ssr")]
    return use_context::<crate::session::Session>().and_then(|s| s.user_untracked());
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    return SIGNED_IN.with(|s| s.get().and_then(Option::as_ref).and_then(|info| info.user.clone()));
    #[allow(unreachable_code)]
    None
}

/// The tab's first island: the connection's state in the header. `signed_in` is who the page
/// was rendered for (`None`, or no user: nobody), the `seq` its data is current as of, and the
/// shops whose catalogues the tab follows.
#[island]
pub fn TabLink(signed_in: Option<SessionInfo>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    SIGNED_IN.with(|s| {
        let _ = s.set(signed_in.clone());
    });
    enter();
    let live = Live::use_context();
    // Started once every island of the page has hydrated and followed the link from the
    // `seq` of its own data: the link resumes from the lowest of them.
    #[cfg(feature = "hydrate")]
    if let Some(info) = signed_in.filter(|i| i.user.is_some()) {
        crate::when_hydrated(move || live.start(info.seq, info.catalog_topics()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = signed_in;
    view! { <crate::live::LinkIndicator live/> }
}

/// Goes to `path` (a full page load: islands have no client-side router). Browser only.
pub fn go(path: &str) {
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(path);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
