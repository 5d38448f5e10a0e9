//! Who is signed in and which shops exist: loaded once per page load (server-rendered, then
//! hydrated), shared through context, and the point the tab's live connection starts from.

use crate::api::{Shop, ShopList, User};
use crate::client::{self, ApiFailure};
use crate::domain::{Role, Topic};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionInfo {
    /// `None` when nobody is signed in.
    pub user: Option<User>,
    pub shops: Vec<Shop>,
    /// The `seq` the shop list is current as of.
    pub seq: i64,
}

/// The most catalogues a tab follows (the server's default subscription limit).
pub const MAX_CATALOG_TOPICS: usize = 100;

impl SessionInfo {
    /// The public catalogues this user follows besides their automatic topics: every shop
    /// they do not already hear about as staff (customers: all of them, for live open/closed
    /// state and stock). Admins hear everything already. At most [`MAX_CATALOG_TOPICS`]: the
    /// server refuses a resume naming more than its subscription limit (100 by default).
    pub fn catalog_topics(&self) -> Vec<Topic> {
        let Some(user) = &self.user else { return Vec::new() };
        if user.role == Role::Admin {
            return Vec::new();
        }
        self.shops
            .iter()
            .filter(|s| !user.shop_ids.contains(&s.id))
            .map(|s| Topic::Catalog(s.id))
            .take(MAX_CATALOG_TOPICS)
            .collect()
    }
}

pub async fn load() -> Result<SessionInfo, ApiFailure> {
    let user = match client::get::<User>("/auth/me").await {
        Ok(user) => user,
        Err(e) if client::is_signed_out(&e) => return Ok(SessionInfo { user: None, shops: Vec::new(), seq: 0 }),
        Err(e) => return Err(e),
    };
    let shops: ShopList = client::get("/shops").await?;
    Ok(SessionInfo { user: Some(user), shops: shops.items, seq: shops.seq })
}

/// The session, as context. Read while the server renders the page; not a `Resource`, which
/// would also write it (the user and every shop) into every page for a browser to hydrate
/// from, and no browser reads it: the islands get who is signed in as props
/// ([`crate::tab::TabLink`]).
#[derive(Clone, Copy)]
pub struct Session(pub AsyncDerived<Result<SessionInfo, ApiFailure>>);

impl Session {
    pub fn provide() -> Session {
        let session = Session(AsyncDerived::new(load));
        provide_context(session);
        session
    }

    pub fn use_context() -> Session {
        expect_context::<Session>()
    }

    /// The signed-in user, once loaded (untracked reads are for event handlers).
    pub fn user_untracked(&self) -> Option<User> {
        self.0.get_untracked().and_then(|r| r.ok()).and_then(|s| s.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn shop(id: i64) -> Shop {
        Shop { name: format!("S{id}"), updated_at: DateTime::UNIX_EPOCH, ..Shop::example(id) }
    }

    fn user(role: Role, shop_ids: Vec<i64>) -> User {
        User { id: 1, email: "a@b.c".into(), name: "A".into(), role, shop_ids, disabled: false }
    }

    #[test]
    fn customers_follow_every_catalogue_and_staff_the_ones_they_do_not_run() {
        let info = |user| SessionInfo { user: Some(user), shops: vec![shop(1), shop(2)], seq: 0 };
        assert_eq!(info(user(Role::Customer, vec![])).catalog_topics(), [Topic::Catalog(1), Topic::Catalog(2)]);
        assert_eq!(info(user(Role::Shopkeeper, vec![1])).catalog_topics(), [Topic::Catalog(2)]);
        assert!(info(user(Role::Admin, vec![])).catalog_topics().is_empty());
        assert!(SessionInfo { user: None, shops: vec![shop(1)], seq: 0 }.catalog_topics().is_empty());
    }
}
