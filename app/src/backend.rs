//! The server side of the pages' server functions.
//!
//! Server functions live in this crate so the browser can call them, but the database lives in
//! the `server` crate. The server provides an implementation of [`PageBackend`] as Leptos
//! context; the server functions call it. This keeps SQL and sessions in one place (the server)
//! while the pages stay here.

use crate::api::ErrorBody;
use async_trait::async_trait;
use http::HeaderMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The value of cookie `name` in a request's headers: what the server's session check and the
/// pages' own cookies (the viewer's time zone) both read.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// A signed-in session as the pages need it.
pub struct SessionCookie {
    /// The full `Set-Cookie` header value.
    pub set_cookie: String,
}

#[async_trait]
pub trait PageBackend: Send + Sync + 'static {
    /// Checks the credentials (with the same throttling as the REST login) and returns the
    /// session cookie to set.
    async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<SessionCookie, ErrorBody>;

    /// Ends the session the request carries, if any, and returns the cookie that clears it.
    async fn logout(&self, headers: &HeaderMap) -> String;

    /// Answers `GET /api/v1{path}` in-process, with the credentials (cookie or bearer token)
    /// in `headers`: server-rendered pages read through the REST API, so they see exactly
    /// what the same user would see over HTTP. Returns the JSON body of a success.
    async fn api_get(&self, path: &str, headers: &HeaderMap) -> Result<String, ErrorBody>;

    /// `GET /api/v1/shops/{shop_id}/board` as a value: the same service and the same
    /// authorization as the REST API, without encoding the largest read a page makes as JSON
    /// only to decode it again.
    async fn board(&self, shop_id: i64, headers: &HeaderMap) -> Result<crate::api::Board, ErrorBody>;
}

pub type SharedBackend = Arc<dyn PageBackend>;
