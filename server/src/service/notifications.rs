//! Notifications: a message from an admin to one user (all their devices) or to everyone.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use app::api::{NewNotification, Notification, WithSeq};
use app::domain::validation;
use app::domain::{EventType, Topic};

pub async fn send(state: &AppState, session: &Session, new: NewNotification) -> ApiResult<WithSeq<Notification>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins send notifications"));
    }
    validation::notification_text(&new.text)?;
    let text = new.text.trim().to_owned();
    let mut tx = state.db.begin_write().await?;
    let topic = match new.user_id {
        Some(user_id) => {
            store::users::get(&mut tx, user_id).await?.ok_or_else(|| ApiError::not_found("user"))?;
            Topic::User(user_id)
        }
        None => Topic::Broadcast,
    };
    let now = super::now();
    let notification = Notification { user_id: new.user_id, severity: new.severity, text, from_user_id: session.user.id, at: now };
    store::events::append(&mut tx, EventType::Notification, &[topic], &serde_json::to_value(&notification)?, now);
    let seq = super::commit(state, tx).await?;
    tracing::info!(%topic, "notification sent");
    Ok(WithSeq { item: notification, seq })
}
