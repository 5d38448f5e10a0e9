//! The customer's side of the catalogue: the shops with their open/closed state, and one
//! shop's products with availability and stock, a cart and placing the order. All live: a
//! shop closing or a product going unavailable shows at once and blocks ordering it.

use crate::api::{Order, Product, ProductList, Shop, ShopList, WithSeq};
use crate::cart::Cart;
use crate::pages::common::{live_title, money, money_text, Clock};
use crate::client::{self, ApiFailure, Method};
use crate::live::Live;
use crate::pages::common::{loaded, page_data};
use crate::patch::{catalog_change, patch_products, patch_shops};
use crate::protocol::EventEnvelope;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[component]
pub fn ShopsPage() -> impl IntoView {
    let data = page_data(|| (), |_| client::get::<ShopList>("/shops"));
    view! {
        <leptos_meta::Title text="Shops · Ordercast"/>
        {loaded(data, |list| view! { <ShopGrid list/> })}
    }
}

/// The shops, opening and closing live: an island (see [`crate::tab`]).
#[island]
fn ShopGrid(list: ShopList) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let shops = RwSignal::new(list.items);
    let on_event = move |event: &EventEnvelope| {
        if let Some(change) = catalog_change(event) {
            shops.update(|s| {
                patch_shops(s, &change);
            });
        }
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = client::get::<ShopList>("/shops").await {
                shops.set(fresh.items);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(list.seq, on_event, reload);

    view! {
        <section class="card">
            <h1>"Shops"</h1>
            <ul class="shops">
                <For each=move || shops.get() key=|s| (s.id, s.is_open) let:shop>
                    <li class="shop-card" data-shop-id=shop.id data-open=shop.is_open.to_string()>
                        <a href=format!("/shops/{}", shop.id)>{shop.name.clone()}</a>
                        <OpenBadge open=shop.is_open/>
                    </li>
                </For>
            </ul>
        </section>
    }
}

#[component]
pub fn OpenBadge(open: bool) -> impl IntoView {
    view! { <span class=if open { "open-badge open" } else { "open-badge closed" }>{if open { "Open" } else { "Closed" }}</span> }
}

/// A shop and its products, current as of `seq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShopData {
    pub shop: Shop,
    pub products: Vec<Product>,
    pub seq: i64,
}

async fn load_shop(id: i64) -> Result<ShopData, ApiFailure> {
    let shop: WithSeq<Shop> = client::get(&format!("/shops/{id}")).await?;
    let products: ProductList = client::get(&format!("/shops/{id}/products")).await?;
    Ok(ShopData { shop: shop.item, products: products.items, seq: shop.seq.min(products.seq) })
}

#[component]
pub fn ShopPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0));
    let data = page_data(id, load_shop);
    // The customer's recent lists here are links, not live: rendered by the server alone.
    loaded(data, |data| {
        let shop_id = data.shop.id;
        view! { <ShopFront data/> <crate::pages::chitties::MyLists shop_id/> }
    })
}

