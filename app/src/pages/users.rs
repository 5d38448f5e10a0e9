//! The admin's users screen: everyone with an account, their role and shops; a shopkeeper's
//! shops changed in place (their open pages follow at once, as the API promises); users
//! disabled and enabled again; and a form for a new account.

use crate::api::{NewUser, Severity, Shop, ShopList, User, UserList, UserUpdate};
use crate::client::{self, ApiFailure, Method};
use crate::domain::Role;
use crate::pages::common::{loaded, page_data};
use crate::session::Session;
use crate::toast::Toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UsersData {
    users: Vec<User>,
    shops: Vec<Shop>,
    /// The signed-in admin, whose own row offers no "Disable" (the API refuses it: an admin
    /// would lock themselves out).
    me: Option<i64>,
}

async fn load_users(session: Session) -> Result<UsersData, ApiFailure> {
    let users: UserList = client::get("/users").await?;
    let shops: ShopList = client::get("/shops").await?;
    let me = session.0.await.ok().and_then(|s| s.user).map(|u| u.id);
    Ok(UsersData { users: users.items, shops: shops.items, me })
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = Session::use_context();
    let data = page_data(|| (), move |_| load_users(session));
    view! {
        <leptos_meta::Title text="Users · Ordercast"/>
        {loaded(data, |data| view! { <Users data/> })}
    }
}

/// The accounts, editable: an island (see [`crate::tab`]).
#[island(lazy)]
fn Users(data: UsersData) -> impl IntoView {
    crate::tab::enter();
    let users = RwSignal::new(data.users);
    let shops = StoredValue::new(data.shops);
    let me = data.me;
    let replace = move |updated: User| {
        users.update(|list| match list.iter_mut().find(|u| u.id == updated.id) {
            Some(u) => *u = updated,
            None => list.push(updated),
        })
    };
    view! {
        <section class="card users-admin">
            <div class="page-head">
                <h1>"Users"</h1>
                <p class="count">{move || format!("{} accounts", users.with(|u| u.len()))}</p>
            </div>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Accounts">
                <table class="users stack">
                    <thead>
                        <tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Shops"</th><th scope="col">"Account"</th></tr>
                    </thead>
                    <tbody>
                        <For each=move || users.get() key=|u| (u.id, u.disabled, u.shop_ids.clone()) let:user>
                            <UserRow is_me=Some(user.id) == me user shops replace/>
                        </For>
                    </tbody>
                </table>
            </div>
            <NewUserForm shops replace/>
        </section>
    }
    .into_any()
}

#[component]
fn UserRow(user: User, is_me: bool, shops: StoredValue<Vec<Shop>>, replace: impl Fn(User) + Copy + Send + Sync + 'static) -> impl IntoView {
    let toasts = Toasts::use_context();
    let id = user.id;
    // One change of this account at a time: each is built from the row as shown, so a second
    // one sent before the first's answer would undo it. The answer redraws the row.
    let busy = RwSignal::new(false);
    let update = move |body: UserUpdate, undo: Box<dyn FnOnce()>| {
        busy.set(true);
        spawn_local(async move {
            match client::send::<_, User>(Method::Patch, &format!("/users/{id}"), &body).await {
                Ok(u) => replace(u),
                Err(e) => {
                    undo();
                    toasts.push(Severity::Warning, e.message);
                }
            }
            busy.try_set(false);
        });
    };
    let disabled = user.disabled;
    let current = user.shop_ids.clone();
    let shop_cell = if user.role == Role::Shopkeeper {
        view! {
            <fieldset class="shop-access" disabled=move || busy.get()>
                <legend class="sr-only">{format!("Shops of {}", user.name)}</legend>
                {shops.get_value().into_iter().map(|shop| {
                    let on = current.contains(&shop.id);
                    let others = current.clone();
                    view! {
                        <label class="switch">
                            <input type="checkbox" prop:checked=on on:change=move |ev| {
                                let mut ids: Vec<i64> = others.iter().copied().filter(|s| *s != shop.id).collect();
                                if !on {
                                    ids.push(shop.id);
                                }
                                // Refused: the box shows what the account still has.
                                let input = event_target::<leptos::web_sys::HtmlInputElement>(&ev);
                                update(UserUpdate { shop_ids: Some(ids), disabled: None }, Box::new(move || input.set_checked(on)));
                            }/>
                            {shop.name.clone()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
        }
        .into_any()
    } else {
        view! { <span class="muted">"—"</span> }.into_any()
    };
    view! {
        <tr data-user-id=id class=if disabled { "disabled" } else { "" }>
            <th scope="row">{user.name.clone()}</th>
            <td>{user.email.clone()}</td>
            <td data-label="Role">{user.role.as_str()}</td>
            <td data-label="Shops">{shop_cell}</td>
            <td>
                {if is_me {
                    view! { <span class="muted you">"You"</span> }.into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class=if disabled { "secondary small" } else { "secondary danger small" }
                            aria-label=format!("{} {}", if disabled { "Enable" } else { "Disable" }, user.name)
                            disabled=move || busy.get()
                            on:click=move |_| update(UserUpdate { disabled: Some(!disabled), shop_ids: None }, Box::new(|| ()))
                        >
                            {if disabled { "Enable" } else { "Disable" }}
                        </button>
                        {disabled.then(|| view! { <span class="muted">" disabled"</span> })}
                    }
                    .into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn NewUserForm(shops: StoredValue<Vec<Shop>>, replace: impl Fn(User) + Copy + Send + Sync + 'static) -> impl IntoView {
    let toasts = Toasts::use_context();
    let (name, email, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let role = RwSignal::new("customer".to_string());
    let shop = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Customer);
        let shop_ids = match (role, shop.get_untracked().parse::<i64>()) {
            (Role::Shopkeeper, Ok(id)) => vec![id],
            _ => Vec::new(),
        };
        let body = NewUser { email: email.get_untracked(), name: name.get_untracked(), role, password: password.get_untracked(), shop_ids };
        error.set(None);
        spawn_local(async move {
            match client::send::<_, User>(Method::Post, "/users", &body).await {
                Ok(u) => {
                    toasts.push(Severity::Info, format!("{} can sign in now.", u.name));
                    replace(u);
                    for f in [name, email, password] {
                        f.set(String::new());
                    }
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="new-user" on:submit=create aria-labelledby="new-user-title">
            <h2 id="new-user-title">"New account"</h2>
            <label>"Name" <input type="text" required maxlength="200" bind:value=name/></label>
            <label>"Email" <input type="email" required autocomplete="off" bind:value=email/></label>
            <label>"Password (8 characters or more)" <input type="password" required minlength="8" autocomplete="new-password" bind:value=password/></label>
            <label>
                "Role"
                <select prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="customer">"Customer"</option>
                    <option value="shopkeeper">"Shopkeeper"</option>
                    <option value="admin">"Admin"</option>
                </select>
            </label>
            <Show when=move || role.get() == "shopkeeper">
                <label>
                    "Works in"
                    <select prop:value=move || shop.get() on:change=move |ev| shop.set(event_target_value(&ev))>
                        <option value="">"No shop yet"</option>
                        {shops.get_value().into_iter().map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                    </select>
                </label>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit">"Create account"</button>
        </form>
    }
}
