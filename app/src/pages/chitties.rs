//! Chitties (photographed shopping lists) on screen: the customer sends one from a shop's
//! page and follows it on its own page until it is an order; the shop's staff check the
//! lines the server read on their board, correct them and make the order, or reject it.

use crate::api::{Chitty, ChittyOrder, ChittyOrderItem, ChittyRejection, Order, Product, Severity, WithSeq};
use crate::client::{self, ApiFailure, Method};
use crate::domain::chitty::{MIN_PROPOSAL_CONFIDENCE, SURE_CONFIDENCE};
use crate::domain::{validation, ChittyStatus};
use crate::live::Live;
use crate::pages::common::{loaded, page_data, Clock, StatusBadge};
use crate::text::lower;
use crate::patch::{chitty_of, order_of};
use crate::protocol::EventEnvelope;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// The customer's "Send a list" form on a shop's page. The send button waits for the page to
/// hydrate, so a tap is never lost to a page that cannot act on it yet.
#[component]
pub fn SendList(shop_id: i64, shop_open: Signal<bool>) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let photo_ref = NodeRef::<leptos::html::Input>::new();
    let preview = RwSignal::new(None::<String>);
    let note = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let _ = shop_id;

    let on_pick = move |_| {
        error.set(None);
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            if let Some(old) = preview.get_untracked() {
                crate::photo::revoke_preview(&old);
            }
            let file = photo_ref.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0));
            preview.set(file.as_ref().and_then(crate::photo::preview));
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            let Some(file) = photo_ref.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
                error.set(Some("Take or choose a photo of your list first.".into()));
                return;
            };
            sending.set(true);
            error.set(None);
            let text = note.get_untracked();
            spawn_local(async move {
                match crate::photo::send_list(shop_id, file, text).await {
                    Ok(chitty) => crate::tab::go(&format!("/lists/{}", chitty.id)),
                    Err(e) => {
                        error.set(Some(e.message));
                        sending.set(false);
                    }
                }
            });
        }
    };
    view! {
        <section class="card send-list" aria-labelledby="send-list-title">
            <h2 id="send-list-title">"Send a list"</h2>
            <p class="hint">"Have a handwritten shopping list? Take a photo of it: the shop reads it and makes your order."</p>
            <form on:submit=on_submit>
                <label class="photo-pick">
                    <span>"Photo of your list"</span>
                    <input node_ref=photo_ref type="file" name="photo" accept="image/*" capture="environment" on:change=on_pick/>
                </label>
                {move || preview.get().map(|src| view! { <img class="list-preview" src=src alt="Your list, as it will be sent"/> })}
                <label>
                    <span>"Note for the shop (optional)"</span>
                    <textarea name="note" rows="2" maxlength="500" bind:value=note></textarea>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="send" disabled=move || !hydrated.get() || sending.get() || !shop_open.get()>
                    {move || {
                        if !hydrated.get() {
                            "Getting ready…"
                        } else if sending.get() {
                            "Sending…"
                        } else if !shop_open.get() {
                            "The shop is closed"
                        } else {
                            "Send list"
                        }
                    }}
                </button>
            </form>
        </section>
    }
    .into_any()
}

