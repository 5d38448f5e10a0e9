//! The pages as lazily loaded routes: each page's code is its own WASM chunk (`cargo leptos
//! build --split`), so a phone opening a shop downloads the shop page and the shell, not the
//! board, the admin screens and every other page as well.
//!
//! The shell (navigation, the live connection, toasts, sign-in state) stays in the main
//! bundle. A route's `data()` runs eagerly and is empty here: each page creates its own
//! resources when its view runs, on the server and in the browser alike, so hydration finds
//! them in the same order. `hydrate_lazy` (see the `frontend` crate) loads the chunks of the
//! page being hydrated before it hydrates; links load a page's chunk when followed. Each view
//! names its chunks for the page's head ([`PreloadChunks`], after the `#[lazy]` function's
//! name), so a first visit fetches them alongside the main WASM.
//!
//! Each impl sits on its own line on purpose: `#[lazy]` names a chunk after where it is
//! written, so these cannot come from one `macro_rules!`.

use crate::pages;
use crate::scripts::PreloadChunks;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

pub struct ShopsRoute;
#[lazy_route]
impl LazyRoute for ShopsRoute {
    fn data() -> Self {
        ShopsRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="shops_route_view"/> <pages::shops::ShopsPage/> }.into_any()
    }
}

pub struct ShopRoute;
#[lazy_route]
impl LazyRoute for ShopRoute {
    fn data() -> Self {
        ShopRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="shop_route_view"/> <pages::shops::ShopPage/> }.into_any()
    }
}

pub struct OrdersRoute;
#[lazy_route]
impl LazyRoute for OrdersRoute {
    fn data() -> Self {
        OrdersRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="orders_route_view"/> <pages::orders::OrdersPage/> }.into_any()
    }
}

pub struct OrderRoute;
#[lazy_route]
impl LazyRoute for OrderRoute {
    fn data() -> Self {
        OrderRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="order_route_view"/> <pages::orders::OrderPage/> }.into_any()
    }
}

pub struct ListRoute;
#[lazy_route]
impl LazyRoute for ListRoute {
    fn data() -> Self {
        ListRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="list_route_view"/> <pages::chitties::ListPage/> }.into_any()
    }
}

pub struct BoardRoute;
#[lazy_route]
impl LazyRoute for BoardRoute {
    fn data() -> Self {
        BoardRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="board_route_view"/> <pages::board::BoardPage/> }.into_any()
    }
}

pub struct AdminRoute;
#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        AdminRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="admin_route_view"/> <pages::admin::AdminPage/> }.into_any()
    }
}

pub struct UsersRoute;
#[lazy_route]
impl LazyRoute for UsersRoute {
    fn data() -> Self {
        UsersRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="users_route_view"/> <pages::users::UsersPage/> }.into_any()
    }
}

pub struct LoginRoute;
#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        LoginRoute
    }
    fn view(_this: Self) -> AnyView {
        view! { <PreloadChunks of="login_route_view"/> <pages::login::LoginPage/> }.into_any()
    }
}
