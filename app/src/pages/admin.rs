//! The admin panel: every shop's orders, filtered by shop and status and patched live; the
//! shops' open/closed state; this node's connection statistics; and sending a notification
//! to one user or to everyone.

use crate::api::{
    NewNotification, Notification, Order, OrderList, Severity, Shop, ShopList, User, UserList, WsStats,
};
use crate::client::{self, ApiFailure, Method};
use crate::domain::{EventType, OrderStatus};
use crate::live::Live;
use crate::pages::common::{loaded, money, Clock, PaymentBadge, StatusBadge};
use crate::patch::{catalog_change, order_of, patch_orders, patch_shops};
use crate::protocol::EventEnvelope;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

/// The orders shown: the newest of those that match the filters, which the API applies, so
/// a filter finds orders older than the newest page too.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct OrderFilter {
    shop: Option<i64>,
    status: Option<OrderStatus>,
}

impl OrderFilter {
    fn path(&self) -> String {
        let mut path = "/orders?per_page=100".to_string();
        if let Some(shop) = self.shop {
            path.push_str(&format!("&shop_id={shop}"));
        }
        if let Some(status) = self.status {
            path.push_str(&format!("&status={}", status.as_str()));
        }
        path
    }

    /// Whether a (live) order belongs in the list.
    fn matches(&self, order: &Order) -> bool {
        self.shop.is_none_or(|s| order.shop_id == s) && self.status.is_none_or(|s| order.status == s)
    }
}
/// How often the connection statistics refresh (they also refresh on presence events).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const STATS_EVERY_SECS: u64 = 5;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminData {
    pub orders: Vec<Order>,
    pub shops: Vec<Shop>,
    pub users: Vec<User>,
    pub stats: WsStats,
    pub seq: i64,
}

async fn load_admin(filter: OrderFilter) -> Result<AdminData, ApiFailure> {
    let orders: OrderList = client::get(&filter.path()).await?;
    let shops: ShopList = client::get("/shops").await?;
    let users: UserList = client::get("/users").await?;
    let stats: WsStats = client::get("/ws/stats").await?;
    Ok(AdminData { orders: orders.items, shops: shops.items, users: users.items, stats, seq: orders.seq.min(shops.seq) })
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_admin(OrderFilter::default()));
    loaded(data, |data| view! { <Admin data/> })
}

