//! The server's side of the pages: [`PageBackend`] over the same services as the REST API.

use crate::auth::{clear_cookie, session_cookie, token_from_headers};
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, ErrorCode, ErrorDetail};
use app::backend::{PageBackend, SessionCookie};
use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use axum::Router;
use std::net::IpAddr;
use tower::ServiceExt;

/// The largest API response a page reads in-process.
const MAX_BODY: usize = 8 << 20;

pub struct Pages {
    state: AppState,
    /// The REST API, answered in-process for server-side rendering, at the same paths as over
    /// HTTP.
    api: Router,
}

impl Pages {
    pub fn new(state: AppState) -> Self {
        let api = Router::new().nest("/api/v1", crate::api::router()).with_state(state.clone());
        Pages { state, api }
    }
}

#[async_trait::async_trait]
impl PageBackend for Pages {
    async fn login(&self, email: &str, password: &str, client_ip: Option<IpAddr>) -> Result<SessionCookie, ErrorBody> {
        let state = &self.state;
        let res = service::auth::login(state, email, password, client_ip).await.map_err(|e| e.body())?;
        Ok(SessionCookie {
            set_cookie: session_cookie(&res.token, state.config.session_hours * 3600, state.config.secure_cookie),
        })
    }

    async fn logout(&self, headers: &HeaderMap) -> String {
        if let Some(token) = token_from_headers(headers) {
            if let Err(e) = service::auth::logout(&self.state, &token).await {
                tracing::warn!(error = ?e, "logout failed");
            }
        }
        clear_cookie(self.state.config.secure_cookie)
    }

    async fn board(&self, shop_id: i64, headers: &HeaderMap) -> Result<app::api::Board, ErrorBody> {
        let session = crate::auth::required_session(&self.state, headers).await.map_err(|e| e.body())?;
        service::catalog::board(&self.state, &session, shop_id).await.map_err(|e| e.body())
    }

    async fn api_get(&self, path: &str, headers: &HeaderMap) -> Result<String, ErrorBody> {
        let internal = |message: &str| ErrorBody { error: ErrorDetail { code: ErrorCode::Internal, message: message.into() } };
        let mut request = Request::get(format!("/api/v1{path}"));
        // Only the credentials travel: the page request's other headers mean nothing to the API.
        for name in [header::COOKIE, header::AUTHORIZATION] {
            if let Some(value) = headers.get(&name) {
                request = request.header(name, value);
            }
        }
        let request = request.body(Body::empty()).map_err(|_| internal("bad API path"))?;
        let response = match self.api.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
            .await
            .map_err(|_| internal("API response too large"))?;
        if status.is_success() {
            String::from_utf8(body.to_vec()).map_err(|_| internal("API response not UTF-8"))
        } else {
            Err(serde_json::from_slice(&body).unwrap_or_else(|_| internal("API error without a body")))
        }
    }
}
