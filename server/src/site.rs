//! What a browser loads outside the API: the app's pages rendered by Leptos, the site's own
//! files (icons, manifest, `robots.txt`), and the "not found" page for any other address.
//!
//! It also keeps Leptos's rendering safe on a multi-threaded server. Leptos tracks the
//! reactive owner of the code running now in a thread-local, and starting a page's render
//! (`Owner::new_root`) makes that page the worker thread's current owner without ever
//! unsetting it. Whatever Leptos runs next on that thread and creates with `Owner::new()`
//! becomes a child of that other request's page: Leptos's own static-file handler did, and
//! took that page's response headers (its Content-Security-Policy) for a favicon, leaving the
//! page to be served under the policy of a non-page, with all its scripts blocked; its
//! server-function handler does, and is cleaned up when that page's render ends. So the site's
//! files are served here without Leptos, and every request starts with no current owner.

use crate::security;
use crate::state::AppState;
use app::backend::SharedBackend;
use app::scripts::Assets;
use app::shell;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, IntoView};
use leptos::reactive::owner::Owner;
use std::sync::Arc;
use tower_http::services::ServeDir;

/// The document of every page: the app in its shell, under a policy naming this response's
/// script nonce.
pub fn page(options: &LeptosOptions, assets: &Arc<Assets>) -> impl IntoView {
    security::set_page_policy();
    shell(options.clone(), assets.clone())
}

/// The page of any address nothing else answers, and the site root's files before it.
pub fn files_or_not_found(router: Router<AppState>, options: &LeptosOptions, backend: SharedBackend, assets: Arc<Assets>) -> Router<AppState> {
    let render = {
        let options = options.clone();
        leptos_axum::render_app_async_with_context(
            move || provide_context(backend.clone()),
            move || page(&options, &assets),
        )
    };
    let not_found = move |req: Request| {
        let render = render.clone();
        async move {
            let mut res = render(req).await;
            // The app's fallback route says 404 itself; a redirect (to sign in) stays one.
            if res.status() == StatusCode::OK {
                *res.status_mut() = StatusCode::NOT_FOUND;
            }
            res
        }
    };
    let files = ServeDir::new(options.site_root.as_ref())
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found.into_service());
    router.fallback_service(files)
}

/// Middleware: the request starts with no reactive owner left on this thread by another
/// request's render (see the module's comment).
pub async fn without_leftover_owner(req: Request, next: Next) -> Response {
    if let Some(leftover) = Owner::current() {
        // Only stops it being this thread's current owner; its own request still holds it.
        leftover.unset();
    }
    next.run(req).await
}
