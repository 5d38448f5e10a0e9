//! The admin's shops: each shop's board, open state and details (name, address, phone,
//! opening hours, currency, and when its board shows an order as getting late and late),
//! editable in place, and a form for a new shop. Changes go out live as `store_updated`.

use crate::api::{NewShop, Severity, Shop, ShopUpdate};
use crate::client::{self, Method};
use crate::pages::shops::OpenBadge;
use crate::patch::{patch_shops, CatalogChange};
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn ShopsAdmin(shops: RwSignal<Vec<Shop>>) -> impl IntoView {
    view! {
        <section class="card shops-admin" aria-labelledby="shops-title">
            <h2 id="shops-title">"Shops"</h2>
            <ul class="shops">
                // Keyed by id alone: a shop opening or closing, or edited elsewhere, updates its
                // line in place and leaves a form being filled in open, with what was typed.
                <For each=move || shops.get() key=|s| s.id let:shop>
                    {
                        let id = shop.id;
                        let first = shop.clone();
                        let now = Memo::new(move |_| shops.with(|l| l.iter().find(|s| s.id == id).cloned()).unwrap_or_else(|| first.clone()));
                        let open = move || now.with(|s| s.is_open);
                        view! {
                            <li class="shop-card" data-shop-id=id data-open=move || open().to_string()>
                                <div class="shop-line">
                                    <a href=format!("/board?shop={id}")>{move || now.with(|s| s.name.clone())}</a>
                                    {move || view! { <OpenBadge open=open()/> }}
                                </div>
                                <details class="shop-edit">
                                    <summary>"Edit details"</summary>
                                    <ShopForm shop=Some(shop.clone()) shops/>
                                </details>
                            </li>
                        }
                    }
                </For>
            </ul>
            <details class="shop-edit">
                <summary>"New shop"</summary>
                <ShopForm shop=None shops/>
            </details>
        </section>
    }
}

/// Edits `shop`, or creates a new one when `None`.
#[component]
fn ShopForm(shop: Option<Shop>, shops: RwSignal<Vec<Shop>>) -> impl IntoView {
    let toasts = Toasts::use_context();
    let id = shop.as_ref().map(|s| s.id);
    let field = |f: fn(&Shop) -> String| RwSignal::new(shop.as_ref().map(f).unwrap_or_default());
    let name = field(|s| s.name.clone());
    let address = field(|s| s.address.clone());
    let phone = field(|s| s.phone.clone());
    let hours = field(|s| s.opening_hours.clone());
    let currency = RwSignal::new(shop.as_ref().map_or("EUR".to_string(), |s| s.currency.clone()));
    let warn = RwSignal::new(shop.as_ref().map_or(5, |s| s.warn_after_mins).to_string());
    let late = RwSignal::new(shop.as_ref().map_or(10, |s| s.late_after_mins).to_string());
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(warn_after), Ok(late_after)) = (warn.get_untracked().trim().parse::<i64>(), late.get_untracked().trim().parse::<i64>()) else {
            error.set(Some("The alert times are whole numbers of minutes.".into()));
            return;
        };
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match id {
                Some(id) => {
                    let update = ShopUpdate {
                        name: Some(name.get_untracked()),
                        address: Some(address.get_untracked()),
                        phone: Some(phone.get_untracked()),
                        opening_hours: Some(hours.get_untracked()),
                        currency: Some(currency.get_untracked().trim().to_ascii_uppercase()),
                        warn_after_mins: Some(warn_after),
                        late_after_mins: Some(late_after),
                        ..Default::default()
                    };
                    client::send::<_, Shop>(Method::Patch, &format!("/shops/{id}"), &update).await
                }
                None => {
                    let new = NewShop {
                        name: name.get_untracked(),
                        address: address.get_untracked(),
                        phone: phone.get_untracked(),
                        opening_hours: hours.get_untracked(),
                        currency: Some(currency.get_untracked().trim().to_ascii_uppercase()),
                    };
                    client::send::<_, Shop>(Method::Post, "/shops", &new).await
                }
            };
            saving.set(false);
            match result {
                Ok(saved) => {
                    toasts.push(Severity::Info, format!("{} saved.", saved.name));
                    shops.update(|s| {
                        patch_shops(s, &CatalogChange::Shop(saved));
                    });
                    if id.is_none() {
                        for f in [name, address, phone, hours] {
                            f.set(String::new());
                        }
                    }
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let label = id.map_or("new shop".to_string(), |id| format!("shop {id}"));
    view! {
        <form class="shop-form" on:submit=save aria-label=format!("Details of {label}")>
            <label>"Name" <input type="text" required maxlength="200" bind:value=name/></label>
            <label>"Address" <input type="text" maxlength="200" autocomplete="street-address" bind:value=address/></label>
            <label>"Phone" <input type="tel" maxlength="40" bind:value=phone/></label>
            <label>"Opening hours" <input type="text" maxlength="200" placeholder="Mon–Sat 8:00–18:00" bind:value=hours/></label>
            <label>"Currency (ISO code)" <input type="text" required minlength="3" maxlength="3" pattern="[A-Za-z]{3}" bind:value=currency/></label>
            <div class="thresholds">
                <label>"Getting late after (min)" <input type="number" min="1" max="239" step="1" inputmode="numeric" bind:value=warn/></label>
                <label>"Late after (min)" <input type="number" min="2" max="240" step="1" inputmode="numeric" bind:value=late/></label>
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" disabled=move || saving.get()>{if id.is_some() { "Save shop" } else { "Create shop" }}</button>
        </form>
    }
}
