//! Pieces every page uses: loading a page's data with the signed-out redirect, the ticking
//! clock for ages, status badges, an order's timeline and its action buttons.

use crate::api::{format_money, CancelRequest, Order, StatusUpdate};
use crate::client::{self, ApiFailure, Method};
use crate::domain::{allowed, Actor, OrderState, OrderStatus, PaymentStatus};
use crate::patch::age;
use crate::session::Session;
use crate::toast::Toasts;
use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;

/// A page's data, read while the server renders the page, again when `source` changes.
/// Not a `Resource`: a resource also writes its value into the page for the browser to
/// hydrate from, and here no browser reads it (the islands get their data as props), so every
/// page carried its data twice (the board's, 118 of its 359 KiB).
pub fn page_data<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> AsyncDerived<T>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    AsyncDerived::new(move || fetcher(source()))
}

/// Renders a page's data once loaded: a redirect to sign-in when signed out, the error when
/// loading failed, otherwise `view`. The session is loaded first, so what a page shows for
/// its user (the actions they may take) is the same on the server and when hydrating.
pub fn loaded<T, V>(
    data: AsyncDerived<Result<T, ApiFailure>>,
    view: impl Fn(T) -> V + Send + Sync + Copy + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = Session::use_context();
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let _ = session.0.await;
                match data.await {
                    Ok(value) => view(value).into_any(),
                    Err(e) if client::is_signed_out(&e) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The current time for ages and the board's timers, ticking every second in the browser.
/// `None` until hydrated, so the server-rendered page and the hydrating one agree.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<Option<DateTime<Utc>>>, Memo<bool>);

impl Clock {
    pub fn provide() -> Clock {
        let now = RwSignal::new(None::<DateTime<Utc>>);
        // What only needs the viewer's zone and locale (times of day, money) follows this,
        // not the per-second tick the timers need.
        let hydrated = Memo::new(move |_| now.with(|t| t.is_some()));
        let clock = Clock(now, hydrated);
        provide_context(clock);
        #[cfg(feature = "ssr")]
        if let Some(zone) = ViewerZone::from_request() {
            provide_context(zone);
        }
        // Only once the whole page has hydrated, the lazily loaded part too: a text hydrated
        // after the switch would keep its server-rendered (UTC) form, since hydrating a text
        // takes it as rendered and only a later change rewrites it.
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            let tick = move || {
                clock.0.set(Some(Utc::now()));
                let _ = set_interval_with_handle(move || clock.0.set(Some(Utc::now())), std::time::Duration::from_secs(1));
            };
            crate::when_hydrated(tick);
        });
        clock
    }

    pub fn use_context() -> Clock {
        expect_context::<Clock>()
    }

    /// Now, once hydrated.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.0.get()
    }

    /// "4 min" since `at`, or nothing before hydration.
    pub fn age(&self, at: DateTime<Utc>) -> String {
        self.0.get().map(|now| age(at, now)).unwrap_or_default()
    }

    /// Whether the page is hydrated (the browser's zone and locale can be used).
    pub fn hydrated(&self) -> bool {
        self.1.get()
    }

    /// `at` as a short local time ("12:40"; with the day when not today). Until hydrated, in
    /// the zone the viewer's browser last told the server ([`ViewerZone`]), else UTC, labelled.
    pub fn short_time(&self, at: DateTime<Utc>) -> String {
        if self.hydrated() {
            return short_time_in(&chrono::Local, at);
        }
        #[cfg(feature = "ssr")]
        if let Some(ViewerZone(zone)) = use_context::<ViewerZone>() {
            return short_time_in(&zone, at);
        }
        format!("{} UTC", hm(&at))
    }

    /// `at` as "12:40 on 3 Mar 2026" in the viewer's zone; until hydrated as [`short_time`]
    /// decides the zone, with UTC written out in full.
    ///
    /// [`short_time`]: Clock::short_time
    pub fn local_time(&self, at: DateTime<Utc>) -> String {
        if self.hydrated() {
            return time_on_date(&at.with_timezone(&chrono::Local));
        }
        #[cfg(feature = "ssr")]
        if let Some(ViewerZone(zone)) = use_context::<ViewerZone>() {
            return time_on_date(&at.with_timezone(&zone));
        }
        format_time(at)
    }
}

