//! Sign-in page. Works without JavaScript (a plain form post to the server function) and,
//! once hydrated, without a page reload.

use leptos::prelude::*;

/// Signs in and redirects to the orders page; a failed sign-in returns the message to show.
#[server]
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
#[island]
fn SignIn() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    // Signed in: load the app from scratch, so the session, the socket and the pages all
    // start for the new user.
    Effect::new(move |_| {
        if matches!(login.value().get(), Some(Ok(None))) {
            let _ = window().location().set_href("/");
        }
    });
    let error = move || match login.value().get() {
        Some(Ok(Some(message))) => Some(message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };

    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=login>
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
            </ActionForm>
            <Show when=move || error().is_some()>
                <p class="error" role="alert">{error}</p>
            </Show>
        </section>
    }
}
