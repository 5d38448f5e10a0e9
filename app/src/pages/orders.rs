//! The signed-in user's orders: a plain list for now, scoped by role like the REST API.

use crate::api::{format_minor, Order, OrderList, User};
use crate::domain::EventType;
use crate::live::Live;
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

/// Applies an order snapshot from an event: newer versions replace the row in place, new
/// orders go on top. Returns whether anything changed.
pub fn patch_orders(rows: &mut Vec<Order>, order: Order) -> bool {
    match rows.iter_mut().find(|o| o.id == order.id) {
        Some(existing) if existing.version >= order.version => false,
        Some(existing) => {
            *existing = order;
            true
        }
        None => {
            rows.insert(0, order);
            true
        }
    }
}

#[component]
fn OrderTable(mine: OrdersView) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let OrdersView { user, orders } = mine;
    let total = RwSignal::new(orders.total);
    let seq = orders.seq;
    let rows = RwSignal::new(orders.items);

    let live = Live::use_context();
    live.on_event(move |event| {
        if !matches!(event.event_type, EventType::OrderCreated | EventType::OrderUpdated) {
            return;
        }
        let Some(order) = event.data.get("order").cloned().and_then(|o| serde_json::from_value::<Order>(o).ok()) else {
            return;
        };
        let announcement = format!("Order #{} is {}", order.id, order.status.label());
        let created = event.event_type == EventType::OrderCreated;
        let mut changed = false;
        rows.update(|r| changed = patch_orders(r, order));
        if changed {
            if created {
                total.update(|t| *t += 1);
            }
            live.announcement.set(announcement);
        }
    });
    // Effects run only in the browser: connect from the `seq` this page was rendered at, so no
    // event falls between the render and the subscription.
    Effect::new(move |_| live.start(seq));

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
            <p class="count">{move || total.get()} " orders"</p>
            <ul class="orders" data-seq=seq>
                <For each=move || rows.get() key=|o| (o.id, o.version) children=order_row/>
            </ul>
        </section>
    }
}

fn order_row(order: Order) -> impl IntoView {
    let items = order.items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect::<Vec<_>>().join(", ");
    view! {
        <li class="order" data-order-id=order.id data-version=order.version>
            <div class="order-head">
                <span class="order-id">"#" {order.id}</span>
                <span class="shop">{order.shop_name}</span>
                <span class=format!("status status-{}", order.status.as_str())>{order.status.label()}</span>
            </div>
            <div class="order-body">
                <span class="items">{items}</span>
                <span class="total">{format_minor(order.total_minor)}</span>
            </div>
            <div class="order-meta">
                <span class="payment">{order.payment_status.as_str()}</span>
                <time datetime=order.created_at.to_rfc3339()>{order.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::patch_orders;
    use crate::api::Order;
    use crate::domain::{OrderStatus, PaymentStatus};

    fn order(id: i64, version: i64, status: OrderStatus) -> Order {
        let at = chrono::DateTime::UNIX_EPOCH;
        Order {
            id,
            shop_id: 1,
            shop_name: "Shop".into(),
            customer_id: 1,
            customer_name: "C".into(),
            items: vec![],
            total_minor: 0,
            status,
            payment_status: PaymentStatus::Unpaid,
            version,
            created_at: at,
            updated_at: at,
            history: vec![],
        }
    }

    #[test]
    fn only_newer_versions_replace_a_row_and_new_orders_go_on_top() {
        let mut rows = vec![order(2, 3, OrderStatus::Preparing), order(1, 1, OrderStatus::Pending)];
        assert!(!patch_orders(&mut rows, order(2, 2, OrderStatus::Confirmed)), "older snapshot ignored");
        assert!(!patch_orders(&mut rows, order(2, 3, OrderStatus::Preparing)), "same version ignored");
        assert!(patch_orders(&mut rows, order(1, 2, OrderStatus::Confirmed)));
        assert_eq!(rows[1].status, OrderStatus::Confirmed);
        assert!(patch_orders(&mut rows, order(3, 1, OrderStatus::Pending)));
        assert_eq!(rows.iter().map(|o| o.id).collect::<Vec<_>>(), [3, 2, 1]);
    }
}
