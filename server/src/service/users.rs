//! Creating users (admins).

use crate::auth::{hash_password, Session};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use app::api::{ErrorCode, NewUser, User};
use app::domain::validation::{self, ValidationError};
use app::domain::Role;
use chrono::Utc;

pub async fn create(state: &AppState, session: &Session, new: NewUser) -> ApiResult<User> {
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

    let mut tx = state.db.write.begin().await?;
    if store::users::credentials(&mut tx, &new.email).await?.is_some() {
        return Err(ApiError::new(ErrorCode::Conflict, "a user with that email exists"));
    }
    let id = store::users::insert(&mut tx, &new.email, new.name.trim(), new.role, &hash, Utc::now()).await?;
    for &shop_id in &new.shop_ids {
        store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
        store::shops::add_staff(&mut tx, shop_id, id).await?;
    }
    let user = store::users::get(&mut tx, id).await?.ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    tracing::info!(user_id = id, role = new.role.as_str(), by = session.user.id, "user created");
    Ok(user)
}
