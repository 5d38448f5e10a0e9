//! The pages, each with the code of its islands named for the page's head.
//!
//! The server renders every page; the browser hydrates only its islands (see [`crate::tab`]).
//! The customers' islands (the shops, a shop's products and cart, the orders, the tracker, a
//! list, signing in) are in the main WASM: one file, fetched and compiled while the phone
//! shows the page. The staff's (the board, the admin panel, the users) are lazily loaded
//! chunks of their own (`#[island(lazy)]`, `cargo leptos build --split`), so a customer's
//! phone never downloads them; those pages name their chunks ([`PreloadChunks`], after the
//! island's loader: `board_loader` for `Board`), so a first visit fetches them alongside the
//! main WASM.
//!
//! Measured (docs/BENCHMARKS.md): with every island lazy, a shop's page was 96 files, most of
//! them a few hundred bytes (code two islands share gets a chunk of its own), and a phone's
//! round trips for them cost more than the bytes saved.

use crate::pages;
use crate::scripts::PreloadChunks;
use leptos::prelude::*;

pub fn board() -> impl IntoView {
    view! { <PreloadChunks of="board_loader"/> <pages::board::BoardPage/> }
}

pub fn admin() -> impl IntoView {
    view! {
        <PreloadChunks of="figures_loader"/>
        <PreloadChunks of="admin_orders_loader"/>
        <PreloadChunks of="admin_side_loader"/>
        <pages::admin::AdminPage/>
    }
}

pub fn users() -> impl IntoView {
    view! { <PreloadChunks of="users_loader"/> <pages::users::UsersPage/> }
}
