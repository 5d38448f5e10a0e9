//! Orders: the signed-in user's list (a customer's own, a shopkeeper's shops', everything for
//! admins) and one order's tracker: where it is in words, a stepper of its stages with local
//! times, when it should be ready (from the shop's usual times), the shop's contact, the
//! items in the shop's currency, the actions allowed and the live timeline.

use crate::api::{Order, OrderList, Shop, ShopTimings, WithSeq};
use crate::client::{self, ApiFailure};
use crate::domain::timing::{expected_at, STAGES};
use crate::domain::order::{allowed, OrderState};
use crate::domain::OrderStatus;
use serde::{Deserialize, Serialize};
use crate::live::Live;
use crate::pages::common::{hm, live_title, loaded, money, page_data, Clock, Pager, OrderActions, OrderItems, PaymentBadge, StatusBadge, Timeline};
use crate::patch::{order_of, patch_orders};
use crate::protocol::EventEnvelope;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Orders per page of the list.
const PER_PAGE: u32 = 50;

fn list_path(page: u32) -> String {
    format!("/orders?per_page={PER_PAGE}&page={page}")
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.with(|q| q.get("page").and_then(|p| p.parse::<u32>().ok()).filter(|p| *p >= 1).unwrap_or(1));
    let data = page_data(page, |page| async move { client::get::<OrderList>(&list_path(page)).await });
    view! {
        <Title text="Orders · Ordercast"/>
        {loaded(data, |list| view! { <OrderTable list/> })}
    }
}

/// The list, live: an island (see [`crate::tab`]).
#[island]
fn OrderTable(list: OrderList) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let total = RwSignal::new(list.total);
    let rows = RwSignal::new(list.items);
    let (seq, page) = (list.seq, list.page.max(1));

    let on_event = move |event: &EventEnvelope| {
        let Some(order) = order_of(event) else { return };
        // A new order belongs on the first page; later pages follow the orders they show.
        if page > 1 && !rows.with_untracked(|r| r.iter().any(|o| o.id == order.id)) {
            return;
        }
        let announcement = format!("Order #{} is {}", order.id, order.status.label());
        let mut changed = false;
        rows.update(|r| changed = patch_orders(r, order));
        if changed {
            if event.event_type == crate::domain::EventType::OrderCreated {
                total.update(|t| *t += 1);
            }
            live.announcement.set(announcement);
        }
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = client::get::<OrderList>(&list_path(page)).await {
                rows.set(fresh.items);
                total.set(fresh.total);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(seq, on_event, reload);

    view! {
        <section class="card">
            <div class="page-head">
                <h1>"Orders"</h1>
                <p class="count">{move || match total.get() { 1 => "1 order".to_string(), n => format!("{n} orders") }}</p>
            </div>
            <crate::push::PushSwitch/>
            <Show when=move || rows.with(|r| r.is_empty())>
                <p class="empty">{if page > 1 { "No orders on this page." } else { "No orders yet. Orders you place or take appear here, and follow every change live." }}</p>
            </Show>
            <ul class="orders" data-seq=seq>
                <For each=move || rows.get() key=|o| (o.id, o.version) children=order_row/>
            </ul>
            <Pager page per_page=PER_PAGE total=Signal::derive(move || total.get())/>
        </section>
    }
}

fn order_row(order: Order) -> impl IntoView {
    let clock = Clock::use_context();
    let items = order.items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect::<Vec<_>>().join(", ");
    let created = order.created_at;
    view! {
        <li class="order" data-order-id=order.id data-version=order.version>
            <div class="order-head">
                <a class="order-id" href=format!("/orders/{}", order.id)>"#" {order.id}</a>
                <span class="shop">{order.shop_name}</span>
                <StatusBadge status=order.status/>
            </div>
            <div class="order-body">
                <span class="items">{items}</span>
                <span class="total">{money(order.total_minor, order.currency.clone())}</span>
            </div>
            <div class="order-meta">
                <PaymentBadge payment=order.payment_status/>
                <time datetime=created.to_rfc3339()>{move || clock.local_time(created)}</time>
                <span class="age">{move || clock.age(created)}</span>
            </div>
        </li>
    }
}

/// What the customer's order page shows: the order, its shop (contact, hours) and the shop's
/// usual times per stage for the estimate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrackerData {
    found: WithSeq<Order>,
    shop: Option<Shop>,
    timings: Option<ShopTimings>,
}

async fn load_tracker(id: i64) -> Result<TrackerData, ApiFailure> {
    let found = client::get::<WithSeq<Order>>(&format!("/orders/{id}")).await?;
    let shop_id = found.item.shop_id;
    // The contact and the estimate are extras: the order shows without them.
    let shop = client::get::<WithSeq<Shop>>(&format!("/shops/{shop_id}")).await.ok().map(|s| s.item);
    let timings = client::get::<ShopTimings>(&format!("/shops/{shop_id}/timings")).await.ok();
    Ok(TrackerData { found, shop, timings })
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let data = page_data(id, |id| async move {
        match id {
            Some(id) => load_tracker(id).await,
            None => Err(crate::api::ErrorDetail { code: crate::api::ErrorCode::NotFound, message: "No such order.".into() }),
        }
    });
    loaded(data, |data| view! { <OrderDetail data/> })
}

