//! The server side of the pages' server functions.
//!
//! Server functions live in this crate so the browser can call them, but the database lives in
//! the `server` crate. The server provides an implementation of [`PageBackend`] as Leptos
//! context; the server functions call it. This keeps SQL and sessions in one place (the server)
//! while the pages stay here.

use crate::api::{ErrorBody, OrderList, User};
use async_trait::async_trait;
use http::HeaderMap;
use std::net::IpAddr;
use std::sync::Arc;

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

    /// The signed-in user and the first page of their orders, or `None` when not signed in.
    async fn my_orders(&self, headers: &HeaderMap) -> Result<Option<(User, OrderList)>, ErrorBody>;
}

pub type SharedBackend = Arc<dyn PageBackend>;
