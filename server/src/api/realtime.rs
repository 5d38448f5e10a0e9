//! Real-time administration: notifications, socket statistics.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::realtime::hub::WsStats;
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, NewNotification, Notification, WithSeq};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Sends a notification to one user (all their devices) or to everyone (admins).
#[utoipa::path(post, path = "/notifications", tag = "realtime", request_body = NewNotification,
    responses((status = 201, body = WithSeq<Notification>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn notify(
    State(state): State<AppState>,
    session: Session,
    ApiJson(new): ApiJson<NewNotification>,
) -> ApiResult<(StatusCode, Json<WithSeq<Notification>>)> {
    Ok((StatusCode::CREATED, Json(service::notifications::send(&state, &session, new).await?)))
}

/// Open sockets, unique users, and subscribers per topic (admins).
#[utoipa::path(get, path = "/ws/stats", tag = "realtime",
    responses((status = 200, body = WsStats), (status = 403, body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>, session: Session) -> ApiResult<Json<WsStats>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins see connection statistics"));
    }
    Ok(Json(state.hub.stats()))
}
