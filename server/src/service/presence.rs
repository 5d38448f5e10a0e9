//! Staff presence: a shopkeeper's first connection announces them online to their shops'
//! staff, their last one announces them offline. Written to the outbox like every event, so
//! presence is ordered with everything else and replayed on resume.

use crate::state::AppState;
use crate::store;
use app::api::User;
use app::domain::{EventType, Topic};
use chrono::Utc;
use serde_json::json;

pub async fn changed(state: &AppState, user: &User, online: bool) {
    if let Err(e) = write(state, user, online).await {
        tracing::warn!(error = ?e, user_id = user.id, online, "could not record presence");
    }
}

async fn write(state: &AppState, user: &User, online: bool) -> crate::error::ApiResult<()> {
    let event_type = if online { EventType::UserConnected } else { EventType::UserDisconnected };
    let now = Utc::now();
    let mut tx = state.db.write.begin().await?;
    for &shop_id in &user.shop_ids {
        store::events::append(
            &mut tx,
            event_type,
            &Topic::for_staff(shop_id),
            &json!({ "user_id": user.id, "name": user.name, "shop_id": shop_id, "online": online }),
            now,
        )
        .await?;
    }
    super::commit(state, tx).await
}
