//! The REST API under `/api/v1`: one module per resource, each handler a thin wrapper around
//! `service`. The OpenAPI document is served at `/api/v1/openapi.json`.

pub mod auth;
pub mod chitties;
pub mod openapi;
pub mod orders;
pub mod push;
pub mod realtime;
pub mod shops;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use app::api::ErrorCode;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/shops", get(shops::list).post(shops::create))
        .route("/shops/{id}", get(shops::get).patch(shops::update))
        .route("/shops/{id}/staff", get(shops::staff))
        .route("/shops/{id}/timings", get(shops::timings))
        .route("/shops/{id}/board", get(shops::board))
        .route("/figures", get(shops::figures))
        .route("/shops/{id}/products", get(shops::list_products).post(shops::create_product))
        .route("/products/{id}", patch(shops::update_product))
        // The photo's own limit (`--chitty-max-bytes`) is applied while it is read.
        .route("/shops/{id}/chitties", post(chitties::upload).layer(DefaultBodyLimit::disable()))
        .route("/chitties", get(chitties::list))
        .route("/chitties/{id}", get(chitties::get))
        .route("/chitties/{id}/image", get(chitties::image))
        .route("/chitties/{id}/order", post(chitties::make_order))
        .route("/chitties/{id}/reject", post(chitties::reject))
        .route("/orders", get(orders::list).post(orders::create))
        .route("/orders/{id}", get(orders::get))
        .route("/orders/{id}/status", patch(orders::set_status))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route("/orders/{id}/payment/verify", post(orders::verify_payment))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", patch(users::update))
        .route("/notifications", post(realtime::notify))
        .route("/push/key", get(push::key))
        .route("/push/subscriptions", get(push::list).post(push::subscribe))
        .route("/push/subscriptions/{id}", delete(push::unsubscribe))
        .route("/ws/stats", get(realtime::stats))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint")
}

/// axum adds the `Allow` header naming the methods the address takes.
async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method")
}
