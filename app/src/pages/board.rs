//! The shopkeeper's live board: the shop's orders in columns by status, newest first, with
//! one-click actions; a toast and a repeating chime for every new order until someone
//! acknowledges it; the shop's open/closed switch, its products (availability and stock) with
//! live low-stock alerts; and which of the shop's staff are online.

use crate::api::{format_minor, Chitty, ChittyList, Order, OrderList, Product, ProductList, ProductUpdate, Severity, Shop, ShopUpdate, StaffList, StaffMember, WithSeq};
use crate::chime::Chime;
use crate::client::{self, ApiFailure, Method};
use crate::domain::{EventType, OrderStatus};
use crate::live::Live;
use crate::pages::common::{loaded, Clock, OrderActions, PaymentBadge, StatusBadge};
use crate::patch::{catalog_change, chitty_of, order_of, patch_chitties, patch_orders, patch_products, patch_staff, stock_low_of, CatalogChange};
use crate::protocol::EventEnvelope;
use crate::session::Session;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The columns of open orders, in the order they move.
const COLUMNS: [OrderStatus; 5] =
    [OrderStatus::Pending, OrderStatus::Confirmed, OrderStatus::Preparing, OrderStatus::Ready, OrderStatus::OutForDelivery];
/// Finished orders shown in the last column.
const DONE_SHOWN: usize = 10;
/// The most orders a column of open orders loads (the API's page limit).
const OPEN_SHOWN: usize = 100;
/// How often an unacknowledged new order chimes again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const CHIME_EVERY_MS: u64 = 5_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoardData {
    pub shop: Shop,
    pub orders: Vec<Order>,
    pub products: Vec<Product>,
    pub staff: Vec<StaffMember>,
    /// Shopping lists being read or waiting for staff.
    pub chitties: Vec<Chitty>,
    /// The lowest `seq` of the reads above: events after it patch all of them.
    pub seq: i64,
}

async fn load_board(shop_id: i64) -> Result<BoardData, ApiFailure> {
    let shop: WithSeq<Shop> = client::get(&format!("/shops/{shop_id}")).await?;
    let mut seq = shop.seq;
    // Column by column, so an old open order never falls off a busy shop's board; the
    // finished ones only as many as the last column shows.
    let mut orders = Vec::new();
    let columns = COLUMNS.iter().map(|s| (*s, OPEN_SHOWN)).chain([(OrderStatus::Delivered, DONE_SHOWN), (OrderStatus::Cancelled, DONE_SHOWN)]);
    for (status, shown) in columns {
        let path = format!("/orders?shop_id={shop_id}&status={}&per_page={shown}", status.as_str());
        let list: OrderList = client::get(&path).await?;
        seq = seq.min(list.seq);
        orders.extend(list.items);
    }
    orders.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id)));
    let products: ProductList = client::get(&format!("/shops/{shop_id}/products")).await?;
    let staff: StaffList = client::get(&format!("/shops/{shop_id}/staff")).await?;
    let chitties: ChittyList = client::get(&format!("/chitties?shop_id={shop_id}&open=true")).await?;
    let seq = seq.min(products.seq).min(staff.seq).min(chitties.seq);
    Ok(BoardData { shop: shop.item, orders, products: products.items, staff: staff.items, chitties: chitties.items, seq })
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let query = use_query_map();
    let shop_param = move || query.with(|q| q.get("shop").and_then(|s| s.parse::<i64>().ok()));
    let data = Resource::new(shop_param, |param| async move {
        // `?shop=<id>`, else the first shop this user works in.
        let id = match param {
            Some(id) => Some(id),
            None => client::get::<crate::api::User>("/auth/me").await?.shop_ids.first().copied(),
        };
        match id {
            Some(id) => load_board(id).await,
            None => Err(crate::api::ErrorDetail {
                code: crate::api::ErrorCode::NotFound,
                message: "You do not work in any shop yet; an admin can add you to one.".into(),
            }),
        }
    });
    loaded(data, |data| view! { <Board data/> })
}

