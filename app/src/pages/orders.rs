//! The signed-in user's orders: a plain list for now, scoped by role like the REST API.

use crate::api::{format_minor, OrderList, User};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use serde::{Deserialize, Serialize};

use super::login::Logout;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrdersView {
    pub user: User,
    pub orders: OrderList,
}

/// The signed-in user and their most recent orders; `None` when nobody is signed in.
#[server]
pub async fn my_orders() -> Result<Option<OrdersView>, ServerFnError> {
    use crate::backend::SharedBackend;

    let backend = expect_context::<SharedBackend>();
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    match backend.my_orders(&headers).await {
        Ok(found) => Ok(found.map(|(user, orders)| OrdersView { user, orders })),
        Err(body) => Err(ServerFnError::new(body.error.message)),
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| my_orders());

    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading orders…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(mine)) => view! { <OrderTable mine/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderTable(mine: OrdersView) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let OrdersView { user, orders } = mine;
    let count = orders.total;
    let rows = orders
        .items
        .into_iter()
        .map(|order| {
            let items = order
                .items
                .iter()
                .map(|i| format!("{} × {}", i.quantity, i.name))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <li class="order" data-order-id=order.id>
                    <div class="order-head">
                        <span class="order-id">"#" {order.id}</span>
                        <span class="shop">{order.shop_name}</span>
                        <span class=format!("status status-{}", order.status.as_str())>
                            {order.status.label()}
                        </span>
                    </div>
                    <div class="order-body">
                        <span class="items">{items}</span>
                        <span class="total">{format_minor(order.total_minor)}</span>
                    </div>
                    <div class="order-meta">
                        <span class="payment">{order.payment_status.as_str()}</span>
                        <time datetime=order.created_at.to_rfc3339()>
                            {order.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}
                        </time>
                    </div>
                </li>
            }
        })
        .collect_view();

    view! {
        <section class="card">
            <div class="page-head">
                <h1>"Orders"</h1>
                <div class="who">
                    <span class="user-name">{user.name}</span>
                    <span class="role">{user.role.as_str()}</span>
                    <ActionForm action=logout>
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                </div>
            </div>
            <p class="count">{count} " orders"</p>
            <ul class="orders" data-seq=orders.seq>{rows}</ul>
        </section>
    }
}