/// The customer's recent lists at a shop, each linking to its live page.
#[component]
pub fn MyLists(shop_id: i64) -> impl IntoView {
    let session = crate::session::Session::use_context();
    let mine = Resource::new(
        || (),
        move |_| async move {
            let customer = session.0.await.ok().and_then(|s| s.user).is_some_and(|u| u.role == crate::domain::Role::Customer);
            if !customer {
                return Vec::new();
            }
            client::get::<crate::api::ChittyList>(&format!("/chitties?shop_id={shop_id}")).await.map(|l| l.items).unwrap_or_default()
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lists = mine.await;
                (!lists.is_empty()).then(|| view! {
                    <section class="card my-lists" aria-labelledby="my-lists-title">
                        <h2 id="my-lists-title">"Your lists here"</h2>
                        <ul>
                            {lists.into_iter().take(5).map(|c| view! {
                                <li><a href=format!("/lists/{}", c.id)>{format!("List #{}", c.id)}</a> " — " {status_label(c.status)}</li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
    .into_any()
}

fn status_label(s: ChittyStatus) -> &'static str {
    match s {
        ChittyStatus::Processing => "being read",
        ChittyStatus::Read | ChittyStatus::Failed => "with the shop",
        ChittyStatus::Ordered => "made an order",
        ChittyStatus::Rejected => "declined",
    }
}

/// A list and, once staff made it one, its order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListData {
    pub chitty: Chitty,
    pub order: Option<Order>,
    pub seq: i64,
}

async fn load_list(id: i64) -> Result<ListData, ApiFailure> {
    let chitty: WithSeq<Chitty> = client::get(&format!("/chitties/{id}")).await?;
    let mut seq = chitty.seq;
    let order = match chitty.item.order_id {
        Some(order_id) => {
            let order: WithSeq<Order> = client::get(&format!("/orders/{order_id}")).await?;
            seq = seq.min(order.seq);
            Some(order.item)
        }
        None => None,
    };
    Ok(ListData { chitty: chitty.item, order, seq })
}

/// `/lists/:id`: the customer follows their list from "reading" to the order it became.
#[component]
pub fn ListPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0));
    let data = page_data(id, load_list);
    view! {
        <leptos_meta::Title text="Your shopping list · Ordercast"/>
        {loaded(data, |data| view! { <ListView data/> })}
    }
}

/// The list, live: an island (see [`crate::tab`]).
#[island]
fn ListView(data: ListData) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let clock = Clock::use_context();
    let id = data.chitty.id;
    let sent = data.chitty.created_at;
    let chitty = RwSignal::new(data.chitty);
    let order = RwSignal::new(data.order);
    let fetch_order = move |order_id: i64| {
        spawn_local(async move {
            if let Ok(o) = client::get::<WithSeq<Order>>(&format!("/orders/{order_id}")).await {
                order.set(Some(o.item));
            }
        });
    };
    let on_event = move |event: &EventEnvelope| {
        if let Some(c) = chitty_of(event).filter(|c| c.id == id) {
            if chitty.try_with_untracked(|old| old.version < c.version).unwrap_or(false) {
                live.announcement.set(headline(&c).to_owned());
                if let (Some(order_id), None) = (c.order_id, order.get_untracked()) {
                    fetch_order(order_id);
                }
                chitty.set(c);
            }
            return;
        }
        if let Some(o) = order_of(event) {
            if chitty.with_untracked(|c| c.order_id) == Some(o.id)
                && order.with_untracked(|old| old.as_ref().is_none_or(|old| old.version < o.version))
            {
                live.announcement.set(format!("Your order is {}", o.status.label()));
                order.set(Some(o));
            }
        }
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = load_list(id).await {
                chitty.set(fresh.chitty);
                order.set(fresh.order);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(data.seq, on_event, reload);

    view! {
        <section class="card list-page" data-chitty-id=id data-status=move || chitty.with(|c| c.status.as_str())>
            <p class="crumbs"><a href=move || format!("/shops/{}", chitty.with(|c| c.shop_id))>{move || chitty.with(|c| c.shop_name.clone())}</a></p>
            <h1>"Your list"</h1>
            <p class="list-status" role="status" aria-live="polite">
                {move || chitty.with(|c| c.status == ChittyStatus::Processing).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                <strong>{move || chitty.with(|c| headline(c))}</strong>
            </p>
            <p class="hint">{move || chitty.with(|c| detail(c))}</p>
            {move || chitty.with(|c| c.reason.clone().filter(|_| c.status == ChittyStatus::Rejected)).map(|r| view! {
                <p class="reason">"The shop says: " <q>{r}</q></p>
            })}
            {move || {
                order.get().map(|o| view! {
                    <div class="list-order" data-order-id=o.id>
                        <span>"Order #" {o.id} " is "</span>
                        <StatusBadge status=o.status/>
                        <a class="button" href=format!("/orders/{}", o.id)>"Follow your order"</a>
                        <ul class="order-items">
                            {o.items.iter().map(|i| view! { <li>{i.quantity} " × " {i.name.clone()}</li> }).collect_view()}
                        </ul>
                    </div>
                })
            }}
            <div class="list-body">
                <img class="list-photo" src=format!("/api/v1/chitties/{id}/image") alt="The photo you sent"/>
                <div>
                    {move || chitty.with(|c| c.note.clone()).map(|n| view! { <p class="note">"Your note: " {n}</p> })}
                    // Once it is an order, the order's items (above) replace what was read.
                    <Show when=move || chitty.with(|c| !c.lines.is_empty() && c.status != ChittyStatus::Ordered)>
                        <h2>"What we read"</h2>
                        <ul class="read-lines">
                            {move || chitty.with(|c| c.lines.iter().map(|l| {
                                let product = l.product_id.and_then(|p| l.candidates.iter().find(|c| c.product_id == p)).map(|c| c.name.clone());
                                view! {
                                    <li>
                                        <span class="qty">{l.quantity} " × "</span>
                                        <span>{l.item.clone()}</span>
                                        {product.map(|p| view! { <span class="matched">" → " {p}</span> })}
                                    </li>
                                }
                            }).collect_view())}
                        </ul>
                    </Show>
                    <p class="sent">"Sent at " <time datetime=sent.to_rfc3339()>{move || clock.local_time(sent)}</time></p>
                </div>
            </div>
        </section>
    }
    .into_any()
}

fn headline(c: &Chitty) -> &'static str {
    match c.status {
        ChittyStatus::Processing => "Reading your list…",
        ChittyStatus::Read | ChittyStatus::Failed => "The shop is checking your list",
        ChittyStatus::Ordered => "The shop is preparing your order",
        ChittyStatus::Rejected => "The shop could not take this list",
    }
}

fn detail(c: &Chitty) -> &'static str {
    match c.status {
        ChittyStatus::Processing => "This takes a few seconds. You can leave this page; the list stays with the shop.",
        ChittyStatus::Read => "Below is what we read. The shop checks every line before making your order.",
        ChittyStatus::Failed => "We could not read it automatically, so the shop will read your photo themselves.",
        ChittyStatus::Ordered => "Your list is now an order: follow it below.",
        ChittyStatus::Rejected => "Nothing was ordered and nothing is charged.",
    }
}

/// The lists on the shop's board, newest first: each with its photo beside the lines read,
/// for staff to correct and make an order of, or reject.
#[component]
pub fn ListsPanel(
    shop_id: i64,
    chitties: RwSignal<Vec<Chitty>>,
    products: RwSignal<Vec<Product>>,
    unacked: RwSignal<std::collections::BTreeSet<i64>>,
) -> impl IntoView {
    let datalist = StoredValue::new(format!("products-of-{shop_id}"));
    view! {
        <section class="card lists-panel" aria-labelledby="lists-title">
            <h2 id="lists-title">"Shopping lists " <span class="badge">{move || chitties.with(|c| c.len())}</span></h2>
            <datalist id=datalist.get_value()>
                {move || products.with(|p| p.iter().map(|p| view! { <option value=p.name.clone()></option> }).collect_view())}
            </datalist>
            <Show when=move || chitties.with(|c| c.is_empty())>
                <p class="empty">"No lists waiting. When a customer sends a photo of a shopping list, it appears here and chimes like a new order."</p>
            </Show>
            <ul>
                <For each=move || chitties.get() key=|c| (c.id, c.version) let:chitty>
                    <ListCard chitty products unacked datalist/>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

/// A line as staff edit it.
#[derive(Clone, Debug, PartialEq)]
struct DraftLine {
    key: u64,
    position: Option<i64>,
    read: String,
    product: String,
    quantity: String,
    confidence: Option<u8>,
}

#[component]
fn ListCard(
    chitty: Chitty,
    products: RwSignal<Vec<Product>>,
    unacked: RwSignal<std::collections::BTreeSet<i64>>,
    datalist: StoredValue<String>,
) -> impl IntoView {
    let toasts = Toasts::use_context();
    let clock = Clock::use_context();
    let id = chitty.id;
    let created = chitty.created_at;
    let status = chitty.status;
    let name_of = move |pid: i64| products.with_untracked(|p| p.iter().find(|p| p.id == pid).map(|p| p.name.clone())).unwrap_or_default();
    let drafts = RwSignal::new(
        chitty
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| DraftLine {
                key: i as u64,
                position: Some(l.position),
                read: l.text.clone(),
                product: l.product_id.map(name_of).unwrap_or_default(),
                quantity: l.quantity.to_string(),
                confidence: l.product_id.and(l.candidates.first().map(|c| c.confidence)),
            })
            .collect::<Vec<_>>(),
    );
    let next_key = StoredValue::new(chitty.lines.len() as u64);
    let busy = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let is_new = move || unacked.with(|u| u.contains(&id));

    let make_order = move |_| {
        let lines = drafts.get_untracked();
        let mut items = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            let wanted = lower(line.product.trim());
            let Some(product) = products.with_untracked(|p| p.iter().find(|p| lower(&p.name) == wanted).map(|p| p.id)) else {
                toasts.push(Severity::Warning, format!("Line {}: pick a product from the list.", n + 1));
                return;
            };
            let Ok(quantity) = line.quantity.trim().parse::<i64>() else {
                toasts.push(Severity::Warning, format!("Line {}: the quantity must be a whole number.", n + 1));
                return;
            };
            items.push(ChittyOrderItem { position: line.position, product_id: product, quantity });
        }
        busy.set(true);
        spawn_local(async move {
            match client::send::<_, Order>(Method::Post, &format!("/chitties/{id}/order"), &ChittyOrder { items }).await {
                Ok(order) => {
                    unacked.update(|u| {
                        u.remove(&id);
                    });
                    toasts.push(Severity::Info, format!("Order #{} made for {}.", order.id, order.customer_name));
                }
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
            busy.set(false);
        });
    };
    let reject = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let why = reason.get_untracked();
        busy.set(true);
        spawn_local(async move {
            match client::send::<_, Chitty>(Method::Post, &format!("/chitties/{id}/reject"), &ChittyRejection { reason: why }).await {
                Ok(_) => unacked.update(|u| {
                    u.remove(&id);
                }),
                Err(e) => toasts.push(Severity::Warning, e.message),
            }
            busy.set(false);
        });
    };
    let add_line = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        drafts.update(|d| {
            d.push(DraftLine { key, position: None, read: String::new(), product: String::new(), quantity: "1".into(), confidence: None })
        });
    };

    view! {
        <li class=move || if is_new() { "list-card new" } else { "list-card" } data-chitty-id=id data-status=status.as_str()>
            <div class="card-head">
                <span class="customer">{chitty.customer_name.clone()}</span>
                <span class="list-state">{match status {
                    ChittyStatus::Processing => "Reading…",
                    ChittyStatus::Read => "Read — check it",
                    ChittyStatus::Failed => "Not readable — read the photo",
                    _ => "",
                }}</span>
                <span class="age" title=created.to_rfc3339()>{move || clock.age(created)}</span>
            </div>
            {chitty.note.clone().map(|n| view! { <p class="note">"Note: " {n}</p> })}
            {chitty.reason.clone().filter(|_| status == ChittyStatus::Failed).map(|r| view! { <p class="hint">{r}</p> })}
            <div class="list-body">
                <a href=format!("/api/v1/chitties/{id}/image") target="_blank" rel="noopener">
                    <img class="list-photo" src=format!("/api/v1/chitties/{id}/image") alt=format!("Photo of the list from {}", chitty.customer_name)/>
                </a>
                <Show when=move || status.awaits_staff()>
                    <div class="list-lines">
                        <table>
                            <thead><tr><th scope="col">"Read"</th><th scope="col">"Product"</th><th scope="col">"Qty"</th><th scope="col"><span class="sr-only">"Remove"</span></th></tr></thead>
                            <tbody>
                                <For each=move || drafts.get() key=|l| l.key let:line>
                                    {
                                        let key = line.key;
                                        let n = drafts.with_untracked(|d| d.iter().position(|l| l.key == key).unwrap_or(0)) + 1;
                                        let class = match line.confidence {
                                            Some(c) if c >= SURE_CONFIDENCE => "line sure",
                                            Some(c) if c >= MIN_PROPOSAL_CONFIDENCE => "line unsure",
                                            _ => "line unmatched",
                                        };
                                        let set = move |f: Box<dyn Fn(&mut DraftLine)>| drafts.update(|d| {
                                            if let Some(l) = d.iter_mut().find(|l| l.key == key) {
                                                f(l);
                                            }
                                        });
                                        view! {
                                            <tr class=class>
                                                <td class="read">{if line.read.is_empty() { "(added)".to_owned() } else { line.read.clone() }}
                                                    {line.confidence.is_none().then(|| view! { <span class="no-match">"No match — pick a product"</span> })}
                                                </td>
                                                <td>
                                                    <input type="text" list=datalist.get_value() value=line.product.clone() aria-label=format!("Product for line {n}")
                                                        on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |l| l.product = v.clone())); }/>
                                                </td>
                                                <td>
                                                    <input type="number" min="1" step="1" inputmode="numeric" class="qty" value=line.quantity.clone() aria-label=format!("Quantity for line {n}")
                                                        on:change=move |ev| { let v = event_target_value(&ev); set(Box::new(move |l| l.quantity = v.clone())); }/>
                                                </td>
                                                <td>
                                                    <button type="button" class="secondary small" aria-label=format!("Remove line {n}")
                                                        on:click=move |_| drafts.update(|d| d.retain(|l| l.key != key))>"×"</button>
                                                </td>
                                            </tr>
                                        }
                                        .into_any()
                                    }
                                </For>
                            </tbody>
                        </table>
                        <div class="list-actions">
                            <button type="button" class="secondary small" on:click=add_line>"Add line"</button>
                            <button type="button" class="make-order" disabled=move || busy.get() || drafts.with(|d| d.is_empty()) on:click=make_order>"Create order"</button>
                        </div>
                        <details class="reject">
                            <summary>"Reject…"</summary>
                            <form on:submit=reject>
                                <label>"Reason (the customer sees it)"
                                    <input type="text" maxlength=validation::MAX_REASON_LEN required bind:value=reason/>
                                </label>
                                <button type="submit" class="danger small" disabled=move || busy.get()>"Reject list"</button>
                            </form>
                        </details>
                    </div>
                </Show>
            </div>
        </li>
    }
    .into_any()
}