#[component]
fn Board(data: BoardData) -> impl IntoView {
    let live = Live::use_context();
    let toasts = Toasts::use_context();
    let session = Session::use_context();
    let chime = Chime::new();
    let shop_id = data.shop.id;
    let shop = RwSignal::new(data.shop);
    let orders = RwSignal::new(data.orders);
    let products = RwSignal::new(data.products);
    let staff = RwSignal::new(data.staff);
    let chitties = RwSignal::new(data.chitties);
    // Lists read (or not readable) that nobody has handled yet: they chime like new orders.
    let unacked_lists = RwSignal::new(BTreeSet::<i64>::new());
    let announced_lists = StoredValue::new(BTreeSet::<i64>::new());
    // New orders nobody has acknowledged yet; an order that moved on is acknowledged.
    let unacked = RwSignal::new(BTreeSet::<i64>::new());

    // Every new order or list is announced once (toast, chime, waiting for acknowledgement),
    // whether it arrives live or with a reload while the socket was down.
    let alert = move |announced: StoredValue<BTreeSet<i64>>, unacked: RwSignal<BTreeSet<i64>>, id: i64, toast: String, spoken: String| {
        if !announced.try_update_value(|a| a.insert(id)).unwrap_or(false) {
            return;
        }
        unacked.update(|u| {
            u.insert(id);
        });
        toasts.push(Severity::Info, toast);
        chime.ring();
        live.announcement.set(spoken);
    };
    let announced = StoredValue::new(BTreeSet::<i64>::new());
    let announce = move |id: i64, name: &str, total: i64| {
        alert(announced, unacked, id, format!("New order #{id} from {name}: {}", format_minor(total)), format!("New order #{id} from {name}"));
    };
    let announce_list = move |c: &Chitty| {
        if c.status.awaits_staff() {
            let text = format!("New shopping list from {}", c.customer_name);
            alert(announced_lists, unacked_lists, c.id, text.clone(), text);
        }
    };

    let on_event = move |event: &EventEnvelope| {
        if let Some(c) = chitty_of(event).filter(|c| c.shop_id == shop_id) {
            let mut changed = false;
            chitties.update(|r| changed = patch_chitties(r, c.clone(), true));
            if changed {
                announce_list(&c);
                if c.status.is_final() {
                    unacked_lists.update(|u| {
                        u.remove(&c.id);
                    });
                }
            }
            return;
        }
        if let Some(order) = order_of(event).filter(|o| o.shop_id == shop_id) {
            let (id, status, name, total) = (order.id, order.status, order.customer_name.clone(), order.total_minor);
            let mut changed = false;
            orders.update(|r| changed = patch_orders(r, order));
            if !changed {
                return;
            }
            if event.event_type == EventType::OrderCreated && status == OrderStatus::Pending {
                announce(id, &name, total);
            } else {
                live.announcement.set(format!("Order #{id} is {}", status.label()));
            }
            if status != OrderStatus::Pending {
                unacked.update(|u| {
                    u.remove(&id);
                });
            }
            return;
        }
        if let Some(low) = stock_low_of(event).filter(|l| l.shop_id == shop_id) {
            toasts.push(Severity::Warning, format!("Low stock: {} ({} left)", low.name, low.stock));
            return;
        }
        if let Some(change) = catalog_change(event) {
            match &change {
                CatalogChange::Shop(s) if s.id == shop_id => shop.set(s.clone()),
                _ => products.update(|p| {
                    patch_products(p, shop_id, &change);
                }),
            }
            return;
        }
        staff.update(|s| {
            patch_staff(s, shop_id, event);
        });
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = load_board(shop_id).await {
                let known: BTreeSet<i64> = orders.try_with_untracked(|o| o.iter().map(|o| o.id).collect()).unwrap_or_default();
                for o in fresh.orders.iter().filter(|o| o.status == OrderStatus::Pending && !known.contains(&o.id)) {
                    announce(o.id, &o.customer_name, o.total_minor);
                }
                shop.set(fresh.shop);
                orders.set(fresh.orders);
                products.set(fresh.products);
                staff.set(fresh.staff);
                for c in &fresh.chitties {
                    announce_list(c);
                }
                chitties.set(fresh.chitties);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(data.seq, on_event, reload);

    // Chime again every few seconds while a new order waits (browser only).
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                if !unacked.with_untracked(|u| u.is_empty()) || !unacked_lists.with_untracked(|u| u.is_empty()) {
                    chime.ring();
                }
            },
            std::time::Duration::from_millis(CHIME_EVERY_MS),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });

    let acknowledge_all = move |_| {
        chime.unlock();
        unacked.set(BTreeSet::new());
        unacked_lists.set(BTreeSet::new());
    };
    let toggle_open = move |_| {
        let open = !shop.with_untracked(|s| s.is_open);
        spawn_local(async move {
            match client::send::<_, Shop>(Method::Patch, &format!("/shops/{shop_id}"), &ShopUpdate { is_open: open }).await {
                Ok(s) => shop.set(s),
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
        });
    };
    let actor = move || session.user_untracked().map(|u| u.actor());

    view! {
        <section class="board-page" data-shop-id=shop_id data-chimes=move || chime.rung.get()>
            <div class="page-head">
                <h1>{move || shop.with(|s| s.name.clone())} " — orders"</h1>
                <div class="board-controls">
                    <button
                        type="button"
                        class=move || if shop.with(|s| s.is_open) { "shop-toggle open" } else { "shop-toggle closed" }
                        aria-pressed=move || shop.with(|s| s.is_open).to_string()
                        on:click=toggle_open
                    >
                        {move || if shop.with(|s| s.is_open) { "Open — click to close" } else { "Closed — click to open" }}
                    </button>
                    <label class="switch">
                        <input
                            type="checkbox"
                            prop:checked=move || chime.enabled.get()
                            on:change=move |ev| chime.set_enabled(event_target_checked(&ev))
                        />
                        "Sound"
                    </label>
                </div>
            </div>
            <Show when=move || chime.blocked.get() && chime.enabled.get()>
                <button type="button" class="secondary" on:click=move |_| chime.unlock()>"Enable sound"</button>
            </Show>
            <Show when=move || !unacked.with(|u| u.is_empty()) || !unacked_lists.with(|u| u.is_empty())>
                <div class="new-orders" role="alert">
                    <span>{move || {
                        let orders = match unacked.with(|u| u.len()) { 0 => None, 1 => Some("1 new order".to_string()), n => Some(format!("{n} new orders")) };
                        let lists = match unacked_lists.with(|u| u.len()) { 0 => None, 1 => Some("1 new list".to_string()), n => Some(format!("{n} new lists")) };
                        [orders, lists].into_iter().flatten().collect::<Vec<_>>().join(", ")
                    }}</span>
                    <button type="button" class="ack-all" on:click=acknowledge_all>"Acknowledge"</button>
                </div>
            </Show>
            <Presence staff/>
            <crate::pages::chitties::ListsPanel shop_id chitties products unacked=unacked_lists/>
            <div class="board">
                {COLUMNS
                    .into_iter()
                    .map(|status| {
                        let cards = move || {
                            let mut col: Vec<Order> = orders.with(|o| o.iter().filter(|o| o.status == status).cloned().collect());
                            col.sort_by_key(|o| std::cmp::Reverse(o.created_at));
                            col
                        };
                        view! {
                            <section class="column" data-status=status.as_str() aria-label=status.label()>
                                <h2>{status.label()} " " <span class="badge">{move || orders.with(|o| o.iter().filter(|o| o.status == status).count())}</span></h2>
                                <ul>
                                    <For each=cards key=|o| (o.id, o.version) let:order>
                                        <OrderCard order unacked actor=actor() orders/>
                                    </For>
                                </ul>
                            </section>
                        }
                    })
                    .collect_view()}
                <section class="column done" data-status="done" aria-label="Done">
                    <h2>"Done"</h2>
                    <ul>
                        <For
                            each=move || {
                                let mut done: Vec<Order> = orders.with(|o| o.iter().filter(|o| o.status.is_final()).cloned().collect());
                                done.sort_by_key(|o| std::cmp::Reverse(o.updated_at));
                                done.truncate(DONE_SHOWN);
                                done
                            }
                            key=|o| (o.id, o.version)
                            let:order
                        >
                            <OrderCard order unacked actor=actor() orders/>
                        </For>
                    </ul>
                </section>
            </div>
            <Products shop_id products/>
        </section>
    }
    .into_any()
}

