//! The server's side of the pages: [`PageBackend`] over the same services as the REST API.

use crate::auth::{clear_cookie, session_cookie, session_from_headers, token_from_headers};
use crate::service;
use crate::state::AppState;
use app::api::{ErrorBody, OrderList, OrderQuery, User};
use app::backend::{PageBackend, SessionCookie};
use axum::http::HeaderMap;
use std::net::IpAddr;

pub struct Pages(pub AppState);

#[async_trait::async_trait]
impl PageBackend for Pages {
    async fn login(&self, email: &str, password: &str, client_ip: Option<IpAddr>) -> Result<SessionCookie, ErrorBody> {
        let state = &self.0;
        let res = service::auth::login(state, email, password, client_ip).await.map_err(|e| e.body())?;
        Ok(SessionCookie {
            set_cookie: session_cookie(&res.token, state.config.session_hours * 3600, state.config.secure_cookie),
        })
    }

    async fn logout(&self, headers: &HeaderMap) -> String {
        if let Some(token) = token_from_headers(headers) {
            if let Err(e) = service::auth::logout(&self.0, &token).await {
                tracing::warn!(error = ?e, "logout failed");
            }
        }
        clear_cookie(self.0.config.secure_cookie)
    }

    async fn my_orders(&self, headers: &HeaderMap) -> Result<Option<(User, OrderList)>, ErrorBody> {
        let state = &self.0;
        let Some(session) = session_from_headers(state, headers).await.map_err(|e| e.body())? else {
            return Ok(None);
        };
        let orders = service::orders::list(state, &session, OrderQuery::default()).await.map_err(|e| e.body())?;
        Ok(Some((session.user, orders)))
    }
}
