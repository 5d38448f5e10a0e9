//! Orders: place, list, read, and move through their lifecycle.

use crate::auth::Session;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Id, OptionalJson};
use crate::service::orders;
use crate::state::AppState;
use app::api::{CancelRequest, ErrorBody, NewOrder, Order, OrderList, OrderQuery, StatusUpdate, WithSeq};
use app::domain::OrderAction;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Places an order (customers). Checks availability and stock and takes the stock.
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = NewOrder,
    responses((status = 201, body = WithSeq<Order>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    ApiJson(new): ApiJson<NewOrder>,
) -> ApiResult<(StatusCode, Json<WithSeq<Order>>)> {
    Ok((StatusCode::CREATED, Json(orders::create(&state, &session, new).await?)))
}

/// Orders visible to the caller: a customer's own, a shopkeeper's shops', or all for admins.
#[utoipa::path(get, path = "/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> ApiResult<Json<OrderList>> {
    Ok(Json(orders::list(&state, &session, query).await?))
}

/// One order with its items and status history.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = WithSeq<Order>), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<Json<WithSeq<Order>>> {
    Ok(Json(orders::get(&state, &session, id).await?))
}

/// Moves an order to its next status (staff and admins); `cancelled` cancels it.
#[utoipa::path(patch, path = "/orders/{id}/status", tag = "orders", params(("id" = i64, Path)), request_body = StatusUpdate,
    responses((status = 200, body = WithSeq<Order>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> ApiResult<Json<WithSeq<Order>>> {
    Ok(Json(orders::act(&state, &session, id, OrderAction::SetStatus(update.status), update.note).await?))
}

/// Cancels an order. Customers may cancel only while it is pending or confirmed.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", params(("id" = i64, Path)), request_body(content = Option<CancelRequest>, description = "optional: a reason"),
    responses((status = 200, body = WithSeq<Order>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    OptionalJson(req): OptionalJson<CancelRequest>,
) -> ApiResult<Json<WithSeq<Order>>> {
    Ok(Json(orders::act(&state, &session, id, OrderAction::Cancel, req.reason).await?))
}

/// Marks an order paid (staff and admins); a pending order is confirmed too.
#[utoipa::path(post, path = "/orders/{id}/payment/verify", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = WithSeq<Order>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn verify_payment(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<Json<WithSeq<Order>>> {
    Ok(Json(orders::act(&state, &session, id, OrderAction::VerifyPayment, None).await?))
}