#[component]
fn OrderCard(
    order: Order,
    unacked: RwSignal<BTreeSet<i64>>,
    actor: Option<crate::domain::Actor>,
    orders: RwSignal<Vec<Order>>,
) -> impl IntoView {
    let clock = Clock::use_context();
    let id = order.id;
    let created = order.created_at;
    let items = order.items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect::<Vec<_>>().join(", ");
    let is_new = move || unacked.with(|u| u.contains(&id));
    let done = Callback::new(move |updated: Order| {
        orders.update(|r| {
            patch_orders(r, updated);
        });
        unacked.update(|u| {
            u.remove(&id);
        });
    });
    view! {
        <li class=move || if is_new() { "order-card new" } else { "order-card" } data-order-id=id data-version=order.version>
            <div class="card-head">
                <a class="order-id" href=format!("/orders/{id}")>"#" {id}</a>
                <span class="customer">{order.customer_name.clone()}</span>
                <span class="age" title=created.to_rfc3339()>{move || clock.age(created)}</span>
            </div>
            <div class="card-body">
                <span class="items">{items}</span>
                <span class="total">{format_minor(order.total_minor)}</span>
                <PaymentBadge payment=order.payment_status/>
                // Done holds delivered and cancelled orders alike: say which.
                {order.status.is_final().then(|| view! { <StatusBadge status=order.status/> })}
            </div>
            <Show when=is_new>
                <button type="button" class="secondary ack" on:click=move |_| unacked.update(|u| { u.remove(&id); })>"Acknowledge"</button>
            </Show>
            {actor.map(|actor| view! { <OrderActions order=order.clone() actor done/> })}
        </li>
    }
}

