//! The shopkeeper's live board, built to fit one screen of a kitchen tablet or a counter PC:
//! the shop's open orders in columns by status, oldest first, each with a timer of its time in
//! that status (amber, then red, past the shop's thresholds) and one main action; a toast, a
//! repeating chime, the tab's title and (while hidden) a system notification for every new
//! order or shopping list until someone acknowledges it; a "Start the board" overlay when the
//! browser blocks sound; a full-width banner and paused actions while not live; the shopping
//! lists and the products (availability and stock, live low-stock alerts) in tabs of their
//! own; which of the shop's staff are online; and keyboard shortcuts.

use crate::api::{self, format_minor, Chitty, Order, Product, ProductUpdate, Severity, Shop, ShopUpdate, StaffMember};
use crate::chime::Chime;
use crate::client::{self, ApiFailure, Method};
use crate::kept::{self, Kept};
use crate::domain::timing::{timer, Urgency};
use crate::domain::{EventType, OrderStatus};
use crate::live::{LinkState, Live};
use crate::pages::common::{every, hms, live_title, loaded, money, page_data, Clock, OrderActions, PaymentBadge, StatusBadge};
use crate::patch::{catalog_change, chitty_of, order_of, patch_chitties, patch_orders, patch_products, patch_staff, stock_low_of, CatalogChange};
use crate::protocol::EventEnvelope;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeSet;

/// The columns of open orders, in the order they move.
const COLUMNS: [OrderStatus; 5] =
    [OrderStatus::Pending, OrderStatus::Confirmed, OrderStatus::Preparing, OrderStatus::Ready, OrderStatus::OutForDelivery];
/// Finished orders shown in the last column.
const DONE_SHOWN: usize = api::Board::DONE_SHOWN;
/// The cards of a column that come with the page: as many as a portrait kitchen screen shows
/// before the column scrolls. The rest are added as soon as the page has started, so a busy
/// board's page is smaller and quicker to render (docs/BENCHMARKS.md), and a board that never
/// starts still shows the orders that have waited longest, and how many more there are.
const FIRST_CARDS: usize = 12;
/// How often an unacknowledged new order chimes again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const CHIME_EVERY_MS: u64 = 5_000;

/// What the board loads: one read of everything it shows, at one `seq`.
pub type BoardData = api::Board;

async fn load_board(shop_id: i64) -> Result<BoardData, ApiFailure> {
    let mut board = client::board(shop_id).await?;
    board.orders.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id)));
    // The page carries this to the browser: every open order, so only what the cards show.
    for order in &mut board.orders {
        order.forget_history_before_status();
    }
    Ok(board)
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let query = use_query_map();
    let shop_param = move || query.with(|q| q.get("shop").and_then(|s| s.parse::<i64>().ok()));
    let session = crate::session::Session::use_context();
    let data = page_data(shop_param, move |param| async move {
        // `?shop=<id>`, else the first shop this user works in (the session has read who
        // this is already).
        let id = match param {
            Some(id) => Some(id),
            None => match session.0.await?.user {
                Some(user) => user.shop_ids.first().copied(),
                None => {
                    return Err(crate::api::ErrorDetail {
                        code: crate::api::ErrorCode::Unauthenticated,
                        message: "Sign in to see your board.".into(),
                    })
                }
            },
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

/// The board's tabs: the columns of orders, the shopping lists, the products and stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Orders,
    Lists,
    Products,
}

impl Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Orders => "Orders",
            Tab::Lists => "Lists",
            Tab::Products => "Products",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Orders => "tab-orders",
            Tab::Lists => "tab-lists",
            Tab::Products => "tab-products",
        }
    }
}