fn short_time_in<Z: chrono::TimeZone>(zone: &Z, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(zone);
    if local.date_naive() == Utc::now().with_timezone(zone).date_naive() {
        hm(&local)
    } else {
        format!("{} {}", day_month(&local), hm(&local))
    }
}

// Times as text, from their fields: chrono's `format` parses its pattern at run time, and its
// parser and formatter were 2 % of the WASM for these few fixed shapes.
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// "09:05".
pub fn hm(t: &impl Timelike) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// "09:05:07".
pub fn hms(t: &impl Timelike) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// "3 Mar".
pub fn day_month(d: &impl Datelike) -> String {
    format!("{} {}", d.day(), MONTHS[d.month0() as usize % 12])
}

/// "09:05 on 3 Mar 2026".
fn time_on_date(t: &(impl Timelike + Datelike)) -> String {
    format!("{} on {} {}", hm(t), day_month(t), t.year())
}

/// The viewer's time zone as their browser named it on an earlier page (the `tz` cookie the
/// shell's first script sets), so the server renders times as the browser will once
/// hydrated, rather than in UTC. A first visit, or a name the server does not know, gets UTC.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug)]
pub struct ViewerZone(pub chrono_tz::Tz);

#[cfg(feature = "ssr")]
impl ViewerZone {
    fn from_request() -> Option<ViewerZone> {
        let parts = use_context::<http::request::Parts>()?;
        crate::backend::cookie(&parts.headers, "tz")?.parse::<chrono_tz::Tz>().ok().map(ViewerZone)
    }
}

/// A page title that follows `text` in the browser (an order's status, the board's count of
/// new orders), set from an island's body: a title is not part of the island's HTML, so it
/// must not be part of its view either (the server's and the browser's would differ). The
/// server works it out once, while the page renders: Leptos reads the titles after the
/// render, outside the request's reactive scope, where reading a signal can land in another
/// request's (and panic the worker, dropping the response). The browser sets the document's
/// title itself: an island has no `<head>` of its own to manage.
pub fn live_title(text: impl Fn() -> String + Send + Sync + 'static) {
    // Building the `Title` registers it with the page's head; it renders nothing itself.
    #[cfg(feature = "ssr")]
    let _ = view! { <leptos_meta::Title text=text()/> };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| document().set_title(&text()));
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let _ = text;
}

/// An amount of money as the viewer's browser formats it for their locale (Intl), or
/// [`format_money`] until hydrated, so the server-rendered page and the hydrating one agree.
pub fn money(minor: i64, currency: String) -> impl Fn() -> String + Send + Sync + 'static {
    let clock = Clock::use_context();
    move || money_text(minor, &currency, clock.hydrated())
}

/// [`money`] for an amount that changes (a cart's total).
pub fn money_text(minor: i64, currency: &str, hydrated: bool) -> String {
    if hydrated {
        #[cfg(feature = "hydrate")]
        if let Some(s) = intl_money(minor, currency) {
            return s;
        }
    }
    format_money(minor, currency)
}

#[cfg(feature = "hydrate")]
fn intl_money(minor: i64, currency: &str) -> Option<String> {
    use wasm_bindgen::JsValue;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"style".into(), &"currency".into()).ok()?;
    js_sys::Reflect::set(&options, &"currency".into(), &currency.into()).ok()?;
    let format = js_sys::Intl::NumberFormat::new(&js_sys::Array::new(), &options).format();
    // For display only: the amount itself stays in integer minor units.
    format.call1(&JsValue::NULL, &JsValue::from_f64(minor as f64 / 100.0)).ok()?.as_string()
}

pub fn format_time(at: DateTime<Utc>) -> String {
    format!("{}-{:02}-{:02} {} UTC", at.year(), at.month(), at.day(), hms(&at))
}

#[component]
pub fn StatusBadge(status: OrderStatus) -> impl IntoView {
    view! { <span class=format!("status status-{}", status.as_str())>{status.label()}</span> }
}

#[component]
pub fn PaymentBadge(payment: PaymentStatus) -> impl IntoView {
    let label = match payment {
        PaymentStatus::Paid => "Paid",
        PaymentStatus::Unpaid => "Unpaid",
    };
    view! { <span class=format!("payment payment-{}", payment.as_str())>{label}</span> }
}

