//! Sign-in page. Works without JavaScript (a plain form post to the server function) and,
//! once hydrated, without a page reload.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Signs in and redirects to the orders page; a failed sign-in returns the message to show.
/// At a fixed address (`/api/login`), the sign-in form's `action`.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<Option<String>, ServerFnError> {
    use crate::backend::SharedBackend;
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let backend = expect_context::<SharedBackend>();
    let ip = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip());
    match backend.login(&email, &password, ip).await {
        Ok(session) => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            if let Ok(value) = http::HeaderValue::from_str(&session.set_cookie) {
                response.append_header(http::header::SET_COOKIE, value);
            }
            leptos_axum::redirect("/");
            Ok(None)
        }
        Err(body) => Ok(Some(body.error.humane().message)),
    }
}

/// Ends the session and returns to the sign-in page. At a fixed address (`/api/logout`): the
/// service worker empties the pages it keeps for offline use when it sees a sign-out.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::backend::SharedBackend;

    let backend = expect_context::<SharedBackend>();
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    let clear = backend.logout(&headers).await;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(value) = http::HeaderValue::from_str(&clear) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    leptos_axum::redirect("/login");
    Ok(())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Sign in · Ordercast"/>
        <SignIn/>
    }
}

/// The sign-in form: an island (see [`crate::tab`]), so a wrong password is said on the page.
/// Until the WASM runs it is a plain form post to [`login`]; then the island posts the same
/// fields to the same function itself. (Leptos's `ActionForm` would do that too, but its form
/// decoding and the function's generated client were a sixth of the WASM every customer page
/// loads.)
#[island]
fn SignIn() -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let (pending, set_pending) = signal(false);
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(email), Some(password)) = (email.get_untracked(), password.get_untracked()) else { return };
        if pending.get_untracked() {
            return;
        }
        set_pending.set(true);
        let fields = [("email", email.value()), ("password", password.value())];
        leptos::task::spawn_local(async move {
            let fields = fields.each_ref().map(|(name, value)| (*name, value.as_str()));
            match crate::client::post_form::<Option<String>>(Login::PATH, &fields).await {
                // Signed in: load the app from scratch, so the session, the socket and the
                // pages all start for the new user.
                Ok(None) => crate::tab::go("/"),
                Ok(Some(message)) | Err(crate::api::ErrorDetail { message, .. }) => {
                    set_error.set(Some(message));
                    set_pending.set(false);
                }
            }
        });
    };

    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form method="post" action=Login::PATH on:submit=submit>
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required node_ref=email/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required node_ref=password/>
                </label>
                <button type="submit" disabled=move || pending.get()>"Sign in"</button>
            </form>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
        </section>
    }
}