/// The board, live: an island (see [`crate::tab`]).
#[island(lazy)]
fn Board(data: BoardData) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let toasts = Toasts::use_context();
    let chime = Chime::new();
    let shop_id = data.shop.id;
    let shop = RwSignal::new(data.shop);
    let orders = RwSignal::new(data.orders);
    let products = RwSignal::new(data.products);
    let staff = RwSignal::new(data.staff);
    let chitties = RwSignal::new(data.chitties);
    let tab = RwSignal::new(Tab::Orders);
    let help = RwSignal::new(false);
    // False while the page is as the server rendered it (each column's first cards), true
    // once it has started in the browser (every card): effects run only there.
    let started = RwSignal::new(false);
    Effect::new(move |_| started.set(true));
    // Lists read (or not readable) that nobody has handled yet: they chime like new orders.
    let unacked_lists = RwSignal::new(BTreeSet::<i64>::new());
    // Lists already waiting when the page opened are on screen, not news (as orders are).
    let announced_lists = StoredValue::new(chitties.with_untracked(|c| c.iter().map(|c| c.id).collect::<BTreeSet<i64>>()));
    // New orders nobody has acknowledged yet; an order that moved on is acknowledged.
    let unacked = RwSignal::new(BTreeSet::<i64>::new());
    let unacked_count = move || unacked.with(|u| u.len()) + unacked_lists.with(|u| u.len());

    // Every new order or list is announced once (toast, chime, a system notification while
    // the tab is hidden, waiting for acknowledgement), whether it arrives live or with a reload
    // while the socket was down.
    let alert = move |announced: StoredValue<BTreeSet<i64>>, unacked: RwSignal<BTreeSet<i64>>, id: i64, toast: String, spoken: String, tag: String| {
        if !announced.try_update_value(|a| a.insert(id)).unwrap_or(false) {
            return;
        }
        unacked.update(|u| {
            u.insert(id);
        });
        crate::notify::show_if_hidden(&spoken, &toast, &tag);
        toasts.push(Severity::Info, toast);
        chime.ring();
        live.announcement.set(spoken);
    };
    let announced = StoredValue::new(BTreeSet::<i64>::new());
    let announce = move |id: i64, name: &str, total: i64| {
        alert(announced, unacked, id, format!("New order #{id} from {name}: {}", format_minor(total)), format!("New order #{id} from {name}"), format!("order-{id}"));
    };
    let announce_list = move |c: &Chitty| {
        if c.status.awaits_staff() {
            let text = format!("New shopping list from {}", c.customer_name);
            alert(announced_lists, unacked_lists, c.id, text.clone(), text, format!("list-{}", c.id));
        }
    };
    // What nobody acknowledged stays so when this tab's page reloads (by hand, or by itself
    // after an error): the orders still pending and the lists still waiting go on chiming.
    let kept_key = format!("board-unacked-{shop_id}");
    // The first run (the page has just started) reads them back; every later one keeps them.
    Effect::new(move |first_run_done: Option<()>| {
        let now = (unacked.get(), unacked_lists.get());
        if first_run_done.is_some() {
            kept::set_in(Kept::Tab, &kept_key, &unacked_to_kept(&now.0, &now.1));
            return;
        }
        let (was, was_lists) = unacked_from_kept(&kept::get_in(Kept::Tab, &kept_key).unwrap_or_default());
        let still: BTreeSet<i64> =
            orders.with_untracked(|o| o.iter().filter(|o| o.status == OrderStatus::Pending && was.contains(&o.id)).map(|o| o.id).collect());
        let still_lists: BTreeSet<i64> =
            chitties.with_untracked(|c| c.iter().filter(|c| c.status.awaits_staff() && was_lists.contains(&c.id)).map(|c| c.id).collect());
        announced.update_value(|a| a.extend(&still));
        announced_lists.update_value(|a| a.extend(&still_lists));
        unacked.update(|u| u.extend(still));
        unacked_lists.update(|u| u.extend(still_lists));
    });

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
                // What moved on while the link was down is acknowledged, as it would have been
                // live: no chime for an order already delivered.
                let pending: BTreeSet<i64> = fresh.orders.iter().filter(|o| o.status == OrderStatus::Pending).map(|o| o.id).collect();
                let waiting: BTreeSet<i64> = fresh.chitties.iter().filter(|c| c.status.awaits_staff()).map(|c| c.id).collect();
                unacked.update(|u| u.retain(|id| pending.contains(id)));
                unacked_lists.update(|u| u.retain(|id| waiting.contains(id)));
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

    // In the browser: find out at once whether sound is blocked (the start overlay), and
    // chime again every few seconds while a new order waits.
    Effect::new(move |_| chime.probe());
    every(std::time::Duration::from_millis(CHIME_EVERY_MS), move || {
        if !unacked.with_untracked(|u| u.is_empty()) || !unacked_lists.with_untracked(|u| u.is_empty()) {
            chime.ring();
        }
    });

    let acknowledge_all = move || {
        chime.unlock();
        unacked.set(BTreeSet::new());
        unacked_lists.set(BTreeSet::new());
    };
    let notifications = RwSignal::new(None::<bool>);
    Effect::new(move |_| notifications.set(crate::notify::granted()));
    let start = move |_| {
        chime.unlock();
        if notifications.get_untracked() == Some(false) {
            crate::notify::request(move |granted| notifications.set(Some(granted)));
        }
    };
    keyboard_shortcuts(tab, help, acknowledge_all, unacked);

    let toggle_open = move |_| {
        let open = !shop.with_untracked(|s| s.is_open);
        spawn_local(async move {
            match client::send::<_, Shop>(Method::Patch, &format!("/shops/{shop_id}"), &ShopUpdate { is_open: Some(open), ..Default::default() }).await {
                Ok(s) => shop.set(s),
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
        });
    };
    let actor = move || crate::tab::viewer().map(|u| u.actor());
    let title = move || {
        let name = shop.with(|s| s.name.clone());
        match unacked_count() {
            0 => format!("{name} board · Ordercast"),
            n => format!("({n}) {name} board · Ordercast"),
        }
    };
    live_title(title);
    let open_orders = move || orders.with(|o| o.iter().filter(|o| !o.status.is_final()).count());
    let tab_button = move |t: Tab, count: Signal<usize>| {
        view! {
            <button
                type="button"
                role="tab"
                id=t.id()
                class="tab"
                aria-selected=move || (tab.get() == t).to_string()
                aria-controls=format!("{}-panel", t.id())
                tabindex=move || if tab.get() == t { "0" } else { "-1" }
                on:click=move |_| tab.set(t)
            >
                {t.label()}
                <span class="badge">{move || count.get()}</span>
            </button>
        }
    };

    view! {
        <section
            class=move || if live.is_down() { "board-page stale" } else { "board-page" }
            data-shop-id=shop_id
            data-chimes=move || chime.rung.get()
        >
            <div class="board-head">
                <h1>{move || shop.with(|s| s.name.clone())} <span class="sr-only">" — orders"</span></h1>
                <div class="tabs" role="tablist" aria-label="Board">
                    {tab_button(Tab::Orders, Signal::derive(open_orders))}
                    {tab_button(Tab::Lists, Signal::derive(move || chitties.with(|c| c.len())))}
                    {tab_button(Tab::Products, Signal::derive(move || products.with(|p| p.len())))}
                </div>
                <Presence staff/>
                <div class="board-controls">
                    <button
                        type="button"
                        class=move || if shop.with(|s| s.is_open) { "shop-toggle open" } else { "shop-toggle closed" }
                        aria-pressed=move || shop.with(|s| s.is_open).to_string()
                        disabled=move || live.is_down()
                        on:click=toggle_open
                    >
                        {move || if shop.with(|s| s.is_open) { "Open — click to close" } else { "Closed — click to open" }}
                    </button>
                    <details class="more sound-menu">
                        // Sound turned off (here or by "Continue without sound") stays off on this
                        // device: the menu says so, so nobody counts on a chime that will not come.
                        <summary class:muted=move || !chime.enabled.get()>
                            {move || if chime.enabled.get() { "Alerts" } else { "Alerts: sound off" }}
                        </summary>
                        <div class="menu">
                            <label class="switch">
                                <input type="checkbox" prop:checked=move || chime.enabled.get() on:change=move |ev| chime.set_enabled(event_target_checked(&ev))/>
                                "Sound"
                            </label>
                            <label class="switch">
                                <input type="checkbox" prop:checked=move || chime.loud.get() on:change=move |ev| chime.set_loud(event_target_checked(&ev))/>
                                "Loud (noisy kitchen)"
                            </label>
                            <button type="button" class="secondary small" on:click=move |_| chime.ring_test()>"Test the chime"</button>
                            {move || match notifications.get() {
                                None => view! { <p class="hint">"This browser cannot show system notifications."</p> }.into_any(),
                                Some(true) => view! { <p class="hint">"System notifications are on while this tab is hidden."</p> }.into_any(),
                                Some(false) => view! {
                                    <button type="button" class="secondary small" on:click=move |_| crate::notify::request(move |g| notifications.set(Some(g)))>
                                        "Notify me while this tab is hidden"
                                    </button>
                                }.into_any(),
                            }}
                            <p class="hint">"With the board closed: new orders and lists on this device."</p>
                            <crate::push::PushSwitch/>
                        </div>
                    </details>
                    <button type="button" class="secondary small keys" aria-keyshortcuts="?" on:click=move |_| help.update(|h| *h = !*h)>"Keys"</button>
                </div>
            </div>
            <StaleBanner live/>
            <Show when=move || unacked_count() != 0>
                <div class="new-orders" role="alert">
                    <span>{move || {
                        let orders = match unacked.with(|u| u.len()) { 0 => None, 1 => Some("1 new order".to_string()), n => Some(format!("{n} new orders")) };
                        let lists = match unacked_lists.with(|u| u.len()) { 0 => None, 1 => Some("1 new list".to_string()), n => Some(format!("{n} new lists")) };
                        [orders, lists].into_iter().flatten().collect::<Vec<_>>().join(", ")
                    }}</span>
                    <Show when=move || !unacked_lists.with(|u| u.is_empty()) && tab.get() != Tab::Lists>
                        <button type="button" class="secondary small" on:click=move |_| tab.set(Tab::Lists)>"Show lists"</button>
                    </Show>
                    <button type="button" class="ack-all" aria-keyshortcuts="a" on:click=move |_| acknowledge_all()>"Acknowledge"</button>
                </div>
            </Show>
            <Show when=move || help.get()>
                <div class="shortcuts card" role="region" aria-label="Keyboard shortcuts">
                    <p>
                        <kbd>"N"</kbd>" next new order · "<kbd>"↑ ↓ ← →"</kbd>" move between orders · "
                        <kbd>"Enter"</kbd>" main action · "<kbd>"A"</kbd>" acknowledge · "
                        <kbd>"1"</kbd>" "<kbd>"2"</kbd>" "<kbd>"3"</kbd>" tabs · "<kbd>"?"</kbd>" this help"
                    </p>
                </div>
            </Show>
            <fieldset class="board-body" disabled=move || live.is_down()>
                <legend class="sr-only">{move || shop.with(|s| format!("{} board", s.name))}</legend>
                <div class="board" role="tabpanel" id="tab-orders-panel" aria-labelledby="tab-orders" hidden=move || tab.get() != Tab::Orders>
                    {COLUMNS
                        .into_iter()
                        .map(|status| {
                            // Oldest first: the order that has waited longest is at the top.
                            let count = move || orders.with(|o| o.iter().filter(|o| o.status == status).count());
                            let cards = move || {
                                let mut col: Vec<Order> = orders.with(|o| o.iter().filter(|o| o.status == status).cloned().collect());
                                col.sort_by_cached_key(|o| (o.status_since(), o.id));
                                if !started.get() {
                                    col.truncate(FIRST_CARDS);
                                }
                                col
                            };
                            let not_shown = move || (!started.get()).then(|| count().saturating_sub(FIRST_CARDS)).filter(|n| *n > 0);
                            view! {
                                <section class="column" data-status=status.as_str() aria-label=status.label()>
                                    <h2>{status.label()} " " <span class="badge">{count}</span></h2>
                                    <ul>
                                        <For each=cards key=|o| (o.id, o.version) let:order>
                                            <OrderCard order unacked actor=actor() orders shop/>
                                        </For>
                                        {move || not_shown().map(|n| view! { <li class="more-cards">{format!("{n} more, newer")}</li> })}
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
                                <OrderCard order unacked actor=actor() orders shop/>
                            </For>
                        </ul>
                    </section>
                </div>
                <div role="tabpanel" id="tab-lists-panel" aria-labelledby="tab-lists" class="tab-panel" hidden=move || tab.get() != Tab::Lists>
                    <crate::pages::chitties::ListsPanel shop_id chitties products unacked=unacked_lists/>
                </div>
                <div role="tabpanel" id="tab-products-panel" aria-labelledby="tab-products" class="tab-panel" hidden=move || tab.get() != Tab::Products>
                    <Products shop_id products/>
                </div>
            </fieldset>
            <Show when=move || chime.blocked.get() && chime.enabled.get()>
                <div class="start-overlay">
                    <div class="start-dialog" role="dialog" aria-modal="true" aria-labelledby="start-title" aria-describedby="start-why">
                        <h2 id="start-title">"Start the board"</h2>
                        <p id="start-why">"Your browser keeps sound off until you click. Start the board so every new order chimes."</p>
                        <button type="button" class="start-button" autofocus on:click=start>"Start the board"</button>
                        <button type="button" class="link" on:click=move |_| chime.set_enabled(false)>"Continue without sound"</button>
                    </div>
                </div>
            </Show>
        </section>
    }
    .into_any()
}

/// The full-width "not live" banner: since when the board has not been updated and what is
/// being done about it.
#[component]
fn StaleBanner(live: Live) -> impl IntoView {
    let as_of = move || live.down_since.get().map(|t| hms(&t.with_timezone(&chrono::Local))).unwrap_or_default();
    view! {
        <Show when=move || live.is_down()>
            <div class="stale-banner" role="alert">
                <strong>{move || match live.state.get() {
                    LinkState::Offline => "No network.",
                    _ => "Not live.",
                }}</strong>
                " This board shows orders as of " <time>{as_of}</time>
                {move || match live.state.get() {
                    LinkState::Offline => "; it catches up as soon as the network is back. Actions are paused.".to_string(),
                    LinkState::Reconnecting { in_secs } => format!("; reconnecting in {in_secs} s. Actions are paused."),
                    _ => "; reconnecting now. Actions are paused.".to_string(),
                }}
            </div>
        </Show>
    }
}

/// The board's keyboard: `N` the next new order, arrows between cards, `Enter` a card's main
/// action, `A` acknowledge, `1`–`3` the tabs, `?` the help. Keys typed into a field are left
/// alone.
fn keyboard_shortcuts(tab: RwSignal<Tab>, help: RwSignal<bool>, acknowledge_all: impl Fn() + Clone + 'static, unacked: RwSignal<BTreeSet<i64>>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
                return;
            }
            let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            let typing = target.as_ref().is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || t.closest("summary, details[open] .menu").ok().flatten().is_some());
            if typing {
                return;
            }
            let card = target.as_ref().and_then(|t| t.closest(".order-card").ok().flatten());
            let handled = match ev.key().as_str() {
                "1" => { tab.set(Tab::Orders); true }
                "2" => { tab.set(Tab::Lists); true }
                "3" => { tab.set(Tab::Products); true }
                "?" => { help.update(|h| *h = !*h); true }
                "a" | "A" => { acknowledge_all(); true }
                "n" | "N" => {
                    tab.set(Tab::Orders);
                    let next = unacked.with_untracked(|u| u.iter().next().copied());
                    let selector = match next {
                        Some(id) => format!(".order-card[data-order-id=\"{id}\"]"),
                        None => ".column[data-status=pending] .order-card".to_string(),
                    };
                    // From another tab, the orders' panel is shown once the reactive update
                    // has run (a microtask later): a hidden card cannot take the focus.
                    request_animation_frame(move || focus(document().query_selector(&selector).ok().flatten()));
                    true
                }
                "Enter" if card.as_ref() == target.as_ref() && card.is_some() => {
                    if let Some(button) = card.as_ref().and_then(|c| c.query_selector(".actions > button").ok().flatten()) {
                        if let Ok(b) = button.dyn_into::<web_sys::HtmlElement>() {
                            b.click();
                        }
                    }
                    true
                }
                key @ ("ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight") => match &card {
                    Some(card) => {
                        focus(neighbour(card, key));
                        true
                    }
                    None if tab.get_untracked() == Tab::Orders => {
                        focus(document().query_selector(".board .order-card").ok().flatten());
                        true
                    }
                    None => false,
                },
                _ => false,
            };
            if handled {
                ev.prevent_default();
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (tab, help, acknowledge_all, unacked);
}

#[cfg(feature = "hydrate")]
fn focus(el: Option<web_sys::Element>) {
    use wasm_bindgen::JsCast;
    if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// The card an arrow key moves to: the one above or below in the column, or the one at the
/// same height in the next column that has any.
#[cfg(feature = "hydrate")]
fn neighbour(card: &web_sys::Element, key: &str) -> Option<web_sys::Element> {
    match key {
        "ArrowUp" => card.previous_element_sibling(),
        "ArrowDown" => card.next_element_sibling(),
        _ => {
            let column = card.closest(".column").ok().flatten()?;
            let index = {
                let mut i = 0;
                let mut c = card.previous_element_sibling();
                while let Some(e) = c {
                    i += 1;
                    c = e.previous_element_sibling();
                }
                i
            };
            let mut next = if key == "ArrowLeft" { column.previous_element_sibling() } else { column.next_element_sibling() };
            while let Some(col) = next {
                let cards = col.query_selector_all(".order-card").ok()?;
                if cards.length() > 0 {
                    let i = index.min(cards.length() - 1);
                    return cards.item(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok());
                }
                next = if key == "ArrowLeft" { col.previous_element_sibling() } else { col.next_element_sibling() };
            }
            None
        }
    }
}

#[component]
fn OrderCard(
    order: Order,
    unacked: RwSignal<BTreeSet<i64>>,
    actor: Option<crate::domain::Actor>,
    orders: RwSignal<Vec<Order>>,
    shop: RwSignal<Shop>,
) -> impl IntoView {
    let clock = Clock::use_context();
    let id = order.id;
    let since = order.status_since();
    let open = !order.status.is_final();
    let items = order.items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect::<Vec<_>>().join(", ");
    let is_new = move || unacked.with(|u| u.contains(&id));
    let waited = move || clock.now().map(|now| now - since);
    let urgency = move || {
        let (warn, late) = shop.with(|s| (s.warn_after_mins, s.late_after_mins));
        waited().filter(|_| open).map(|w| Urgency::of(w, warn, late)).unwrap_or(Urgency::OnTime)
    };
    let class = move || {
        let mut c = format!("order-card urgency-{}", urgency().as_str());
        if is_new() {
            c.push_str(" new");
        }
        c
    };
    let done = Callback::new(move |updated: Order| {
        orders.update(|r| {
            patch_orders(r, updated);
        });
        unacked.update(|u| {
            u.remove(&id);
        });
    });
    let status = order.status;
    view! {
        <li class=class tabindex="-1" data-order-id=id data-version=order.version aria-label=format!("Order {id} from {}", order.customer_name)>
            <div class="card-head">
                <a class="order-id" href=format!("/orders/{id}")>"#" {id}</a>
                {if open {
                    view! {
                        <span class="timer" title=format!("In “{}” since {}", status.label(), since.to_rfc3339())>
                            <span class="sr-only">{format!("In {} for ", status.label().to_ascii_lowercase())}</span>
                            {move || waited().map(timer).unwrap_or_default()}
                            {move || (urgency() == Urgency::Late).then_some(view! { <span class="sr-only">" (late)"</span> })}
                        </span>
                    }.into_any()
                } else {
                    view! { <StatusBadge status/> }.into_any()
                }}
            </div>
            <div class="customer">{order.customer_name.clone()}</div>
            <div class="items">{items}</div>
            <div class="card-foot">
                <span class="total">{money(order.total_minor, order.currency.clone())}</span>
                <PaymentBadge payment=order.payment_status/>
            </div>
            <Show when=is_new>
                <button type="button" class="secondary ack" on:click=move |_| unacked.update(|u| { u.remove(&id); })>"Acknowledge"</button>
            </Show>
            {actor.map(|actor| view! { <OrderActions order=order.clone() actor done compact=true/> })}
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
                    // Keyed by id alone: a sale changes a row's stock in place, and leaves a
                    // number being typed into its field where it is.
                    <For each=move || products.get() key=|p| p.id let:product>
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
    let now = Memo::new(move |_| products.with(|l| l.iter().find(|p| p.id == id).cloned()).unwrap_or_else(|| product.clone()));
    let stock = RwSignal::new(now.with_untracked(|p| p.stock.to_string()));
    // The field follows the live stock until someone types another number into it.
    let shown = StoredValue::new(now.with_untracked(|p| p.stock));
    Effect::new(move |_| {
        let live = now.with(|p| p.stock);
        let was = shown.get_value();
        if live != was {
            shown.set_value(live);
            if stock.get_untracked().trim() == was.to_string() {
                stock.set(live.to_string());
            }
        }
    });
    let low = move || now.with(|p| crate::domain::validation::is_low_stock(p.stock, p.low_stock_threshold));
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
    let available = move || now.with(|p| p.available);
    let name = move || now.with(|p| p.name.clone());
    view! {
        <tr data-product-id=id class=move || if low() { "low" } else { "" }>
            <th scope="row">{name} {move || low().then(|| view! { <span class="low-badge">"Low"</span> })}</th>
            <td class="num">{move || now.with(|p| format_minor(p.price_minor))}</td>
            <td>
                <form class="stock-form" on:submit=move |ev| {
                    ev.prevent_default();
                    match stock.get_untracked().trim().parse::<i64>() {
                        Ok(n) => save(ProductUpdate { stock: Some(n), ..Default::default() }),
                        Err(_) => toasts.push(Severity::Warning, "Stock must be a whole number."),
                    }
                }>
                    <input type="number" min="0" step="1" inputmode="numeric" aria-label=move || format!("Stock of {}", name()) bind:value=stock/>
                    <button type="submit" class="secondary small">"Save"</button>
                </form>
            </td>
            <td>
                <button
                    type="button"
                    class=move || if available() { "secondary small availability on" } else { "secondary small availability off" }
                    aria-pressed=move || available().to_string()
                    on:click=move |_| save(ProductUpdate { available: Some(!available()), ..Default::default() })
                >
                    {move || if available() { "Available" } else { "Unavailable" }}
                </button>
            </td>
        </tr>
    }
}

/// A tab's unacknowledged orders and lists as kept across a reload: `"12,15|3"`.
fn unacked_to_kept(orders: &BTreeSet<i64>, lists: &BTreeSet<i64>) -> String {
    if orders.is_empty() && lists.is_empty() {
        return String::new();
    }
    let join = |ids: &BTreeSet<i64>| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    format!("{}|{}", join(orders), join(lists))
}

/// The inverse of [`unacked_to_kept`]; whatever does not read as ids is left out.
fn unacked_from_kept(kept: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let ids = |part: &str| part.split(',').filter_map(|id| id.trim().parse().ok()).collect();
    let (orders, lists) = kept.split_once('|').unwrap_or((kept, ""));
    (ids(orders), ids(lists))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unacknowledged_orders_and_lists_are_kept_and_read_back() {
        let (orders, lists) = (BTreeSet::from([15, 12]), BTreeSet::from([3]));
        assert_eq!(unacked_to_kept(&orders, &lists), "12,15|3");
        assert_eq!(unacked_from_kept("12,15|3"), (orders.clone(), lists));
        assert_eq!(unacked_from_kept("12,15|"), (orders, BTreeSet::new()));
        assert_eq!(unacked_to_kept(&BTreeSet::new(), &BTreeSet::new()), "", "nothing kept removes the key");
        assert_eq!(unacked_from_kept(""), (BTreeSet::new(), BTreeSet::new()));
        assert_eq!(unacked_from_kept("7,x,|,9"), (BTreeSet::from([7]), BTreeSet::from([9])));
    }
}
