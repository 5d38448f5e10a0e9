//! Who may open a session, asked the same way by both transports before anything streams:
//! the client's credentials (a bearer token in the header, the `token` query parameter or the
//! socket's `bearer.<token>` subprotocol, or else the session cookie under the transport's rule
//! for where a cookie may come from), the per-user connection limit, and the `topics` a URL
//! resume names.

use super::session::UrlResume;
use crate::auth::{bearer_token, cookie_token, session_from_token, Session};
use crate::error::ApiError;
use crate::state::AppState;
use app::api::ErrorCode;
use app::domain::event::TopicParseError;
use app::domain::Topic;
use axum::http::{header, HeaderMap};

/// Where a request that authenticates with the session cookie may come from. Browsers send
/// the cookie with requests that other sites start, so each transport refuses those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieRule {
    /// A WebSocket: nothing like CORS guards what another site's page reads from a socket, so
    /// the handshake's `Origin` must be this site (or a configured one).
    SameOrigin,
    /// An event stream is a fetch: another site can read it only if CORS allows it (nothing
    /// here does). One that says it comes from another site is refused anyway.
    NotCrossSite,
}

/// The session the request's credentials name. A refusal is counted in the metrics.
pub async fn authenticate(state: &AppState, token_param: Option<&str>, headers: &HeaderMap, rule: CookieRule) -> Result<Session, ApiError> {
    let session = async {
        let token = match bearer_token(headers, token_param) {
            Some(token) => token,
            None => {
                let token = cookie_token(headers).ok_or_else(ApiError::unauthenticated)?;
                cookie_allowed(state, headers, rule)?;
                token
            }
        };
        session_from_token(state, &token).await?.ok_or_else(ApiError::unauthenticated)
    };
    session.await.inspect_err(|_| {
        state.hub.metrics.auth_failures.inc();
    })
}

fn cookie_allowed(state: &AppState, headers: &HeaderMap, rule: CookieRule) -> Result<(), ApiError> {
    match rule {
        CookieRule::SameOrigin => {
            if !same_origin(state, headers) {
                return Err(ApiError::forbidden("cross-origin WebSocket with a session cookie refused"));
            }
        }
        CookieRule::NotCrossSite => {
            let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
            let foreign_origin = headers.contains_key(header::ORIGIN) && !same_origin(state, headers);
            if cross_site || foreign_origin {
                return Err(ApiError::forbidden("a cross-site event stream with a session cookie is refused"));
            }
        }
    }
    Ok(())
}

/// The `Origin` is this site (as the `Host` header names it) or one of the configured origins.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    if state.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
}

/// One more connection for this user stays within `--ws-max-connections-per-user` (sockets
/// and streams counted together).
pub fn within_connection_limit(state: &AppState, session: &Session) -> Result<(), ApiError> {
    let max = state.config.ws_max_connections_per_user;
    if state.hub.connections_of(session.user.id) >= max {
        return Err(ApiError::new(ErrorCode::TooManyRequests, format!("at most {max} connections per user")));
    }
    Ok(())
}

/// A resume that the address asks for: from `last_seq`, following `topics` (`order:7,catalog:1`)
/// besides the automatic ones; `Err` names a topic that is not one.
pub fn url_resume(last_seq: Option<i64>, topics: Option<&str>) -> Result<UrlResume, ApiError> {
    let topics = match topics.filter(|t| !t.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|t| t.trim().parse::<Topic>().map_err(|e: TopicParseError| ApiError::new(ErrorCode::InvalidQuery, e.to_string())))
            .collect::<Result<_, _>>()?,
    };
    Ok(UrlResume { last_seq, topics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_resume_names_its_topics_or_the_one_that_is_not_a_topic() {
        let resume = url_resume(Some(12), Some("order:7, catalog:1")).expect("two topics");
        assert_eq!(resume.last_seq, Some(12));
        assert_eq!(resume.topics, vec![Topic::Order(7), Topic::Catalog(1)]);
        assert!(url_resume(None, Some("")).expect("no topics").topics.is_empty());
        let refused = url_resume(None, Some("order:7,kitchen:1")).expect_err("not a topic");
        assert_eq!(refused.code, ErrorCode::InvalidQuery);
        assert!(refused.message.contains("kitchen"), "{}", refused.message);
    }
}
