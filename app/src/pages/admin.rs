//! The admin panel: each shop's figures (orders, revenue, open and late orders, time to
//! ready), live; every shop's orders, searched, filtered, sorted and paged with their sums and
//! patched live; the shops; this node's connection statistics; and sending a notification to
//! one user or to everyone.

use crate::api::{
    FigureList, NewNotification, Notification, Order, OrderList, OrderQuery, OrderSearch, OrderSort, Severity, Shop, ShopList, User,
    UserList, WsStats,
};
use crate::client::{self, ApiFailure, Method};
use crate::domain::{EventType, OrderStatus};
use crate::live::{LinkState, Live};
use crate::client::query_escape;
use crate::pages::common::{every, loaded, money, page_data, Clock, Pager, PaymentBadge, StatusBadge};
use crate::patch::{catalog_change, order_of, patch_orders, patch_shops};
use crate::protocol::EventEnvelope;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

/// The order list's filters, read from the address (`/admin?shop=1&status=pending&q=bob&
/// sort=total_desc&page=2`): a filtered view can be bookmarked, reloaded and paged, and the
/// filter form works as a plain form before the page is interactive.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct OrderFilter {
    shop: Option<i64>,
    status: Option<OrderStatus>,
    /// The search as typed, and as the API reads it.
    q: String,
    search: Option<OrderSearch>,
    sort: OrderSort,
    page: u32,
}

/// Orders per page of the admin's list.
const PER_PAGE: u32 = 50;

