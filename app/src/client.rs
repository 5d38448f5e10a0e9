//! The pages' access to the REST API, the same on both sides of hydration.
//!
//! On the server a page reads through [`crate::backend::PageBackend::api_get`], in-process and
//! with the page request's credentials (the board, the largest read, as a value through
//! [`crate::backend::PageBackend::board`]); in the browser it calls `/api/v1` with `fetch` and
//! the session cookie. Either way a page sees exactly what the REST API shows that user, and the
//! authorization rules stay in one place.

use crate::api::{ErrorCode, ErrorDetail};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why an API call failed: the API's own error, or a stand-in for a network failure.
pub type ApiFailure = ErrorDetail;

fn failure(message: impl Into<String>) -> ApiFailure {
    ErrorDetail { code: ErrorCode::Internal, message: message.into() }.humane()
}

/// Whether the failure means "sign in first".
pub fn is_signed_out(e: &ApiFailure) -> bool {
    e.code == ErrorCode::Unauthenticated
}

/// On the server: the page backend and the headers of the page request being rendered, whose
/// credentials a read goes with.
#[cfg(feature = "ssr")]
async fn page_request() -> Result<(crate::backend::SharedBackend, http::HeaderMap), ApiFailure> {
    let Some(backend) = leptos::prelude::use_context::<crate::backend::SharedBackend>() else {
        return Err(failure("no page backend"));
    };
    let headers: http::HeaderMap = leptos_axum::extract().await.map_err(|e| failure(e.to_string()))?;
    Ok((backend, headers))
}

/// `GET /api/v1{path}`.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    #[cfg(feature = "ssr")]
    {
        let (backend, headers) = page_request().await?;
        let body = backend.api_get(path, &headers).await.map_err(|b| b.error.humane())?;
        serde_json::from_str(&body).map_err(|e| failure(e.to_string()))
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        // Browser futures are not `Send`, but resources want `Send` futures; the page's only
        // thread is the browser's, so the wrapper's check never fires.
        let request = gloo_net::http::Request::get(&format!("/api/v1{path}"));
        send_wrapper::SendWrapper::new(async move { browser::finish(request.send().await).await }).await
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        let _ = path;
        Err(failure("no API access in this build"))
    }
}

/// A shop's board (`GET /api/v1/shops/{shop_id}/board`); on the server a typed read
/// ([`crate::backend::PageBackend::board`]).
pub async fn board(shop_id: i64) -> Result<crate::api::Board, ApiFailure> {
    #[cfg(feature = "ssr")]
    {
        let (backend, headers) = page_request().await?;
        backend.board(shop_id, &headers).await.map_err(|b| b.error.humane())
    }
    #[cfg(not(feature = "ssr"))]
    {
        get(&format!("/shops/{shop_id}/board")).await
    }
}

/// Sends a change (`POST`, `PATCH`) with a JSON body and reads the JSON answer. Browser only:
/// pages change data in response to clicks, never while rendering.
pub async fn send<B: Serialize, T: DeserializeOwned>(method: Method, path: &str, body: &B) -> Result<T, ApiFailure> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let url = format!("/api/v1{path}");
        let builder = match method {
            Method::Post => gloo_net::http::Request::post(&url),
            Method::Patch => gloo_net::http::Request::patch(&url),
        };
        let request = builder.json(body).map_err(|e| failure(e.to_string()))?;
        send_wrapper::SendWrapper::new(async move { browser::finish(request.send().await).await }).await
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = (method, path, serde_json::to_value(body));
        Err(failure("changes are sent from the browser"))
    }
}

/// `text` for a URL's query string: everything but RFC 3986's unreserved characters
/// percent-encoded, the same on the server and in the browser (so hydration agrees). Form
/// fields ([`post_form`]) are encoded the same way.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Posts a form (urlencoded, as the browser would) to one of the site's server functions and
/// reads the function's value. Browser only. Asking for JSON makes the function answer with
/// its value rather than with the redirect a plain form post gets.
pub async fn post_form<T: DeserializeOwned>(url: &str, fields: &[(&str, &str)]) -> Result<T, ApiFailure> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", query_escape(value)))
            .collect::<Vec<_>>()
            .join("&");
        let request = gloo_net::http::Request::post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .map_err(|e| failure(e.to_string()))?;
        browser::finish(request.send().await).await
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = (url, fields);
        Err(failure("forms are sent from the browser"))
    }
}

/// `DELETE /api/v1{path}`. Browser only. Already gone (404) counts as done: whoever asked
/// wanted it gone.
pub async fn delete(path: &str) -> Result<(), ApiFailure> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let sent = gloo_net::http::Request::delete(&format!("/api/v1{path}")).send().await;
        match browser::answer(sent).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = path;
        Err(failure("changes are sent from the browser"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub(crate) use browser::finish;

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod browser {
    use super::{failure, ApiFailure};
    use crate::api::ErrorBody;
    use serde::de::DeserializeOwned;

    /// The answer to a request that expects JSON back: the value, or why not, in words.
    pub async fn finish<T: DeserializeOwned>(
        sent: Result<gloo_net::http::Response, gloo_net::Error>,
    ) -> Result<T, ApiFailure> {
        answer(sent).await?.json::<T>().await.map_err(|e| failure(e.to_string()))
    }

    /// A successful response, or the API's error (or a stand-in for it) as a page says it.
    pub async fn answer(sent: Result<gloo_net::http::Response, gloo_net::Error>) -> Result<gloo_net::http::Response, ApiFailure> {
        let response = sent.map_err(|_| failure("the server cannot be reached; check the connection and try again"))?;
        if response.ok() {
            return Ok(response);
        }
        match response.json::<ErrorBody>().await {
            Ok(body) => Err(body.error.humane()),
            Err(_) => Err(failure(format!("the server answered {} {}; try again in a moment", response.status(), response.status_text()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::query_escape;

    #[test]
    fn query_text_is_percent_encoded() {
        assert_eq!(query_escape("Bob & co"), "Bob%20%26%20co");
        assert_eq!(query_escape("#12"), "%2312");
        assert_eq!(query_escape("crème"), "cr%C3%A8me");
        assert_eq!(query_escape("a-b_c.d~"), "a-b_c.d~");
    }
}
