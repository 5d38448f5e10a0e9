//! "Notify me on this device": a switch that subscribes this browser to the server's Web Push
//! (the service worker, `public/sw.js`, shows what arrives) or ends the subscription.
//!
//! Customers are then told of their orders' progress, shop staff of new orders and lists,
//! while none of their screens is live (the server decides; see `server/src/push`). The switch
//! says plainly when this browser cannot do it (no push support, notifications blocked, no push
//! service reachable) rather than failing silently.

use leptos::prelude::*;

/// What the switch shows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum PushState {
    /// Finding out (and on the server, where nothing is known).
    Unknown,
    /// This browser has no service worker or Push API.
    Unsupported,
    /// The user blocked notifications for this site.
    Blocked,
    Off,
    Working,
    On,
    /// Subscribing failed; the reason, in words.
    Failed(String),
    /// Turning off failed: still on, and why, in words.
    StillOn(String),
}

#[component]
pub fn PushSwitch() -> impl IntoView {
    let state = RwSignal::new(PushState::Unknown);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| leptos::task::spawn_local(async move { state.set(browser::current().await) }));
    let on = move || matches!(state.get(), PushState::On | PushState::StillOn(_));
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let turn_on = !on();
            state.set(PushState::Working);
            leptos::task::spawn_local(async move {
                state.set(if turn_on { browser::subscribe().await } else { browser::unsubscribe().await });
            });
        }
    };
    let note = move || match state.get() {
        PushState::Unsupported => Some("This browser cannot show notifications from this site.".to_owned()),
        PushState::Blocked => Some("Notifications are blocked for this site in the browser's settings.".to_owned()),
        PushState::Failed(why) | PushState::StillOn(why) => Some(why),
        _ => None,
    };
    view! {
        <div class="push-switch">
            <button
                type="button"
                role="switch"
                class="push-toggle"
                aria-checked=move || if on() { "true" } else { "false" }
                disabled=move || matches!(state.get(), PushState::Unknown | PushState::Unsupported | PushState::Blocked | PushState::Working)
                on:click=toggle
            >
                <span class="push-knob" aria-hidden="true"></span>
                "Notify me on this device"
            </button>
            <Show when=move || note().is_some()>
                <p class="push-note" role="status">{note}</p>
            </Show>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::PushState;
    use crate::api::{PushKey, PushSubscriptionList};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{PushSubscription, ServiceWorkerRegistration};

    fn message(e: JsValue) -> String {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
    }

    /// The service worker's registration, once it is ready; `None` without Push support.
    async fn registration() -> Option<ServiceWorkerRegistration> {
        let navigator = window().navigator();
        if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false)
            || !js_sys::Reflect::has(&window(), &"PushManager".into()).unwrap_or(false)
        {
            return None;
        }
        let ready = navigator.service_worker().ready().ok()?;
        JsFuture::from(ready).await.ok()?.dyn_into().ok()
    }

    async fn subscription(reg: &ServiceWorkerRegistration) -> Option<PushSubscription> {
        let found = JsFuture::from(reg.push_manager().ok()?.get_subscription().ok()?).await.ok()?;
        found.dyn_into().ok()
    }

    pub async fn current() -> PushState {
        if crate::notify::granted().is_none() {
            return PushState::Unsupported;
        }
        if web_sys::Notification::permission() == web_sys::NotificationPermission::Denied {
            return PushState::Blocked;
        }
        let Some(reg) = registration().await else { return PushState::Unsupported };
        match subscription(&reg).await {
            Some(_) if web_sys::Notification::permission() == web_sys::NotificationPermission::Granted => PushState::On,
            _ => PushState::Off,
        }
    }

    pub async fn subscribe() -> PushState {
        let Some(reg) = registration().await else { return PushState::Unsupported };
        let granted = match web_sys::Notification::request_permission() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|a| a.as_string()),
            Err(_) => None,
        };
        match granted.as_deref() {
            Some("granted") => {}
            Some("denied") => return PushState::Blocked,
            _ => return PushState::Off,
        }
        let key: PushKey = match crate::client::get("/push/key").await {
            Ok(k) => k,
            Err(e) => return PushState::Failed(format!("Could not reach the server: {}", e.message)),
        };
        let Some(key) = decode_b64url(&key.public_key) else { return PushState::Failed("The server's key is not valid.".into()) };
        let options = web_sys::PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key(&js_sys::Uint8Array::from(&key[..]).into());
        let Ok(manager) = reg.push_manager() else { return PushState::Unsupported };
        let sub: PushSubscription = match manager.subscribe_with_options(&options) {
            Ok(p) => match JsFuture::from(p).await {
                Ok(s) => match s.dyn_into() {
                    Ok(s) => s,
                    Err(_) => return PushState::Failed("This browser gave no subscription.".into()),
                },
                Err(e) => {
                    return PushState::Failed(format!("This browser could not reach its push service ({}). Try again later.", message(e)))
                }
            },
            Err(e) => return PushState::Failed(message(e)),
        };
        // `toJSON()`: the endpoint and keys, base64url, as the server takes them
        // (`NewPushSubscription`), with this device's name added. Passed on as the browser
        // wrote it: the server reads and checks it, the WASM need not decode it too.
        let Some(body) = subscription_json(&sub) else { return PushState::Failed("Unreadable subscription.".into()) };
        match crate::client::send::<_, serde::de::IgnoredAny>(crate::client::Method::Post, "/push/subscriptions", &body).await {
            Ok(_) => PushState::On,
            Err(e) => {
                let _ = sub.unsubscribe().map(JsFuture::from);
                PushState::Failed(e.message)
            }
        }
    }

    /// Tells the server to forget this device, then ends the browser's subscription. Should
    /// the server not hear it, the switch says so and stays on (the server would go on
    /// pushing here), so that trying again can finish the job.
    pub async fn unsubscribe() -> PushState {
        let Some(reg) = registration().await else { return PushState::Unsupported };
        if let Some(sub) = subscription(&reg).await {
            if let Err(why) = forget(&sub.endpoint()).await {
                return PushState::StillOn(format!("Notifications are still on. {}", why.message));
            }
            if let Ok(p) = sub.unsubscribe() {
                let _ = JsFuture::from(p).await;
            }
        }
        PushState::Off
    }

    /// Removes the server's records of the device at `endpoint` (any number: none is fine, and
    /// one another tab of this browser removed first is gone already).
    async fn forget(endpoint: &str) -> Result<(), crate::client::ApiFailure> {
        let mine = crate::client::get::<PushSubscriptionList>("/push/subscriptions").await?;
        for device in mine.items.iter().filter(|d| d.endpoint == endpoint) {
            crate::client::delete(&format!("/push/subscriptions/{}", device.id)).await?;
        }
        Ok(())
    }

    /// The subscription as the server takes it: the browser's own JSON of it and `device`.
    fn subscription_json(sub: &PushSubscription) -> Option<Box<serde_json::value::RawValue>> {
        let object = js_sys::JSON::parse(&String::from(js_sys::JSON::stringify(sub).ok()?)).ok()?;
        js_sys::Reflect::set(&object, &"device".into(), &device_name().into()).ok()?;
        serde_json::value::RawValue::from_string(js_sys::JSON::stringify(&object).ok()?.into()).ok()
    }

    /// What the user's devices list calls this one: the browser and platform, roughly.
    fn device_name() -> String {
        let agent = window().navigator().user_agent().unwrap_or_default();
        let platform = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"].into_iter().find(|p| agent.contains(p)).unwrap_or("device");
        let browser = ["Firefox", "Edg", "Chrome", "Safari"].into_iter().find(|b| agent.contains(b)).unwrap_or("Browser");
        format!("{} on {platform}", if browser == "Edg" { "Edge" } else { browser })
    }

    fn decode_b64url(text: &str) -> Option<Vec<u8>> {
        let standard: String = text.trim_end_matches('=').chars().map(|c| match c { '-' => '+', '_' => '/', c => c }).collect();
        let padded = format!("{standard}{}", "=".repeat((4 - standard.len() % 4) % 4));
        let decoded = window().atob(&padded).ok()?;
        Some(decoded.chars().map(|c| c as u8).collect())
    }
}
