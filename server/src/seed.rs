//! Demo data for a first start: two shops with products, an admin, shopkeepers, customers, and
//! orders in various states, all created through the same services as real traffic (so the
//! outbox has their events too).

use crate::auth::{hash_password, Session};
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::store;
use app::api::{NewOrder, NewOrderItem, NewProduct, User};
use app::domain::{OrderAction, OrderStatus, Role};
use chrono::{Duration, Utc};

pub const DEMO_PASSWORD: &str = "ordercast";

/// The demo accounts: (email, name, role, shops by index).
const USERS: &[(&str, &str, Role, &[usize])] = &[
    ("admin@ordercast.test", "Ada Admin", Role::Admin, &[]),
    ("baker@ordercast.test", "Bo Baker", Role::Shopkeeper, &[0]),
    ("grocer@ordercast.test", "Gia Grocer", Role::Shopkeeper, &[1]),
    ("alice@ordercast.test", "Alice Customer", Role::Customer, &[]),
    ("bob@ordercast.test", "Bob Customer", Role::Customer, &[]),
];

/// (name, price in minor units, stock, low-stock threshold)
type DemoProduct = (&'static str, i64, i64, i64);

/// A demo order: (customer, shop, [(product index, quantity)], steps taken, minutes ago).
type DemoOrder = (usize, usize, &'static [(usize, i64)], &'static [OrderAction], i64);

/// (name, address, phone, opening hours, products)
const SHOPS: &[(&str, &str, &str, &str, &[DemoProduct])] = &[
    (
        "Corner Bakery",
        "12 Mill Lane",
        "+44 20 7946 0018",
        "Mon–Sat 7:00–18:00, Sun 8:00–13:00",
        &[("Sourdough loaf", 550, 40, 5), ("Croissant", 220, 60, 10), ("Rye bread", 480, 25, 5), ("Cinnamon bun", 320, 30, 5)],
    ),
    (
        "Green Grocer",
        "3 Market Square",
        "+44 20 7946 0342",
        "Mon–Sat 8:00–19:00",
        &[("Apples (1 kg)", 399, 50, 8), ("Bananas (1 kg)", 249, 45, 8), ("Tomatoes (500 g)", 299, 30, 5), ("Oat milk (1 l)", 189, 6, 6)],
    ),
];

/// Seeds the demo if the database has no users yet. Returns whether it did. Nodes starting
/// together on one PostgreSQL database take turns: the first seeds, the others find users.
pub async fn seed_if_empty(state: &AppState) -> Result<bool, ApiError> {
    let lock = state.db.setup_lock().await?;
    let seeded = seed_unless_users(state).await;
    lock.release().await;
    seeded
}

async fn seed_unless_users(state: &AppState) -> Result<bool, ApiError> {
    if store::users::count(&mut state.db.read().await?).await? > 0 {
        return Ok(false);
    }
    // One hash for all demo accounts: hashing is slow by design, and these share a password.
    let hash = hash_password(DEMO_PASSWORD).map_err(|_| ApiError::internal())?;
    let now = Utc::now();

    let mut tx = state.db.begin_write().await?;
    let mut shop_ids = Vec::new();
    for (name, address, phone, hours, _) in SHOPS {
        let shop = app::api::NewShop {
            name: name.to_string(),
            address: address.to_string(),
            phone: phone.to_string(),
            opening_hours: hours.to_string(),
            currency: Some("GBP".into()),
        };
        shop_ids.push(store::shops::insert(&mut tx, &shop, true, now).await?);
    }
    let mut users = Vec::new();
    for (email, name, role, shops) in USERS {
        let id = store::users::insert(&mut tx, email, name, *role, &hash, now).await?;
        for &i in *shops {
            store::shops::add_staff(&mut tx, shop_ids[i], id).await?;
        }
        users.push(id);
    }
    tx.commit().await?;

    let session = |i: usize| -> Session {
        let (email, name, role, shops) = USERS[i];
        let shop_ids: Vec<i64> = shops.iter().map(|&s| shop_ids[s]).collect();
        Session::internal(User { id: users[i], email: email.into(), name: name.into(), role, shop_ids, disabled: false })
    };
    let admin = session(0);

    let mut products = Vec::new();
    for (s, (_, _, _, _, items)) in SHOPS.iter().enumerate() {
        let mut ids = Vec::new();
        for &(name, price_minor, stock, low_stock_threshold) in *items {
            let new = NewProduct { name: name.into(), price_minor, stock, low_stock_threshold, available: true };
            ids.push(service::catalog::create_product(state, &admin, shop_ids[s], new).await?.item.id);
        }
        products.push(ids);
    }

    let orders: &[DemoOrder] = &[
        (3, 0, &[(0, 1), (1, 4)], &[], 3),
        (3, 1, &[(0, 2), (3, 1)], &[OrderAction::VerifyPayment, OrderAction::SetStatus(OrderStatus::Preparing)], 25),
        (3, 0, &[(2, 1)], &[OrderAction::VerifyPayment, OrderAction::SetStatus(OrderStatus::Preparing), OrderAction::SetStatus(OrderStatus::Ready), OrderAction::SetStatus(OrderStatus::OutForDelivery), OrderAction::SetStatus(OrderStatus::Delivered)], 24 * 60),
        (4, 0, &[(3, 2)], &[OrderAction::SetStatus(OrderStatus::Confirmed)], 12),
        (4, 1, &[(1, 1), (2, 2)], &[OrderAction::Cancel], 90),
    ];
    for &(customer, shop, lines, steps, minutes_ago) in orders {
        let new = NewOrder {
            shop_id: shop_ids[shop],
            items: lines.iter().map(|&(p, quantity)| NewOrderItem { product_id: products[shop][p], quantity }).collect(),
        };
        let order = service::orders::create(state, &session(customer), new).await?.item;
        for &step in steps {
            service::orders::act(state, &admin, order.id, step, None).await?;
        }
        store::orders::set_created_at(&mut state.db.write().await?, order.id, now - Duration::minutes(minutes_ago)).await?;
    }
    Ok(true)
}

/// The demo logins, for the start-up banner.
pub fn banner() -> String {
    let mut s = String::from("Demo data created. Sign in with any of these (password: ");
    s.push_str(DEMO_PASSWORD);
    s.push_str("):\n");
    for (email, name, role, _) in USERS {
        s.push_str(&format!("  {email:<24} {name} ({})\n", role.as_str()));
    }
    s
}