impl OrderFilter {
    fn from_query(query: &ParamsMap) -> OrderFilter {
        let q: String = query.get("q").map(|q| q.trim().chars().take(OrderQuery::MAX_SEARCH).collect()).unwrap_or_default();
        OrderFilter {
            shop: query.get("shop").and_then(|s| s.parse().ok()),
            status: query.get("status").and_then(|s| OrderStatus::parse(&s)),
            search: OrderQuery { q: Some(q.clone()), ..Default::default() }.search().ok().flatten(),
            q,
            sort: query.get("sort").and_then(|s| OrderSort::parse(&s)).unwrap_or_default(),
            page: query.get("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// The filters as a query string without the page, the shop under `shop_key` (`shop` in
    /// the page's address, `shop_id` in the API's).
    fn query(&self, shop_key: &str) -> String {
        let mut parts = Vec::new();
        if let Some(shop) = self.shop {
            parts.push(format!("{shop_key}={shop}"));
        }
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if !self.q.is_empty() {
            parts.push(format!("q={}", query_escape(&self.q)));
        }
        if self.sort != OrderSort::Newest {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        parts.join("&")
    }

    /// What the pager's links keep.
    fn keep(&self) -> String {
        self.query("shop")
    }

    fn api_path(&self) -> String {
        let mut path = format!("/orders?per_page={PER_PAGE}&page={}", self.page);
        let query = self.query("shop_id");
        if !query.is_empty() {
            path.push('&');
            path.push_str(&query);
        }
        path
    }

    /// Whether a (live) order belongs in the list. A text search is decided by the API; the
    /// live check can only see names, so it keeps what the API found and adds no new ones.
    fn matches(&self, order: &Order, listed: bool) -> bool {
        let found = match &self.search {
            None => true,
            Some(OrderSearch::Id(id)) => order.id == *id,
            Some(OrderSearch::Text(_)) => listed,
        };
        found && self.shop.is_none_or(|s| order.shop_id == s) && self.status.is_none_or(|s| order.status == s)
    }

    /// Whether a new order goes on this page: the first page of the newest first.
    fn takes_new(&self) -> bool {
        self.page == 1 && self.sort == OrderSort::Newest
    }
}

/// How often the figures refresh without an event (an order turns late by waiting).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const FIGURES_EVERY_SECS: u64 = 30;
/// How often the connection statistics refresh (they also refresh on presence events).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const STATS_EVERY_SECS: u64 = 5;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminData {
    pub figures: FigureList,
    pub shops: Vec<Shop>,
    pub users: Vec<User>,
    pub stats: WsStats,
    pub seq: i64,
}

async fn load_admin() -> Result<AdminData, ApiFailure> {
    let figures: FigureList = client::get("/figures").await?;
    let shops: ShopList = client::get("/shops").await?;
    let users: UserList = client::get("/users").await?;
    let stats: WsStats = client::get("/ws/stats").await?;
    let seq = figures.seq.min(shops.seq);
    Ok(AdminData { figures, shops: shops.items, users: users.items, stats, seq })
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrdersData {
    pub list: OrderList,
    pub shops: Vec<Shop>,
}

async fn load_orders(filter: OrderFilter) -> Result<OrdersData, ApiFailure> {
    let list: OrderList = client::get(&filter.api_path()).await?;
    let shops: ShopList = client::get("/shops").await?;
    Ok(OrdersData { list, shops: shops.items })
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(OrderFilter::from_query));
    let orders = page_data(move || filter.get(), load_orders);
    let side = page_data(|| (), |_| load_admin());
    view! {
        <leptos_meta::Title text="Admin · Ordercast"/>
        <div class="admin">
            {loaded(side, |data| view! { <Figures figures=data.figures.clone() seq=data.seq/> })}
            {loaded(orders, move |data| view! { <AdminOrders data filter=filter.get_untracked()/> })}
            {loaded(side, |data| view! { <AdminSide data/> })}
        </div>
    }
}

/// Runs `fetch` now, or once more after the one in flight: events arriving in a burst cost
/// two requests, not one each.
#[derive(Clone, Copy)]
struct Refetch {
    busy: StoredValue<bool>,
    again: StoredValue<bool>,
}

impl Refetch {
    fn new() -> Self {
        Refetch { busy: StoredValue::new(false), again: StoredValue::new(false) }
    }

    fn run<F, Fut>(self, fetch: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        // A disposed page (its values gone) fetches nothing.
        if self.busy.try_get_value().unwrap_or(true) {
            self.again.try_set_value(true);
            return;
        }
        self.busy.try_set_value(true);
        spawn_local(async move {
            loop {
                self.again.try_set_value(false);
                fetch().await;
                if !self.again.try_get_value().unwrap_or(false) {
                    break;
                }
            }
            self.busy.try_set_value(false);
        });
    }
}

/// Each shop's figures, refreshed on every order event and every half minute: an island (see
/// [`crate::tab`]).
#[island(lazy)]
fn Figures(figures: FigureList, seq: i64) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let items = RwSignal::new(figures.items);
    let refetch = Refetch::new();
    let refresh = move || {
        refetch.run(move || async move {
            if let Ok(fresh) = client::get::<FigureList>("/figures").await {
                items.try_set(fresh.items);
            }
        })
    };
    live.follow(
        seq,
        move |event| {
            if order_of(event).is_some() || catalog_change(event).is_some() {
                refresh();
            }
        },
        refresh,
    );
    every(std::time::Duration::from_secs(FIGURES_EVERY_SECS), refresh);
    view! {
        <section class="card figures" aria-labelledby="figures-title">
            <h2 id="figures-title">"Shops in the last 24 hours"</h2>
            // Focusable: where the table is wider than its card (a tablet; a phone gets one block
            // per shop) it scrolls sideways, and keyboards must reach it too.
            <div class="table-scroll" tabindex="0" role="region" aria-label="Figures per shop">
                <table class="figures-table stack">
                    <thead>
                        <tr>
                            <th scope="col">"Shop"</th><th scope="col" class="num">"Orders"</th><th scope="col" class="num">"Revenue"</th>
                            <th scope="col" class="num">"Open now"</th><th scope="col" class="num">"Late now"</th><th scope="col" class="num">"Median to ready"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || items.get() key=|f| f.clone() let:f>
                            <tr data-shop-id=f.shop_id>
                                <th scope="row">{f.shop_name.clone()}</th>
                                <td class="num fig-orders" data-label="Orders">{f.orders}</td>
                                <td class="num fig-revenue" data-label="Revenue">{money(f.revenue_minor, f.currency.clone())}</td>
                                <td class="num fig-open" data-label="Open now">{f.open}</td>
                                <td class="num fig-late" data-label="Late now" class:late={f.late > 0}>{f.late}</td>
                                <td class="num fig-ready" data-label="Median to ready">{f.median_ready_secs.map(minutes).unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// "12 min", "1 h 05 min", "under a minute".
fn minutes(secs: i64) -> String {
    match secs / 60 {
        0 => "under a minute".into(),
        m if m < 60 => format!("{m} min"),
        m => format!("{} h {:02} min", m / 60, m % 60),
    }
}

/// Every shop's orders: filtered, searched, sorted and paged by the API (the address holds
/// the filters), with the sums of all matching orders; rows patched live, and the totals
/// refetched when an order in the list changes. An island (see [`crate::tab`]).
#[island(lazy)]
fn AdminOrders(data: OrdersData, filter: OrderFilter) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let OrdersData { list, shops } = data;
    let orders = RwSignal::new(list.items);
    let total = RwSignal::new(list.total);
    let sums = RwSignal::new(list.sums);
    let shops = RwSignal::new(shops);
    let (seq, page) = (list.seq, list.page.max(1));
    let path = filter.api_path();
    let refetch = Refetch::new();

    let refresh = {
        let path = path.clone();
        move || {
            let path = path.clone();
            refetch.run(move || {
                let path = path.clone();
                async move {
                    if let Ok(fresh) = client::get::<OrderList>(&path).await {
                        orders.try_set(fresh.items);
                        total.try_set(fresh.total);
                        sums.try_set(fresh.sums);
                    }
                }
            })
        }
    };
    let on_event = {
        let (filter, refresh) = (filter.clone(), refresh.clone());
        move |event: &EventEnvelope| {
            if let Some(order) = order_of(event) {
                let listed = orders.with_untracked(|o| o.iter().any(|x| x.id == order.id));
                let new = event.event_type == EventType::OrderCreated;
                let shop = order.shop_id;
                if listed || (new && filter.takes_new() && filter.matches(&order, false)) {
                    orders.update(|o| {
                        patch_orders(o, order);
                    });
                }
                // The count, the sums and what matches come from the API: an order of the
                // shops shown that changed anywhere (on another page, or into the filter) may
                // change them.
                if listed || filter.shop.is_none_or(|s| shop == s) {
                    refresh();
                }
            } else if let Some(change) = catalog_change(event) {
                shops.update(|s| {
                    patch_shops(s, &change);
                });
            }
        }
    };
    live.follow(seq, on_event, refresh);

    let shown = {
        let filter = filter.clone();
        move || orders.with(|o| o.iter().filter(|o| filter.matches(o, true)).cloned().collect::<Vec<_>>())
    };
    let clock = Clock::use_context();
    let keep = filter.keep();
    let shop_value = filter.shop.map(|s| s.to_string()).unwrap_or_default();
    let shop_prop = shop_value.clone();
    let status_value = filter.status.map(|s| s.as_str()).unwrap_or_default();
    let searching = !filter.q.is_empty() || filter.shop.is_some() || filter.status.is_some();

    view! {
        <section class="card admin-orders-card" aria-labelledby="orders-title">
            <div class="page-head">
                <h1 id="orders-title">"All orders"</h1>
                <span class="count">{move || format!("{} orders", total.get())}</span>
            </div>
            <form method="get" action="/admin">
                <div class="filters">
                    <label>
                        "Search "
                        // `value` for the server's HTML, `prop:value` for a re-render after typing.
                        <input type="search" name="q" value=filter.q.clone() prop:value=filter.q.clone() maxlength="100" placeholder="#12, name, email, shop"/>
                    </label>
                    <label>
                        "Shop "
                        <select name="shop" prop:value=shop_prop data-submit-on-change="">
                            <option value="">"All shops"</option>
                            // Keyed by id: a shop opening or closing keeps its option.
                            <For each=move || shops.get() key=|s| s.id let:s>
                                <option value=s.id.to_string() selected=shop_value == s.id.to_string()>{s.name}</option>
                            </For>
                        </select>
                    </label>
                    <label>
                        "Status "
                        <select name="status" prop:value=status_value data-submit-on-change="">
                            <option value="">"All statuses"</option>
                            {OrderStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=status_value == s.as_str()>{s.label()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Sort "
                        <select name="sort" prop:value=filter.sort.as_str() data-submit-on-change="">
                            {OrderSort::ALL.into_iter().map(|o| view! { <option value=o.as_str() selected=filter.sort == o>{o.label()}</option> }).collect_view()}
                        </select>
                    </label>
                    <button type="submit" class="secondary">"Search"</button>
                    {searching.then(|| view! { <a class="button-link secondary clear" href="/admin">"Clear"</a> })}
                </div>
            </form>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Orders">
                <table class="admin-orders stack">
                    <thead>
                        <tr>
                            <th scope="col">"Order"</th><th scope="col">"Shop"</th><th scope="col">"Customer"</th>
                            <th scope="col">"Status"</th><th scope="col">"Payment"</th><th scope="col" class="num">"Total"</th><th scope="col">"Age"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=shown key=|o| (o.id, o.version) let:o>
                            <tr data-order-id=o.id>
                                <td><a href=format!("/orders/{}", o.id)>"#" {o.id}</a></td>
                                <td data-label="Shop">{o.shop_name.clone()}</td>
                                <td data-label="Customer">{o.customer_name.clone()}</td>
                                <td><StatusBadge status=o.status/></td>
                                <td><PaymentBadge payment=o.payment_status/></td>
                                <td class="num">{money(o.total_minor, o.currency.clone())}</td>
                                <td class="age">{let at = o.created_at; move || clock.age(at)}</td>
                            </tr>
                        </For>
                    </tbody>
                    <tfoot>
                        <tr class="sums">
                            <th scope="row" colspan="5">{move || format!("Sum of all {} matching orders, cancelled ones left out", total.get())}</th>
                            <td class="num" colspan="2">
                                <For each=move || sums.get() key=|s| s.clone() let:s>
                                    <span class="sum">{money(s.total_minor, s.currency.clone())}</span>
                                </For>
                            </td>
                        </tr>
                    </tfoot>
                </table>
            </div>
            <Show when=move || total.get() == 0>
                <p class="empty">{if searching { "No order matches. Try another search or clear the filters." } else { "No orders yet: they appear here the moment a customer places one." }}</p>
            </Show>
            <Pager page per_page=PER_PAGE total=Signal::derive(move || total.get()) keep/>
        </section>
    }
    .into_any()
}

/// Shops, connections and notifications: an island (see [`crate::tab`]).
#[island(lazy)]
fn AdminSide(data: AdminData) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let shops = RwSignal::new(data.shops);
    let stats = RwSignal::new(data.stats);
    let users = data.users;
    let refresh_stats = move || {
        spawn_local(async move {
            if let Ok(s) = client::get::<WsStats>("/ws/stats").await {
                stats.try_set(s);
            }
        })
    };
    let on_event = move |event: &EventEnvelope| {
        if let Some(change) = catalog_change(event) {
            shops.update(|s| {
                patch_shops(s, &change);
            });
        } else if matches!(event.event_type, EventType::UserConnected | EventType::UserDisconnected) {
            refresh_stats();
        }
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = client::get::<ShopList>("/shops").await {
                shops.try_set(fresh.items);
                live.replay_since(fresh.seq, &on_event);
            }
            refresh_stats();
        })
    };
    live.follow(data.seq, on_event, reload);
    every(std::time::Duration::from_secs(STATS_EVERY_SECS), refresh_stats);
    // The figures were read before this page's own socket opened: read them again once it is
    // live (the server has registered it by then), so the panel does not say "0 open
    // sockets" beside a green "Live".
    Effect::new(move |_| {
        if live.state.get() == LinkState::Live {
            refresh_stats();
        }
    });

    view! {
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
