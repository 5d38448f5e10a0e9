//! System notifications (the browser's Notification API) for a board whose tab is hidden: a
//! shopkeeper serving at the counter with the board behind another window still sees a new
//! order. Permission is asked only from a click ("Start the board", or the switch), as
//! browsers require; nothing is shown while the tab is visible, where the board itself alerts.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Whether notifications may be shown: `Some(true)` granted, `Some(false)` denied or not
/// asked yet, `None` when the browser has no Notification API (or on the server).
pub fn granted() -> Option<bool> {
    #[cfg(feature = "hydrate")]
    {
        if !has_api() {
            return None;
        }
        return Some(web_sys::Notification::permission() == web_sys::NotificationPermission::Granted);
    }
    #[allow(unreachable_code)]
    None
}

/// Asks for permission (call from a click); `done` gets whether it was granted.
pub fn request(done: impl FnOnce(bool) + 'static) {
    #[cfg(feature = "hydrate")]
    if has_api() {
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
                done(answer.ok().and_then(|a| a.as_string()).as_deref() == Some("granted"));
            });
            return;
        }
    }
    let _ = done;
}

/// Shows a notification if the tab is hidden and permission was given. `tag` replaces an
/// earlier notification with the same tag rather than stacking a second one.
pub fn show_if_hidden(title: &str, body: &str, tag: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if !document().hidden() || granted() != Some(true) {
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_tag(tag);
        if let Ok(n) = web_sys::Notification::new_with_options(title, &options) {
            // A click brings the board to the front.
            let on_click = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                let _ = window().focus();
            });
            n.set_onclick(Some(on_click.as_ref().unchecked_ref()));
            on_click.forget();
        }
    }
    let _ = (title, body, tag);
}

#[cfg(feature = "hydrate")]
fn has_api() -> bool {
    js_sys::Reflect::has(&window(), &wasm_bindgen::JsValue::from_str("Notification")).unwrap_or(false)
}
