//! `GET /users`, `POST /users`, `PATCH /users/{id}` (admins).

use crate::auth::Session;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Id};
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, NewUser, User, UserList, UserUpdate, WithSeq};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Every enabled user (admins).
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = UserList), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, session: Session) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList { items: service::users::list(&state, &session).await? }))
}

/// Creates a user (admins). Shopkeepers are given the shops they work in.
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = WithSeq<User>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, session: Session, ApiJson(new): ApiJson<NewUser>) -> ApiResult<(StatusCode, Json<WithSeq<User>>)> {
    Ok((StatusCode::CREATED, Json(service::users::create(&state, &session, new).await?)))
}

/// Disables a user or changes a shopkeeper's shops (admins). Open sockets lose what the user
/// may no longer see at once; a disabled user's sockets close with 4001 and sessions end.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = WithSeq<User>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, session: Session, Id(id): Id, ApiJson(update): ApiJson<UserUpdate>) -> ApiResult<Json<WithSeq<User>>> {
    Ok(Json(service::users::update(&state, &session, id, update).await?))
}