#[component]
fn Admin(data: AdminData) -> impl IntoView {
    let live = Live::use_context();
    let orders = RwSignal::new(data.orders);
    let shops = RwSignal::new(data.shops);
    let stats = RwSignal::new(data.stats);
    let users = data.users;
    let shop_filter = RwSignal::new(String::new());
    let status_filter = RwSignal::new(String::new());
    let filter = move || OrderFilter {
        shop: shop_filter.with(|s| s.parse::<i64>().ok()),
        status: status_filter.with(|s| OrderStatus::parse(s)),
    };
    // Answers to older fetches (an earlier filter) are dropped.
    let fetches = StoredValue::new(0u64);
    let next_fetch = move || {
        fetches.try_update_value(|n| {
            *n += 1;
            *n
        })
    };

    let refresh_stats = move || {
        spawn_local(async move {
            if let Ok(s) = client::get::<WsStats>("/ws/stats").await {
                stats.set(s);
            }
        })
    };
    let on_event = move |event: &EventEnvelope| {
        if let Some(order) = order_of(event) {
            orders.update(|o| {
                patch_orders(o, order);
            });
        } else if let Some(change) = catalog_change(event) {
            shops.update(|s| {
                patch_shops(s, &change);
            });
        } else if matches!(event.event_type, EventType::UserConnected | EventType::UserDisconnected) {
            refresh_stats();
        }
    };
    let reload = move || {
        let (this, wanted) = (next_fetch(), untrack(filter));
        spawn_local(async move {
            if let Ok(fresh) = load_admin(wanted).await {
                if this != fetches.try_get_value() {
                    return;
                }
                orders.set(fresh.orders);
                shops.set(fresh.shops);
                stats.set(fresh.stats);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(data.seq, on_event, reload);
    // A changed filter asks the API for the orders again (the page rendered with none); the
    // shops, users and statistics do not depend on it.
    Effect::new(move |previous: Option<OrderFilter>| {
        let wanted = filter();
        if previous.is_some_and(|p| p != wanted) {
            let this = next_fetch();
            spawn_local(async move {
                if let Ok(fresh) = client::get::<OrderList>(&wanted.path()).await {
                    if this == fetches.try_get_value() {
                        orders.set(fresh.items);
                        live.replay_since(fresh.seq, &on_event);
                    }
                }
            });
        }
        wanted
    });
    Effect::new(move |_| {
        let handle = set_interval_with_handle(refresh_stats, std::time::Duration::from_secs(STATS_EVERY_SECS));
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });

    let filtered = move || {
        let filter = filter();
        orders.with(|o| o.iter().filter(|o| filter.matches(o)).cloned().collect::<Vec<_>>())
    };
    let clock = Clock::use_context();

    view! {
        <leptos_meta::Title text="Admin · Ordercast"/>
        <div class="admin">
            <section class="card" aria-label="All orders">
                <div class="page-head">
                    <h1>"All orders"</h1>
                    <div class="filters">
                        <label>
                            "Shop "
                            <select name="shop" prop:value=move || shop_filter.get() on:change=move |ev| shop_filter.set(event_target_value(&ev))>
                                <option value="">"All shops"</option>
                                // Keyed by id: a shop opening or closing keeps its option (and the selection).
                                <For each=move || shops.get() key=|s| s.id let:s>
                                    <option value=s.id.to_string()>{s.name}</option>
                                </For>
                            </select>
                        </label>
                        <label>
                            "Status "
                            <select name="status" on:change=move |ev| status_filter.set(event_target_value(&ev))>
                                <option value="">"All statuses"</option>
                                {OrderStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                            </select>
                        </label>
                    </div>
                </div>
                <table class="admin-orders">
                    <thead>
                        <tr>
                            <th scope="col">"Order"</th><th scope="col">"Shop"</th><th scope="col">"Customer"</th>
                            <th scope="col">"Status"</th><th scope="col">"Payment"</th><th scope="col" class="num">"Total"</th><th scope="col">"Age"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=filtered key=|o| (o.id, o.version) let:o>
                            <tr data-order-id=o.id>
                                <td><a href=format!("/orders/{}", o.id)>"#" {o.id}</a></td>
                                <td>{o.shop_name.clone()}</td>
                                <td>{o.customer_name.clone()}</td>
                                <td><StatusBadge status=o.status/></td>
                                <td><PaymentBadge payment=o.payment_status/></td>
                                <td class="num">{money(o.total_minor, o.currency.clone())}</td>
                                <td class="age">{let at = o.created_at; move || clock.age(at)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </section>
            <div class="admin-side">
                <crate::pages::shops_admin::ShopsAdmin shops/>
                <section class="card stats" aria-label="Connections">
                    <h2>"Connections"</h2>
                    <dl>
                        <dt>"Open sockets"</dt><dd class="stat-connections">{move || stats.with(|s| s.connections)}</dd>
                        <dt>"Users online"</dt><dd class="stat-users">{move || stats.with(|s| s.unique_users)}</dd>
                        <dt>"Topics"</dt><dd>{move || stats.with(|s| s.topics.len())}</dd>
                    </dl>
                </section>
                <NotifyForm users/>
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn NotifyForm(users: Vec<User>) -> impl IntoView {
    let toasts = Toasts::use_context();
    let to = RwSignal::new(String::new());
    let severity = RwSignal::new("info".to_string());
    let text = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewNotification {
            user_id: to.get_untracked().parse().ok(),
            severity: match severity.get_untracked().as_str() {
                "warning" => Severity::Warning,
                "critical" => Severity::Critical,
                _ => Severity::Info,
            },
            text: text.get_untracked(),
        };
        sending.set(true);
        spawn_local(async move {
            match client::send::<_, Notification>(Method::Post, "/notifications", &body).await {
                Ok(_) => {
                    text.set(String::new());
                    toasts.push(Severity::Info, "Notification sent.");
                }
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
            sending.set(false);
        });
    };
    view! {
        <section class="card notify" aria-label="Send a notification">
            <h2>"Send a notification"</h2>
            <form on:submit=send>
                <label>
                    "To"
                    <select name="to" on:change=move |ev| to.set(event_target_value(&ev))>
                        <option value="">"Everyone"</option>
                        {users.into_iter().map(|u| view! { <option value=u.id.to_string()>{format!("{} ({})", u.name, u.role.as_str())}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    "Severity"
                    <select name="severity" on:change=move |ev| severity.set(event_target_value(&ev))>
                        <option value="info">"Info"</option>
                        <option value="warning">"Warning"</option>
                        <option value="critical">"Critical"</option>
                    </select>
                </label>
                <label>
                    "Message"
                    <input type="text" name="text" required maxlength="500" bind:value=text/>
                </label>
                <button type="submit" disabled=move || sending.get()>"Send"</button>
            </form>
        </section>
    }
}