/// The shop's products and the cart: an island (see [`crate::tab`]).
#[island]
fn ShopFront(data: ShopData) -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let toasts = Toasts::use_context();
    let shop_id = data.shop.id;
    let shop = RwSignal::new(data.shop);
    let products = RwSignal::new(data.products);
    let cart = RwSignal::new(Cart::default());
    let placing = RwSignal::new(false);
    let clock = Clock::use_context();
    // The cart is kept per shop in this browser across navigation and reloads; read back
    // once hydrated, so the server-rendered page and the hydrating one agree.
    let cart_key = format!("ordercast.cart.{shop_id}");
    Effect::new({
        let key = cart_key.clone();
        move |_| {
            if let Some(stored) = crate::kept::get(&key) {
                cart.set(Cart::from_storage(&stored));
            }
        }
    });
    Effect::new(move |first: Option<()>| {
        let kept = cart.with(|c| c.to_storage());
        // Not on the first run: that would overwrite the kept cart before it is read back.
        if first.is_some() {
            crate::kept::set(&cart_key, &kept);
        }
    });

    let on_event = move |event: &EventEnvelope| {
        let Some(change) = catalog_change(event) else { return };
        if let crate::patch::CatalogChange::Shop(s) = &change {
            // `try_`: a reload still in flight may deliver events after the page has gone.
            if s.id == shop_id && shop.try_get_untracked().is_some_and(|current| current != *s) {
                live.announcement.set(format!("{} is now {}", s.name, if s.is_open { "open" } else { "closed" }));
                shop.set(s.clone());
            }
            return;
        }
        products.update(|p| {
            patch_products(p, shop_id, &change);
        });
    };
    let reload = move || {
        spawn_local(async move {
            if let Ok(fresh) = load_shop(shop_id).await {
                shop.set(fresh.shop);
                products.set(fresh.products);
                live.replay_since(fresh.seq, &on_event);
            }
        })
    };
    live.follow(data.seq, on_event, reload);

    let place = move |_| {
        let order = cart.with_untracked(|c| c.to_order(shop_id));
        placing.set(true);
        spawn_local(async move {
            match client::send::<_, Order>(Method::Post, "/orders", &order).await {
                Ok(placed) => {
                    cart.set(Cart::default());
                    crate::tab::go(&format!("/orders/{}", placed.id));
                }
                Err(e) => toasts.push(crate::api::Severity::Warning, e.message),
            }
            placing.set(false);
        });
    };
    let problems = move || products.with(|p| cart.with(|c| c.problems(p, shop.with(|s| s.is_open))));
    let total = move || products.with(|p| cart.with(|c| c.total_minor(p)));

    let currency = move || shop.with(|s| s.currency.clone());

    live_title(move || shop.with(|s| format!("{} · Ordercast", s.name)));
    view! {
        <section class="card shop-front" data-shop-id=shop_id>
            <div class="page-head">
                <h1>{move || shop.with(|s| s.name.clone())}</h1>
                {move || view! { <OpenBadge open=shop.with(|s| s.is_open)/> }}
            </div>
            <ul class="products">
                <For each=move || products.get() key=|p| (p.id, p.stock, p.available, p.price_minor) let:product>
                    <ProductRow product shop cart/>
                </For>
            </ul>
        </section>
        <section class="card cart" id="cart" aria-label="Cart">
            <h2>"Cart"</h2>
            <Show when=move || !cart.with(|c| c.is_empty()) fallback=|| view! { <p class="empty">"Your cart is empty."</p> }>
                <ul class="cart-lines">
                    {move || {
                        let lines = cart.with(|c| c.lines.clone());
                        lines
                            .into_iter()
                            .map(|(id, quantity)| {
                                let name = products.with(|p| p.iter().find(|x| x.id == id).map(|x| x.name.clone()).unwrap_or_default());
                                view! {
                                    <li class="cart-line">
                                        <span>{quantity} " × " {name.clone()}</span>
                                        <button type="button" class="secondary small" aria-label=format!("Remove one {name}") on:click=move |_| cart.update(|c| c.remove(id))>"−"</button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <p class="cart-total">"Total " <strong>{move || money_text(total(), &currency(), clock.hydrated())}</strong></p>
                <ul class="problems" role="alert">
                    {move || problems().into_iter().map(|p| view! { <li class="error">{p}</li> }).collect_view()}
                </ul>
                <button type="button" class="place" disabled=move || placing.get() || !problems().is_empty() on:click=place.clone()>
                    "Place order"
                </button>
            </Show>
        </section>
        <crate::pages::chitties::SendList shop_id shop_open=Signal::derive(move || shop.with(|s| s.is_open))/>
        // On a phone the cart is a bar pinned to the bottom, a tap away from any product.
        <Show when=move || !cart.with(|c| c.is_empty())>
            <a class="cart-bar" href="#cart">
                <span>{move || match cart.with(|c| c.count()) { 1 => "1 item".to_string(), n => format!("{n} items") }}</span>
                <strong>{move || money_text(total(), &currency(), clock.hydrated())}</strong>
                <span class="cart-bar-go">"View cart"</span>
            </a>
        </Show>
    }
    .into_any()
}

#[component]
fn ProductRow(product: Product, shop: RwSignal<Shop>, cart: RwSignal<Cart>) -> impl IntoView {
    let stock = match (product.available, product.stock) {
        (false, _) => "Unavailable".to_string(),
        (true, 0) => "Out of stock".to_string(),
        (true, n) => format!("{n} left"),
    };
    let orderable = product.available && product.stock > 0;
    let name = product.name.clone();
    let p = product.clone();
    let can_add = move || orderable && shop.with(|s| s.is_open) && cart.with(|c| c.quantity(p.id) < p.stock);
    let p = product.clone();
    view! {
        <li class=if orderable { "product" } else { "product unavailable" } data-product-id=product.id data-available=product.available.to_string()>
            <span class="product-name">{name.clone()}</span>
            <span class="price">{money(product.price_minor, shop.with_untracked(|s| s.currency.clone()))}</span>
            <span class="stock">{stock}</span>
            <span class="in-cart">{move || match cart.with(|c| c.quantity(product.id)) { 0 => String::new(), n => format!("{n} in cart") }}</span>
            <button type="button" class="add" aria-label=format!("Add {name}") disabled=move || !can_add() on:click=move |_| cart.update(|c| { c.add(&p); })>
                "Add"
            </button>
        </li>
    }
}

