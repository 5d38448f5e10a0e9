//! Orders: the signed-in user's list (a customer's own, a shopkeeper's shops', everything for
//! admins) and one order's detail with its live status timeline and the actions allowed.

use crate::api::{format_minor, Order, OrderList, WithSeq};
use crate::client;
use crate::live::Live;
use crate::pages::common::{loaded, Clock, OrderActions, OrderItems, PaymentBadge, StatusBadge, Timeline};
use crate::patch::{order_of, patch_orders};
use crate::protocol::EventEnvelope;
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

const LIST_PATH: &str = "/orders?per_page=50";

#[component]
pub fn OrdersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| client::get::<OrderList>(LIST_PATH));
    loaded(data, |list| view! { <OrderTable list/> })
}

#[component]
fn OrderTable(list: OrderList) -> impl IntoView {
    let live = Live::use_context();
    let total = RwSignal::new(list.total);
    let rows = RwSignal::new(list.items);
    let seq = list.seq;

    let on_event = move |event: &EventEnvelope| {
        let Some(order) = order_of(event) else { return };
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
            if let Ok(fresh) = client::get::<OrderList>(LIST_PATH).await {
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
                <p class="count">{move || total.get()} " orders"</p>
            </div>
            <Show when=move || rows.with(|r| r.is_empty())>
                <p class="empty">"No orders yet."</p>
            </Show>
            <ul class="orders" data-seq=seq>
                <For each=move || rows.get() key=|o| (o.id, o.version) children=order_row/>
            </ul>
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
                <span class="total">{format_minor(order.total_minor)}</span>
            </div>
            <div class="order-meta">
                <PaymentBadge payment=order.payment_status/>
                <time datetime=created.to_rfc3339()>{created.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                <span class="age">{move || clock.age(created)}</span>
            </div>
        </li>
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => client::get::<WithSeq<Order>>(&format!("/orders/{id}")).await,
            None => Err(crate::api::ErrorDetail { code: crate::api::ErrorCode::NotFound, message: "No such order.".into() }),
        }
    });
    loaded(data, |found| view! { <OrderDetail found/> })
}

#[component]
fn OrderDetail(found: WithSeq<Order>) -> impl IntoView {
    let live = Live::use_context();
    let session = Session::use_context();
    let WithSeq { item, seq } = found;
    let id = item.id;
    let order = RwSignal::new(item);

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
    let actor = move || session.user_untracked().map(|u| u.actor());

    view! {
        <section class="card order-detail" data-order-id=id>
            {move || {
                let o = order.get();
                view! {
                    <div class="page-head">
                        <h1>"Order #" {o.id}</h1>
                        <StatusBadge status=o.status/>
                    </div>
                    <p class="order-meta">
                        <span class="shop">{o.shop_name.clone()}</span>
                        <span class="customer">{o.customer_name.clone()}</span>
                        <PaymentBadge payment=o.payment_status/>
                    </p>
                    <OrderItems order=o.clone()/>
                    {actor().map(|actor| view! { <OrderActions order=o.clone() actor done/> })}
                    <h2>"Timeline"</h2>
                    <Timeline order=o/>
                }
            }}
        </section>
    }
}
