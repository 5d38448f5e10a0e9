//! The navigation for the signed-in user's role, and the home page that sends each role to
//! where they work: customers to the shops, shopkeepers to their board, admins to the panel.

use crate::domain::Role;
use crate::pages::login::Logout;
use crate::session::Session;
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

#[component]
pub fn Nav() -> impl IntoView {
    let session = Session::use_context();
    // Rendered by the server alone: signing out is the form's own POST, answered with a
    // redirect to sign in, so the tab loads afresh (no socket, no data kept).
    let logout = ServerAction::<Logout>::new();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let user = session.0.await.ok().and_then(|s| s.user);
                user.map(|user| {
                    let links: &[(&str, &str)] = match user.role {
                        Role::Customer => &[("/shops", "Shops"), ("/orders", "My orders")],
                        Role::Shopkeeper => &[("/board", "Board"), ("/orders", "Orders")],
                        Role::Admin => &[("/admin", "Admin"), ("/admin/users", "Users"), ("/orders", "Orders"), ("/shops", "Shops")],
                    };
                    view! {
                        <nav class="nav" aria-label="Main">
                            {links.iter().map(|(href, label)| {
                                // "Admin" is not current on "/admin/users"; "Orders" is on an order's page.
                                let exact = links.iter().any(|(other, _)| other != href && other.starts_with(href));
                                view! { <A href=*href exact>{*label}</A> }
                            }).collect_view()}
                        </nav>
                        <div class="who">
                            <span class="user-name">{user.name}</span>
                            <span class="role">{user.role.as_str()}</span>
                            <ActionForm action=logout>
                                <button type="submit" class="link">"Sign out"</button>
                            </ActionForm>
                        </div>
                    }
                })
            })}
        </Transition>
    }
}

#[component]
pub fn Home() -> impl IntoView {
    let session = Session::use_context();
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let path = match session.0.await.ok().and_then(|s| s.user).map(|u| u.role) {
                    None => "/login",
                    Some(Role::Customer) => "/shops",
                    Some(Role::Shopkeeper) => "/board",
                    Some(Role::Admin) => "/admin",
                };
                view! { <Redirect path/> }
            })}
        </Suspense>
    }
}

/// The page for an address that leads nowhere: says so and offers the way back, with the
/// navigation above it as on every page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <leptos_meta::Title text="Page not found · Ordercast"/>
        <section class="card not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have been mistyped, or the order or list it pointed to is not yours to see."</p>
            <p><a class="button-link" href="/">"Go to your start page"</a></p>
        </section>
    }
}