#[component]
fn Presence(staff: RwSignal<Vec<StaffMember>>) -> impl IntoView {
    view! {
        <div class="presence" aria-label="Staff online">
            <span class="presence-label">"Staff: "</span>
            <For each=move || staff.get() key=|m| (m.user_id, m.online) let:member>
                <span class=if member.online { "person online" } else { "person offline" } data-user-id=member.user_id>
                    {member.name.clone()}
                    <span class="sr-only">{if member.online { " (online)" } else { " (offline)" }}</span>
                </span>
            </For>
        </div>
    }
}

#[component]
fn Products(shop_id: i64, products: RwSignal<Vec<Product>>) -> impl IntoView {
    view! {
        <section class="card products-admin" aria-label="Products">
            <h2>"Products"</h2>
            <table class="stock-table">
                <thead>
                    <tr><th scope="col">"Product"</th><th scope="col" class="num">"Price"</th><th scope="col">"Stock"</th><th scope="col">"Available"</th></tr>
                </thead>
                <tbody>
                    <For each=move || products.get() key=|p| (p.id, p.stock, p.available, p.updated_at) let:product>
                        <ProductEditor product products shop_id/>
                    </For>
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ProductEditor(product: Product, products: RwSignal<Vec<Product>>, shop_id: i64) -> impl IntoView {
    let toasts = Toasts::use_context();
    let id = product.id;
    let stock = RwSignal::new(product.stock.to_string());
    let low = crate::domain::validation::is_low_stock(product.stock, product.low_stock_threshold);
    let save = move |update: ProductUpdate| {
        spawn_local(async move {
            match client::send::<_, Product>(Method::Patch, &format!("/products/{id}"), &update).await {
                Ok(p) => products.update(|list| {
                    patch_products(list, shop_id, &CatalogChange::Product(p));
                }),
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
        });
    };
    let available = product.available;
    let name = product.name.clone();
    view! {
        <tr data-product-id=id class=if low { "low" } else { "" }>
            <th scope="row">{product.name.clone()} {low.then(|| view! { <span class="low-badge">"Low"</span> })}</th>
            <td class="num">{format_minor(product.price_minor)}</td>
            <td>
                <form class="stock-form" on:submit=move |ev| {
                    ev.prevent_default();
                    match stock.get_untracked().trim().parse::<i64>() {
                        Ok(n) => save(ProductUpdate { stock: Some(n), ..Default::default() }),
                        Err(_) => toasts.push(Severity::Warning, "Stock must be a whole number."),
                    }
                }>
                    <input type="number" min="0" step="1" inputmode="numeric" aria-label=format!("Stock of {name}") bind:value=stock/>
                    <button type="submit" class="secondary small">"Save"</button>
                </form>
            </td>
            <td>
                <button
                    type="button"
                    class=if available { "secondary small availability on" } else { "secondary small availability off" }
                    aria-pressed=available.to_string()
                    on:click=move |_| save(ProductUpdate { available: Some(!available), ..Default::default() })
                >
                    {if available { "Available" } else { "Unavailable" }}
                </button>
            </td>
        </tr>
    }
}
