//! Signing in and out.

use crate::auth::{decoy_hash, new_token, token_hash, verify_password, Session};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use app::api::{ErrorCode, LoginResponse};
use chrono::Duration;
use std::net::IpAddr;
use app::domain::EventType;
use serde_json::json;

pub async fn login(state: &AppState, email: &str, password: &str, ip: Option<IpAddr>) -> ApiResult<LoginResponse> {
    state.throttle.attempt(&state.db, email, ip).await?;
    let creds = store::users::credentials(&mut state.db.read().await?, email).await?;
    let (user_id, hash, enabled) = match creds {
        Some(c) => (Some(c.id), c.password_hash, !c.disabled),
        None => (None, decoy_hash().to_owned(), false),
    };
    let matches = verify_password(password.to_owned(), hash).await;
    let user_id = match user_id {
        Some(id) if matches && enabled => id,
        _ => {
            return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong email or password"));
        }
    };
    state.throttle.succeeded(&state.db, email, ip).await?;

    let token = new_token();
    let now = super::now();
    let expires_at = now + Duration::hours(state.config.session_hours);
    let mut tx = state.db.begin_write().await?;
    store::sessions::insert(&mut tx, &token_hash(&state.config.secret, &token), user_id, now, expires_at).await?;
    let user = store::users::get(&mut tx, user_id).await?.ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    tracing::info!(user_id, "signed in");
    Ok(LoginResponse { token, expires_at, user })
}

/// Ends the session of this token, its sockets on every node and the notifications of the
/// devices it turned them on for (the next person at a shared screen must not see this user's
/// orders). Unknown tokens are fine: the result is the same.
pub async fn logout(state: &AppState, token: &str) -> ApiResult<()> {
    let hash = token_hash(&state.config.secret, token);
    let mut tx = state.db.begin_write().await?;
    if let Some(user_id) = store::sessions::delete(&mut tx, &hash).await? {
        store::push::delete_of_session(&mut tx, &hash).await?;
        store::events::append(&mut tx, EventType::SessionEnded, &[], &json!({ "user_id": user_id, "session": hash }), super::now());
    }
    super::commit(state, tx).await?;
    // This node forgets it now; the others when their relay reads the event.
    state.sessions.forget_session(&hash);
    Ok(())
}

pub fn me(session: &Session) -> app::api::User {
    session.user.clone()
}
