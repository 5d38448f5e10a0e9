//! A user's devices for Web Push: add (validated), list, remove. What is pushed, and when, is
//! `crate::push`'s.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::push::keys::decode_b64url;
use crate::state::AppState;
use crate::store;
use app::api::{ErrorCode, NewPushSubscription, PushSubscription};

/// Devices one user may have.
pub const MAX_DEVICES_PER_USER: usize = 10;
/// Longest endpoint accepted (push services' are a few hundred bytes).
const MAX_ENDPOINT_LEN: usize = 1024;
const MAX_DEVICE_NAME_LEN: usize = 100;

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed, message)
}

/// The endpoint is an `https:` address of a host (or `http:` with `--push-allow-http`, for a
/// push service on a private network, and the tests'); the keys are what a browser makes.
fn validate(new: &NewPushSubscription, allow_http: bool) -> ApiResult<()> {
    if new.endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(invalid("endpoint is too long"));
    }
    let url = reqwest::Url::parse(&new.endpoint).map_err(|_| invalid("endpoint must be the push service's address (https://…)"))?;
    let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
    if !scheme_ok || url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("endpoint must be the push service's https:// address"));
    }
    // Push services are on the internet: an endpoint naming this machine or a private network
    // would have the server post wherever a user likes (the tests' fake service is allowed
    // with the same flag as `http:`).
    if !allow_http && crate::push::network::names_a_private_host(&url) {
        return Err(invalid("endpoint must be a push service on the internet"));
    }
    match decode_b64url(&new.keys.p256dh) {
        Some(key) if key.len() == 65 && key[0] == 4 => {}
        _ => return Err(invalid("keys.p256dh must be the device's P-256 public key (65 bytes, base64url)")),
    }
    if decode_b64url(&new.keys.auth).is_none_or(|a| a.len() != 16) {
        return Err(invalid("keys.auth must be the device's 16-byte secret, base64url"));
    }
    if new.device.as_deref().is_some_and(|d| d.chars().count() > MAX_DEVICE_NAME_LEN) {
        return Err(invalid("device is at most 100 characters"));
    }
    Ok(())
}

fn view(s: store::push::Subscription) -> PushSubscription {
    PushSubscription { id: s.id, endpoint: s.endpoint, device: s.device, created_at: s.created_at }
}

/// Adds the signed-in user's device (or moves a known endpoint to them).
pub async fn subscribe(state: &AppState, session: &Session, new: NewPushSubscription) -> ApiResult<PushSubscription> {
    validate(&new, state.config.push_allow_http)?;
    let device = new.device.as_deref().map(str::trim).unwrap_or_default();
    let mut tx = state.db.begin_write().await?;
    let mine = store::push::of_user(&mut tx, session.user.id).await?;
    if mine.len() >= MAX_DEVICES_PER_USER && !mine.iter().any(|s| s.endpoint == new.endpoint) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("at most {MAX_DEVICES_PER_USER} devices get notifications; turn one off first"),
        ));
    }
    let saved = store::push::upsert(&mut tx, session.user.id, session.token_hash.as_deref(), &new.endpoint, &new.keys.p256dh, &new.keys.auth, device, super::now()).await?;
    tx.commit().await?;
    // Customers' connections count for presence from now on, so a live screen is not pushed.
    state.hub.track_presence_of_everyone(true);
    tracing::info!(user_id = session.user.id, subscription = saved.id, "device subscribed to pushes");
    Ok(view(saved))
}

pub async fn list(state: &AppState, session: &Session) -> ApiResult<Vec<PushSubscription>> {
    let mut conn = state.db.read().await?;
    Ok(store::push::of_user(&mut conn, session.user.id).await?.into_iter().map(view).collect())
}

/// Removes one of the signed-in user's devices.
pub async fn unsubscribe(state: &AppState, session: &Session, id: i64) -> ApiResult<()> {
    let mut tx = state.db.begin_write().await?;
    if !store::push::delete(&mut tx, id, session.user.id).await? {
        return Err(ApiError::not_found("device"));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::PushKeys;

    fn new(endpoint: &str, p256dh: &str, auth: &str) -> NewPushSubscription {
        NewPushSubscription {
            endpoint: endpoint.into(),
            keys: PushKeys { p256dh: p256dh.into(), auth: auth.into() },
            expiration_time: None,
            device: None,
        }
    }

    const KEY: &str = "BLMbF9ffKBiWQLCKvTHb6LO8Nb6dcUh6TItC455vu2kElga6PQvUmaFyCdykxY2nOSSL3yKgfbmFLRTUaGv4yV8";
    const AUTH: &str = "xS03Fi5ErfTNH_l9WHE9Ig";

    #[test]
    fn endpoints_must_be_https_and_keys_what_browsers_make() {
        assert!(validate(&new("https://fcm.googleapis.com/fcm/send/abc", KEY, AUTH), false).is_ok());
        assert!(validate(&new("http://127.0.0.1:9/push", KEY, AUTH), false).is_err());
        assert!(validate(&new("http://127.0.0.1:9/push", KEY, AUTH), true).is_ok());
        for endpoint in ["", "not a url", "file:///etc/passwd", "https://user:pw@push.example/x", "ftp://push.example/"] {
            assert!(validate(&new(endpoint, KEY, AUTH), true).is_err(), "{endpoint}");
        }
        assert!(validate(&new("https://push.example/x", &KEY[..40], AUTH), false).is_err());
        assert!(validate(&new("https://push.example/x", KEY, "xS03Fi5E"), false).is_err());
        assert!(validate(&new("https://push.example/x", KEY, "not base64!"), false).is_err());
    }

    #[test]
    fn endpoints_on_this_machine_or_a_private_network_are_refused() {
        for endpoint in [
            "https://localhost/push",
            "https://LOCALHOST./push",
            "https://api.localhost/push",
            "https://127.0.0.1/push",
            "https://10.1.2.3/push",
            "https://192.168.0.1:8443/push",
            "https://169.254.169.254/latest",
            "https://[::1]/push",
            "https://[fd00::1]/push",
            "https://[::ffff:127.0.0.1]/push",
        ] {
            assert!(validate(&new(endpoint, KEY, AUTH), false).is_err(), "{endpoint}");
            assert!(validate(&new(endpoint, KEY, AUTH), true).is_ok(), "allowed with --push-allow-http: {endpoint}");
        }
        assert!(validate(&new("https://updates.push.services.mozilla.com/wpush/v2/x", KEY, AUTH), false).is_ok());
        assert!(validate(&new("https://8.8.8.8/push", KEY, AUTH), false).is_ok());
    }
}
