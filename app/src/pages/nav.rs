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
    let logout = ServerAction::<Logout>::new();
    // A signed-out tab must not keep its socket or its data: reload from scratch.
    Effect::new(move |_| {
        if matches!(logout.value().get(), Some(Ok(()))) {
            let _ = window().location().set_href("/login");
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let user = session.0.await.ok().and_then(|s| s.user);
                user.map(|user| {
                    let links: &[(&str, &str)] = match user.role {
                        Role::Customer => &[("/shops", "Shops"), ("/orders", "My orders")],
                        Role::Shopkeeper => &[("/board", "Board"), ("/orders", "Orders")],
                        Role::Admin => &[("/admin", "Admin"), ("/orders", "Orders"), ("/shops", "Shops")],
                    };
                    view! {
                        <nav class="nav" aria-label="Main">
                            {links.iter().map(|(href, label)| view! { <A href=*href>{*label}</A> }).collect_view()}
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
