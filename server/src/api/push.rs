//! Web Push: the server's key, and the signed-in user's devices.

use crate::auth::Session;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Id};
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, NewPushSubscription, PushKey, PushSubscription, PushSubscriptionList};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// The key to subscribe with (`applicationServerKey` of `PushManager.subscribe`).
#[utoipa::path(get, path = "/push/key", tag = "push", responses((status = 200, body = PushKey)))]
pub async fn key(State(state): State<AppState>, _session: Session) -> Json<PushKey> {
    Json(PushKey { public_key: state.vapid.public_key.clone() })
}

/// The signed-in user's devices that get notifications.
#[utoipa::path(get, path = "/push/subscriptions", tag = "push", responses((status = 200, body = PushSubscriptionList)))]
pub async fn list(State(state): State<AppState>, session: Session) -> ApiResult<Json<PushSubscriptionList>> {
    Ok(Json(PushSubscriptionList { items: service::push::list(&state, &session).await? }))
}

/// Notifies this device from now on: customers of their orders' progress, shop staff of new
/// orders and lists while none of their screens is live. An endpoint already known moves to
/// the signed-in user.
#[utoipa::path(post, path = "/push/subscriptions", tag = "push", request_body = NewPushSubscription,
    responses((status = 201, body = PushSubscription), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn subscribe(
    State(state): State<AppState>,
    session: Session,
    ApiJson(new): ApiJson<NewPushSubscription>,
) -> ApiResult<(StatusCode, Json<PushSubscription>)> {
    Ok((StatusCode::CREATED, Json(service::push::subscribe(&state, &session, new).await?)))
}

/// Stops notifying one of the signed-in user's devices.
#[utoipa::path(delete, path = "/push/subscriptions/{id}", tag = "push", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<StatusCode> {
    service::push::unsubscribe(&state, &session, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
