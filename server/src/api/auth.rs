//! `POST /auth/login`, `POST /auth/logout`, `GET /auth/me`.

use crate::auth::{clear_cookie, session_cookie, token_from_headers, Session};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, LoginRequest, LoginResponse, User};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::Json;
use std::net::SocketAddr;

/// Signs in. Browsers get an HttpOnly session cookie; API clients use the returned token as
/// `Authorization: Bearer <token>`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let res = service::auth::login(&state, &req.email, &req.password, Some(addr.ip())).await?;
    let cookie = session_cookie(&res.token, state.config.session_hours * 3600, state.config.secure_cookie);
    Ok((AppendHeaders([(header::SET_COOKIE, cookie)]), Json(res)))
}

/// Ends the session the request carries, if any, and clears the cookie. Needs no session: a
/// request without one (or with an ended one) gets the same answer.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(()), responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<impl IntoResponse> {
    if let Some(token) = token_from_headers(&headers) {
        service::auth::logout(&state, &token).await?;
    }
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(header::SET_COOKIE, clear_cookie(state.config.secure_cookie))])))
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(session: Session) -> Json<User> {
    Json(service::auth::me(&session))
}