/// What the customer reads first: where the order is, in words.
fn headline(status: OrderStatus, shop: &str) -> String {
    match status {
        OrderStatus::Pending => format!("Waiting for {shop} to confirm your order"),
        OrderStatus::Confirmed => format!("{shop} has your order"),
        OrderStatus::Preparing => "Your order is being prepared".into(),
        OrderStatus::Ready => "Your order is ready".into(),
        OrderStatus::OutForDelivery => "Your order is on its way".into(),
        OrderStatus::Delivered => "Delivered — enjoy!".into(),
        OrderStatus::Cancelled => "This order was cancelled".into(),
    }
}

/// The tracker, live: an island (see [`crate::tab`]).
#[island]
fn OrderDetail(data: TrackerData) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let clock = Clock::use_context();
    let TrackerData { found, shop, timings } = data;
    let WithSeq { item, seq } = found;
    let id = item.id;
    let order = RwSignal::new(item);
    let medians = timings.as_ref().map(|t| t.medians());

    let on_event = move |event: &EventEnvelope| {
        let Some(snapshot) = order_of(event).filter(|o| o.id == id) else { return };
        // `try_`: a reload still in flight may deliver events after the page has gone.
        if order.try_with_untracked(|o| o.version).is_some_and(|v| snapshot.version > v) {
            live.announcement.set(format!("Order #{} is {}", id, snapshot.status.label()));
            order.set(snapshot);
        }
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = client::get::<WithSeq<Order>>(&format!("/orders/{id}")).await {
                order.set(fresh.item);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(seq, on_event, reload);

    let done = Callback::new(move |updated: crate::api::Order| {
        if updated.version > order.with_untracked(|o| o.version) {
            order.set(updated);
        }
    });
    let actor = move || crate::tab::viewer().map(|u| u.actor());
    // The actions are drawn again only when what this viewer may do changes: the shop
    // verifying the payment leaves a cancel form being filled in, and the focus, as they were.
    let can = Memo::new(move |_| {
        let viewer = actor()?;
        order.with(|o| {
            let party = viewer.party_to_order(o.customer_id, o.shop_id)?;
            Some(allowed(OrderState { status: o.status, payment: o.payment_status }, party))
        })
    });
    let actions = move || {
        // Read, not only tracked: a memo nobody reads is never computed, so never changes.
        let _ = can.get();
        actor().map(|actor| view! { <OrderActions order=order.get_untracked() actor done/> })
    };
    // "Ready around 12:40 (in 9 min)": from the shop's usual times, once the page knows the
    // viewer's clock and zone.
    let estimate = move || {
        let (status, since) = order.with(|o| (o.status, o.status_since()));
        let now = clock.now()?;
        let (target, what) = match status {
            OrderStatus::Pending | OrderStatus::Confirmed | OrderStatus::Preparing => (OrderStatus::Ready, "Ready"),
            OrderStatus::Ready | OrderStatus::OutForDelivery => (OrderStatus::Delivered, "At your door"),
            _ => return None,
        };
        let at = expected_at(status, since, target, medians.as_ref()?, now)?;
        let mins = (at - now).num_minutes().max(1);
        Some(format!("{what} around {} (in about {mins} min)", hm(&at.with_timezone(&chrono::Local))))
    };

    live_title(move || order.with(|o| format!("Order #{} · {} · Ordercast", o.id, o.status.label())));
    view! {
        <section class="card order-detail" data-order-id=id>
            {move || {
                let o = order.get();
                let reached: Vec<Option<chrono::DateTime<chrono::Utc>>> =
                    STAGES.iter().map(|s| o.history.iter().find(|h| h.status == *s).map(|h| h.at)).collect();
                let current = STAGES.iter().position(|s| *s == o.status);
                view! {
                    <div class="page-head">
                        <h1>"Order #" {o.id}</h1>
                        <StatusBadge status=o.status/>
                    </div>
                    <p class="headline" role="status">{headline(o.status, &o.shop_name)}</p>
                    {(!o.status.is_final()).then(|| view! { <p class="estimate">{estimate}</p> })}
                    {(o.status != OrderStatus::Cancelled).then(|| view! {
                        <ol class="stepper" aria-label="Progress">
                            {STAGES.iter().enumerate().map(|(i, stage)| {
                                let state = match current {
                                    Some(c) if i < c => "done",
                                    Some(c) if i == c => "current",
                                    _ => "todo",
                                };
                                let at = reached[i];
                                view! {
                                    <li class=format!("stage {state}") aria-current=(state == "current").then_some("step")>
                                        <span class="stage-dot" aria-hidden="true"></span>
                                        <span class="stage-name">{stage.label()}</span>
                                        {at.map(|at| view! { <time datetime=at.to_rfc3339()>{move || clock.short_time(at)}</time> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    })}
                    <p class="order-meta">
                        <span class="shop">{o.shop_name.clone()}</span>
                        <span class="customer">{o.customer_name.clone()}</span>
                        <PaymentBadge payment=o.payment_status/>
                    </p>
                    <OrderItems order=o/>
                }
            }}
            {actions}
            {move || view! { <h2>"Timeline"</h2> <Timeline order=order.get()/> }}
            <crate::push::PushSwitch/>
            {shop.map(|shop| view! {
                <section class="shop-contact" aria-label="The shop">
                    <h2>{shop.name.clone()}</h2>
                    {(!shop.address.is_empty()).then(|| view! { <p>{shop.address.clone()}</p> })}
                    {(!shop.phone.is_empty()).then(|| view! {
                        <p><a href=format!("tel:{}", shop.phone.replace(' ', ""))>"Call " {shop.phone.clone()}</a></p>
                    })}
                    {(!shop.opening_hours.is_empty()).then(|| view! { <p class="hours">"Open " {shop.opening_hours.clone()}</p> })}
                </section>
            })}
        </section>
    }
    .into_any()
}
