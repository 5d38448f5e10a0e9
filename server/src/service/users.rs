//! Listing, creating and changing users (admins).

use crate::auth::{hash_password, Session};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use app::api::{ErrorCode, NewUser, User, UserUpdate, WithSeq};
use app::domain::Actor;
use app::domain::validation::{self, ValidationError};
use app::domain::Role;
use app::domain::EventType;
use serde_json::json;

/// Every enabled user (admins), e.g. to pick the recipient of a notification.
pub async fn list(state: &AppState, session: &Session) -> ApiResult<Vec<User>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins list users"));
    }
    Ok(store::users::list(&mut state.db.read().await?).await?)
}

pub async fn create(state: &AppState, session: &Session, new: NewUser) -> ApiResult<WithSeq<User>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins create users"));
    }
    validation::email(&new.email)?;
    validation::name(&new.name)?;
    validation::password(&new.password)?;
    if new.role != Role::Shopkeeper && !new.shop_ids.is_empty() {
        return Err(ValidationError::ShopsForNonStaff.into());
    }
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())?;

    let mut tx = state.db.begin_write().await?;
    if store::users::credentials(&mut tx, &new.email).await?.is_some() {
        return Err(ApiError::new(ErrorCode::Conflict, "a user with that email exists"));
    }
    let id = store::users::insert(&mut tx, &new.email, new.name.trim(), new.role, &hash, super::now()).await?;
    for &shop_id in &new.shop_ids {
        store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
        store::shops::add_staff(&mut tx, shop_id, id).await?;
    }
    let user = store::users::get(&mut tx, id).await?.ok_or_else(ApiError::internal)?;
    // Rights from none: a shop's staff list changes on every node (its board, see
    // `board_cache`) when this commits.
    let actor = Actor { user_id: id, role: new.role, shop_ids: user.shop_ids.clone() };
    store::events::append(&mut tx, EventType::AccessChanged, &[], &json!({ "user_id": id, "actor": actor }), super::now());
    let seq = super::commit(state, tx).await?;
    tracing::info!(user_id = id, role = new.role.as_str(), by = session.user.id, "user created");
    Ok(WithSeq { item: user, seq })
}

/// Disables or re-enables a user, or changes a shopkeeper's shops. The change reaches their
/// open sockets on every node through the outbox (an internal `access_changed` event that each
/// node's hub applies). Returns the user as now stored.
pub async fn update(state: &AppState, session: &Session, id: i64, update: UserUpdate) -> ApiResult<WithSeq<User>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins change users"));
    }
    if update.disabled.is_none() && update.shop_ids.is_none() {
        return Err(ValidationError::EmptyUpdate.into());
    }
    if id == session.user.id && update.disabled == Some(true) {
        return Err(ApiError::new(ErrorCode::Conflict, "admins cannot disable themselves"));
    }
    let mut tx = state.db.begin_write().await?;
    // Concurrent changes of one user apply one after the other (on every engine).
    store::presence::lock_user(&mut tx, id).await?;
    let (role, was_disabled) = store::users::role_of(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    if let Some(shop_ids) = &update.shop_ids {
        if role != Role::Shopkeeper {
            return Err(ValidationError::ShopsForNonStaff.into());
        }
        store::users::clear_shops(&mut tx, id).await?;
        let mut unique = shop_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        for shop_id in unique {
            store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
            store::shops::add_staff(&mut tx, shop_id, id).await?;
        }
    }
    let disabled = update.disabled.unwrap_or(was_disabled);
    if let Some(d) = update.disabled {
        store::users::set_disabled(&mut tx, id, d).await?;
        if d {
            store::sessions::delete_for_user(&mut tx, id).await?;
            store::push::delete_of_user(&mut tx, id).await?;
        }
    }
    let shop_ids = store::users::shop_ids(&mut tx, id).await?;
    let user = store::users::get_any(&mut tx, id).await?.ok_or_else(ApiError::internal)?;
    let actor = (!disabled).then_some(Actor { user_id: id, role, shop_ids });
    store::events::append(&mut tx, EventType::AccessChanged, &[], &json!({ "user_id": id, "actor": actor }), super::now());
    let seq = super::commit(state, tx).await?;
    // This node forgets the user's sessions now; the others when their relay reads the event.
    state.sessions.forget_user(id);
    tracing::info!(user_id = id, disabled, by = session.user.id, "user rights changed");
    Ok(WithSeq { item: user, seq })
}
