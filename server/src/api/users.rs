//! `POST /users`.

use crate::auth::Session;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, NewUser, User};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Creates a user (admins). Shopkeepers are given the shops they work in.
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, session: Session, ApiJson(new): ApiJson<NewUser>) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(service::users::create(&state, &session, new).await?)))
}
