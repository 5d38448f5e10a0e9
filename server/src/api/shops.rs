//! Shops and their products.

use crate::auth::Session;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Id};
use crate::service::catalog;
use crate::state::AppState;
use app::api::{Board, ErrorBody, FigureList, NewProduct, NewShop, Product, ProductList, ProductUpdate, Shop, ShopList, ShopTimings, ShopUpdate, StaffList, WithSeq};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// All shops with their open/closed state.
#[utoipa::path(get, path = "/shops", tag = "shops", responses((status = 200, body = ShopList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _session: Session) -> ApiResult<Json<ShopList>> {
    Ok(Json(catalog::list_shops(&state).await?))
}

/// One shop, with the `seq` it is current as of.
#[utoipa::path(get, path = "/shops/{id}", tag = "shops", params(("id" = i64, Path)),
    responses((status = 200, body = WithSeq<Shop>), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, _session: Session, Id(id): Id) -> ApiResult<Json<app::api::WithSeq<Shop>>> {
    Ok(Json(catalog::get_shop(&state, id).await?))
}

/// Creates a shop, open and without staff yet (admins); announced to everyone as `store_updated`.
#[utoipa::path(post, path = "/shops", tag = "shops", request_body = NewShop,
    responses((status = 201, body = WithSeq<Shop>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, session: Session, ApiJson(new): ApiJson<NewShop>) -> ApiResult<(StatusCode, Json<WithSeq<Shop>>)> {
    Ok((StatusCode::CREATED, Json(catalog::create_shop(&state, &session, new).await?)))
}

/// Changes a shop (its staff and admins): open or closed (`store_availability_changed`), its
/// name, contact, hours, currency or the board's lateness thresholds (`store_updated`).
#[utoipa::path(patch, path = "/shops/{id}", tag = "shops", params(("id" = i64, Path)), request_body = ShopUpdate,
    responses((status = 200, body = WithSeq<Shop>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    ApiJson(update): ApiJson<ShopUpdate>,
) -> ApiResult<Json<WithSeq<Shop>>> {
    Ok(Json(catalog::update_shop(&state, &session, id, update).await?))
}

/// How long the shop's orders usually take per stage (for the tracker's estimate).
#[utoipa::path(get, path = "/shops/{id}/timings", tag = "shops", params(("id" = i64, Path)),
    responses((status = 200, body = ShopTimings), (status = 404, body = ErrorBody)))]
pub async fn timings(State(state): State<AppState>, _session: Session, Id(id): Id) -> ApiResult<Json<ShopTimings>> {
    Ok(Json(catalog::timings(&state, id).await?))
}

/// Everything the shop's board shows at one `seq` (its staff and admins): the shop, its open
/// orders (oldest first) and the last finished ones, products, staff, open shopping lists.
#[utoipa::path(get, path = "/shops/{id}/board", tag = "shops", params(("id" = i64, Path)),
    responses((status = 200, body = Board), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn board(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<Json<Board>> {
    Ok(Json(catalog::board(&state, &session, id).await?))
}

/// The figures of every shop the caller manages (every shop for admins): orders and revenue
/// over the last 24 hours, open and late orders now, the median time from placing to ready.
#[utoipa::path(get, path = "/figures", tag = "shops",
    responses((status = 200, body = FigureList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn figures(State(state): State<AppState>, session: Session) -> ApiResult<Json<FigureList>> {
    Ok(Json(catalog::figures(&state, &session).await?))
}

/// The shop's staff and who of them is online (its staff and admins).
#[utoipa::path(get, path = "/shops/{id}/staff", tag = "shops", params(("id" = i64, Path)),
    responses((status = 200, body = StaffList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn staff(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<Json<StaffList>> {
    Ok(Json(catalog::staff(&state, &session, id).await?))
}

/// A shop's products, including unavailable ones.
#[utoipa::path(get, path = "/shops/{id}/products", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = ProductList), (status = 404, body = ErrorBody)))]
pub async fn list_products(State(state): State<AppState>, _session: Session, Id(id): Id) -> ApiResult<Json<ProductList>> {
    Ok(Json(catalog::list_products(&state, id).await?))
}

/// Adds a product to a shop (its staff and admins).
#[utoipa::path(post, path = "/shops/{id}/products", tag = "products", params(("id" = i64, Path)), request_body = NewProduct,
    responses((status = 201, body = WithSeq<Product>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_product(
    State(state): State<AppState>,
    session: Session,
    Id(shop_id): Id,
    ApiJson(new): ApiJson<NewProduct>,
) -> ApiResult<(StatusCode, Json<WithSeq<Product>>)> {
    Ok((StatusCode::CREATED, Json(catalog::create_product(&state, &session, shop_id, new).await?)))
}

/// Changes a product's name, price, stock, low-stock threshold or availability.
#[utoipa::path(patch, path = "/products/{id}", tag = "products", params(("id" = i64, Path)), request_body = ProductUpdate,
    responses((status = 200, body = WithSeq<Product>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_product(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    ApiJson(update): ApiJson<ProductUpdate>,
) -> ApiResult<Json<WithSeq<Product>>> {
    Ok(Json(catalog::update_product(&state, &session, id, update).await?))
}
