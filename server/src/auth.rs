//! Authentication: password hashing, session tokens, the `Session` extractor, and throttling
//! of failed sign-ins.
//!
//! A session token is 32 random bytes, given to the client once (as a cookie for browsers, in
//! the login response for API clients). The database stores only a keyed SHA-256 of it, so a
//! leaked database does not leak live sessions.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use app::api::{ErrorCode, User};
use app::domain::Actor;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap};
use chrono::{DateTime, Utc};
use crate::db::Db;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

pub const SESSION_COOKIE: &str = "ordercast_session";

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Verifies on a blocking thread: argon2 takes tens of milliseconds by design.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password nobody has, verified against when the email is unknown so that an
/// unknown email takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(secret: &str, token: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update([0u8]);
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// The token a request carries: `Authorization: Bearer …` first, then the session cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some(token) = auth.strip_prefix("Bearer ").map(str::trim) {
            return Some(token.to_owned()).filter(|t| !t.is_empty());
        }
    }
    cookie_token(headers)
}

pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    app::backend::cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()).map(str::to_owned)
}

pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// A signed-in request: the user and what they may do.
#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub actor: Actor,
    /// The stored hash of the session's token (`None` for sessions made in-process, e.g. seeding).
    pub token_hash: Option<String>,
    /// When the session ends by itself.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Session {
    /// A session for in-process work (seeding) with no token behind it.
    pub fn internal(user: User) -> Self {
        let actor = user.actor();
        Session { user, actor, token_hash: None, expires_at: None }
    }
}

/// The token a bearer client offers: `Authorization: Bearer …`, the `token` query parameter, or
/// a `bearer.<token>` WebSocket subprotocol (browsers cannot set headers on sockets), in that
/// order; `None` means the request relies on the session cookie.
pub fn bearer_token(headers: &HeaderMap, query_token: Option<&str>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .or_else(|| query_token.map(str::to_owned))
        .or_else(|| {
            headers
                .get_all(header::SEC_WEBSOCKET_PROTOCOL)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .find_map(|p| p.trim().strip_prefix("bearer.").map(str::to_owned))
        })
}

/// The session behind these headers, if any (expired sessions and disabled users have none).
pub async fn session_from_headers(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    match token_from_headers(headers) {
        Some(token) => session_from_token(state, &token).await,
        None => Ok(None),
    }
}

/// The session `headers` carry, or `unauthenticated`: what every signed-in read requires.
pub async fn required_session(state: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
    session_from_headers(state, headers).await?.ok_or_else(ApiError::unauthenticated)
}

/// The session of a token, if it is live and its user enabled.
pub async fn session_from_token(state: &AppState, token: &str) -> Result<Option<Session>, ApiError> {
    let hash = token_hash(&state.config.secret, token);
    if let Some(session) = state.sessions.get(&hash) {
        return Ok(Some(session));
    }
    let generation = state.sessions.generation();
    let mut conn = state.db.read().await?;
    let Some((user_id, expires_at)) = store::sessions::live(&mut conn, &hash, Utc::now()).await? else {
        return Ok(None);
    };
    let session = store::users::get(&mut conn, user_id).await?.map(|user| {
        let actor = user.actor();
        Session { user, actor, token_hash: Some(hash.clone()), expires_at: Some(expires_at) }
    });
    if let Some(s) = &session {
        state.sessions.store(&hash, s, generation);
    }
    Ok(session)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        required_session(state, &parts.headers).await
    }
}

/// Counts failed sign-ins per email and per client address in a fixed window, and refuses
/// further attempts once either count reaches its limit, until the window ends. The counts live
/// in the database, so every node sees the same ones.
pub struct LoginThrottle {
    per_email: u32,
    per_ip: u32,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(per_email: u32, window: Duration) -> Self {
        LoginThrottle { per_email, per_ip: per_email.saturating_mul(5), window }
    }

    fn email_key(email: &str) -> String {
        format!("email:{}", email.trim().to_lowercase())
    }

    /// (key, limit) for each count an attempt adds to.
    fn keys(&self, email: &str, ip: Option<IpAddr>) -> Vec<(String, u32)> {
        let mut keys = vec![(Self::email_key(email), self.per_email)];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), self.per_ip));
        }
        keys
    }

    fn window_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::zero())
    }

    /// Counts a sign-in attempt before its password is checked, and refuses it (429, with the
    /// seconds until the next attempt is allowed) past either limit. Counting first is what
    /// makes the limit hold against attempts sent all at once: each takes its number in one
    /// write, so only the first `limit` of them go on to the password. An attempt that
    /// succeeds is taken back ([`LoginThrottle::succeeded`]); a failed one stays counted.
    pub async fn attempt(&self, db: &Db, email: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Utc::now();
        let mut tx = db.begin_write().await?;
        let mut refused = None;
        for (key, limit) in self.keys(email, ip) {
            let (count, start) = store::login_failures::record(&mut tx, &key, now, self.window_from(now)).await?;
            if count > i64::from(limit) {
                let ends = start + chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::zero());
                refused = refused.max(Some((ends - now).num_seconds().max(1) as u64));
            }
        }
        tx.commit().await?;
        match refused {
            None => Ok(()),
            Some(wait) => {
                let mut err = ApiError::new(ErrorCode::TooManyRequests, format!("too many failed sign-ins; try again in {wait} seconds"));
                err.retry_after = Some(wait);
                Err(err)
            }
        }
    }

    /// A counted attempt signed in: the email's failures are forgiven, and this attempt no
    /// longer counts against the address (many people may sign in from one shop's network).
    pub async fn succeeded(&self, db: &Db, email: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let mut tx = db.begin_write().await?;
        for (key, _) in self.keys(email, ip) {
            if key == Self::email_key(email) {
                store::login_failures::clear(&mut tx, &key).await?;
            } else {
                store::login_failures::take_back(&mut tx, &key).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets windows that have ended.
    pub async fn prune(&self, db: &Db) -> sqlx::Result<u64> {
        store::login_failures::delete_expired(&mut db.write().await?, self.window_from(Utc::now())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        assert!(rt.block_on(verify_password("correct horse".into(), hash.clone())));
        assert!(!rt.block_on(verify_password("wrong".into(), hash)));
        assert!(!rt.block_on(verify_password("x".into(), "not a hash".into())));
    }

    #[test]
    fn bearer_tokens_win_over_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b; ordercast_session=fromcookie".parse().unwrap());
        assert_eq!(token_from_headers(&headers).as_deref(), Some("fromcookie"));
        headers.insert(header::AUTHORIZATION, "Bearer frombearer".parse().unwrap());
        assert_eq!(token_from_headers(&headers).as_deref(), Some("frombearer"));
    }
}
