//! Browser security headers. Every page carries a Content-Security-Policy naming the nonce
//! Leptos gave that page's inline scripts (hydration, early-tap capture), so no other inline
//! script runs; `frame-ancestors 'none'` keeps the pages (the admin panel among them) out of
//! frames. Every response also says `nosniff` and how much of its address to send on, and, when
//! served over HTTPS (`--secure-cookie`), that the site is HTTPS only.

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::prelude::use_context;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of a page whose inline scripts carry `nonce`. `dev_reload` allows the socket
/// `cargo leptos watch` reloads pages through.
pub fn page_policy(nonce: &str, dev_reload: bool) -> String {
    let reload = if dev_reload { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self'{reload}; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// What a response that is not a page gets (API answers, assets): nothing may run or frame it.
const NOT_A_PAGE: &str = "default-src 'none'; frame-ancestors 'none'";

/// Sets the policy of the page being rendered. Called from the page shell, where the nonce of
/// this response is known.
pub fn set_page_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    let dev_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce.to_string(), dev_reload)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The headers every response carries (a page's own policy is kept).
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NOT_A_PAGE)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")));
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
    } else {
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_its_own_scripts_and_cannot_be_framed() {
        let policy = page_policy("abc123", false);
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc123';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("connect-src 'self';"), "no reload socket outside development");
        assert!(page_policy("abc123", true).contains("connect-src 'self' ws: wss:;"));
    }
}