/// An order's status history with times, oldest first.
#[component]
pub fn Timeline(order: Order) -> impl IntoView {
    let clock = Clock::use_context();
    view! {
        <ol class="timeline" aria-label="Status history">
            {order
                .history
                .into_iter()
                .map(|h| {
                    let what = match h.change {
                        crate::domain::order::OrderChange::Created => "Placed".to_string(),
                        crate::domain::order::OrderChange::PaymentVerified => "Payment verified".to_string(),
                        _ => h.status.label().to_string(),
                    };
                    view! {
                        <li class=format!("step step-{}", h.status.as_str())>
                            <span class="step-what">{what}</span>
                            <time datetime=h.at.to_rfc3339()>{move || clock.local_time(h.at)}</time>
                            {h.note.map(|n| view! { <span class="step-note">"“" {n} "”"</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The items of an order with their totals.
#[component]
pub fn OrderItems(order: Order) -> impl IntoView {
    view! {
        <table class="items">
            <thead>
                <tr><th scope="col">"Item"</th><th scope="col" class="num">"Qty"</th><th scope="col" class="num">"Price"</th><th scope="col" class="num">"Total"</th></tr>
            </thead>
            <tbody>
                {order.items.iter().map(|i| view! {
                    <tr>
                        <td>{i.name.clone()}</td>
                        <td class="num">{i.quantity}</td>
                        <td class="num">{money(i.unit_price_minor, order.currency.clone())}</td>
                        <td class="num">{money(i.line_total_minor, order.currency.clone())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr><th scope="row" colspan="3">"Total"</th><td class="num total">{money(order.total_minor, order.currency.clone())}</td></tr>
            </tfoot>
        </table>
    }
}

/// Sends an action on an order and hands `done` the updated order, or `None` when it was
/// refused; a refusal becomes a toast (the server's message says why, e.g. the order moved on
/// meanwhile).
pub fn order_action(toasts: Toasts, id: i64, action: OrderRequest, done: impl FnOnce(Option<Order>) + 'static) {
    spawn_local(async move {
        let result = match &action {
            OrderRequest::Advance(status) => {
                let body = StatusUpdate { status: *status, note: None };
                client::send::<_, Order>(Method::Patch, &format!("/orders/{id}/status"), &body).await
            }
            OrderRequest::Cancel(reason) => {
                let body = CancelRequest { reason: reason.clone().filter(|r| !r.trim().is_empty()) };
                client::send::<_, Order>(Method::Post, &format!("/orders/{id}/cancel"), &body).await
            }
            OrderRequest::VerifyPayment => {
                client::send::<_, Order>(Method::Post, &format!("/orders/{id}/payment/verify"), &serde_json::json!({})).await
            }
        };
        match result {
            Ok(order) => done(Some(order)),
            Err(e) => {
                toasts.push(crate::api::Severity::Warning, format!("Order #{id}: {}", e.message));
                done(None);
            }
        }
    });
}

#[derive(Clone, Debug)]
pub enum OrderRequest {
    Advance(OrderStatus),
    Cancel(Option<String>),
    VerifyPayment,
}

/// The buttons for what `actor` may do to `order` now: advance, verify payment, cancel (with
/// an optional reason). `done` receives the updated order. `compact` (the board's cards) shows
/// one primary action and puts the others in a "More" menu, so a red Cancel never sits right
/// under the button a busy hand reaches for.
#[component]
pub fn OrderActions(order: Order, actor: Actor, done: Callback<Order>, #[prop(optional)] compact: bool) -> impl IntoView {
    let Some(party) = actor.party_to_order(order.customer_id, order.shop_id) else {
        return ().into_any();
    };
    let can = allowed(OrderState { status: order.status, payment: order.payment_status }, party);
    let id = order.id;
    let toasts = Toasts::use_context();
    let cancelling = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let run = move |request: OrderRequest| {
        busy.set(true);
        order_action(toasts, id, request, move |updated| {
            busy.set(false);
            // The card may be gone by now (the live event re-rendered it first).
            if let Some(o) = updated {
                done.try_run(o);
            }
        });
    };
    let advance = can.advance.map(|next| view! {
        <button type="button" class="advance" disabled=move || busy.get() on:click=move |_| run(OrderRequest::Advance(next))>
            {format!("Mark {}", next.label().to_ascii_lowercase())}
        </button>
    });
    // Verifying a payment is the primary action only when nothing else moves the order on.
    let verify_primary = compact && advance.is_none();
    let verify = move |class: &'static str| view! {
        <button type="button" class=class disabled=move || busy.get() on:click=move |_| run(OrderRequest::VerifyPayment)>
            "Verify payment"
        </button>
    };
    let cancel = can.cancel.then(|| view! {
        <Show
            when=move || cancelling.get()
            fallback=move || view! {
                <button type="button" class="secondary danger cancel" on:click=move |_| cancelling.set(true)>"Cancel order"</button>
            }
        >
            <form class="cancel-form" on:submit=move |ev| {
                ev.prevent_default();
                run(OrderRequest::Cancel(Some(reason.get_untracked())));
            }>
                <label>
                    "Reason"
                    <input type="text" name="reason" maxlength="500" placeholder="Optional" bind:value=reason/>
                </label>
                <button type="submit" class="danger" disabled=move || busy.get()>"Confirm cancel"</button>
                <button type="button" class="link" on:click=move |_| cancelling.set(false)>"Keep order"</button>
            </form>
        </Show>
    });
    if !compact {
        return view! {
            <div class="actions">
                {advance}
                {can.verify_payment.then(|| verify("secondary verify"))}
                {cancel}
            </div>
        }
        .into_any();
    }
    let more = (can.cancel || (can.verify_payment && !verify_primary)).then(|| view! {
        <details class="more">
            <summary aria-label=format!("More actions for order #{id}") title="More actions">"⋯"</summary>
            <div class="menu">
                {(can.verify_payment && !verify_primary).then(|| verify("secondary verify"))}
                {cancel}
            </div>
        </details>
    });
    view! {
        <div class="actions compact">
            {advance}
            {(can.verify_payment && verify_primary).then(|| verify("verify"))}
            {more}
        </div>
    }
    .into_any()
}

/// "Orders 51–100 of 113" with links to the newer and older pages (`?page=`): plain links,
/// so paging works before the page is interactive too. `keep` is the rest of the query
/// string (the filters), kept by the links.
#[component]
pub fn Pager(page: u32, per_page: u32, total: Signal<i64>, #[prop(optional)] keep: String) -> impl IntoView {
    let pages = move || ((total.get().max(0) as u32).div_ceil(per_page)).max(1);
    let first = (page - 1) * per_page + 1;
    let href = move |page: u32| if keep.is_empty() { format!("?page={page}") } else { format!("?{keep}&page={page}") };
    let (newer, older) = (StoredValue::new(href(page.saturating_sub(1))), StoredValue::new(href(page + 1)));
    view! {
        <Show when=move || { pages() > 1 || page > 1 }>
            <nav class="pager" aria-label="Pages">
                {(page > 1).then(|| view! { <a class="newer" rel="prev" href=move || newer.get_value()>"← Newer"</a> })}
                <span class="where">
                    {move || format!("{}–{} of {}", first, (page * per_page).min(total.get().max(0) as u32), total.get())}
                    {move || format!(" · page {page} of {}", pages())}
                </span>
                <Show when=move || { page < pages() }>
                    <a class="older" rel="next" href=move || older.get_value()>"Older →"</a>
                </Show>
            </nav>
        </Show>
    }
}

/// Runs `f` every `period` while the calling component lives, in the browser only (an
/// effect: the server renders once and has nothing to repeat).
pub fn every(period: std::time::Duration, f: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let handle = set_interval_with_handle(f.clone(), period);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::{day_month, format_time, hm, hms, time_on_date};
    use chrono::{TimeZone, Utc};

    #[test]
    fn times_read_as_chronos_patterns_would_write_them() {
        let zone = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        for at in [
            Utc.with_ymd_and_hms(2026, 3, 3, 9, 5, 7).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2027, 1, 10, 0, 0, 0).unwrap(),
        ] {
            let local = at.with_timezone(&zone);
            assert_eq!(hm(&local), local.format("%H:%M").to_string());
            assert_eq!(hms(&local), local.format("%H:%M:%S").to_string());
            assert_eq!(day_month(&local), local.format("%-d %b").to_string());
            assert_eq!(time_on_date(&local), local.format("%H:%M on %-d %b %Y").to_string());
            assert_eq!(format_time(at), at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        }
    }
}
