//! Sessions recently looked up, kept in memory so that a request does not read the database to
//! learn who sent it (a session lookup was three reads on every request and every new socket).
//!
//! An entry is only ever as stale as the outbox is slow:
//! - a sign-out or a change of a user's rights (disabled, shops) is an internal outbox event
//!   (`session_ended`, `access_changed`) that every node's relay reads and hands to
//!   [`SessionCache::apply`] before the hub sees it, so every node forgets the entry within
//!   its relay's delay (milliseconds); the node that made the change forgets it before it
//!   answers ([`SessionCache::forget_session`], [`SessionCache::forget_user`]);
//! - a lookup that raced such a change (read the old rights before the change committed, and
//!   finished after it was applied) does not store what it read: every forget moves a
//!   generation, and an entry read under an older generation is not kept;
//! - whatever happens to the relay, an entry is dropped `ttl` after it was read, and a session
//!   past its `expires_at` is never answered from here.

use crate::auth::Session;
use crate::store::events::StoredEvent;
use app::domain::EventType;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

struct Entry {
    session: Session,
    read_at: Instant,
}

pub struct SessionCache {
    /// By the stored hash of the session's token.
    entries: RwLock<HashMap<String, Entry>>,
    generation: AtomicU64,
    ttl: Duration,
    max_entries: usize,
}

/// Taken before a lookup reads the database; see [`SessionCache::store`].
#[derive(Clone, Copy)]
pub struct Generation(u64);

impl SessionCache {
    /// `ttl` zero turns the cache off.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        SessionCache { entries: RwLock::default(), generation: AtomicU64::new(0), ttl, max_entries }
    }

    /// The session of this token hash, if it was read less than `ttl` ago and has not expired.
    pub fn get(&self, hash: &str) -> Option<Session> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(hash)?;
        let fresh = entry.read_at.elapsed() < self.ttl;
        let live = entry.session.expires_at.is_none_or(|at| at > chrono::Utc::now());
        (fresh && live).then(|| entry.session.clone())
    }

    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    /// Keeps a session read from the database, unless something was forgotten since
    /// `generation` was taken (what was read may be what was just revoked).
    pub fn store(&self, hash: &str, session: &Session, generation: Generation) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: forgetting moves the generation under it too.
        if self.generation.load(Ordering::Acquire) != generation.0 {
            return;
        }
        if entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, e| e.read_at.elapsed() < ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(hash.to_owned(), Entry { session: session.clone(), read_at: Instant::now() });
    }

    /// Forgets one session (signed out).
    pub fn forget_session(&self, hash: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(hash);
    }

    /// Forgets every session of a user (rights changed, disabled).
    pub fn forget_user(&self, user_id: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.session.user.id != user_id);
    }

    /// Acts on the internal events that change who a session is: called by the relay for
    /// every event, on every node.
    pub fn apply(&self, event: &StoredEvent) {
        match event.event_type {
            EventType::SessionEnded => match event.payload.get("session").and_then(|s| s.as_str()) {
                Some(hash) => self.forget_session(hash),
                None => self.forget_all(),
            },
            EventType::AccessChanged => match event.payload.get("user_id").and_then(|u| u.as_i64()) {
                Some(user_id) => self.forget_user(user_id),
                None => self.forget_all(),
            },
            _ => {}
        }
    }

    fn forget_all(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::User;
    use app::domain::Role;
    use chrono::Utc;

    fn session(user_id: i64, expires_in: chrono::Duration) -> Session {
        let user = User { id: user_id, email: format!("u{user_id}@x"), name: "U".into(), role: Role::Customer, shop_ids: vec![], disabled: false };
        Session { expires_at: Some(Utc::now() + expires_in), ..Session::internal(user) }
    }

    fn event(event_type: EventType, payload: serde_json::Value) -> StoredEvent {
        StoredEvent { seq: 1, event_type, topics: vec![], payload, created_at: Utc::now() }
    }

    #[test]
    fn a_stored_session_is_answered_until_it_is_forgotten() {
        let cache = SessionCache::new(Duration::from_secs(60), 10);
        cache.store("a", &session(1, chrono::Duration::hours(1)), cache.generation());
        cache.store("b", &session(2, chrono::Duration::hours(1)), cache.generation());
        assert_eq!(cache.get("a").map(|s| s.user.id), Some(1));
        cache.apply(&event(EventType::SessionEnded, serde_json::json!({"user_id": 1, "session": "a"})));
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
        cache.apply(&event(EventType::AccessChanged, serde_json::json!({"user_id": 2, "actor": null})));
        assert!(cache.get("b").is_none());
    }

    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_kept() {
        let cache = SessionCache::new(Duration::from_secs(60), 10);
        let before = cache.generation();
        cache.forget_user(1); // the change commits while the lookup reads
        cache.store("a", &session(1, chrono::Duration::hours(1)), before);
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn expired_sessions_and_old_entries_are_not_answered() {
        let cache = SessionCache::new(Duration::from_secs(60), 10);
        cache.store("a", &session(1, chrono::Duration::seconds(-1)), cache.generation());
        assert!(cache.get("a").is_none());
        let off = SessionCache::new(Duration::ZERO, 10);
        off.store("a", &session(1, chrono::Duration::hours(1)), off.generation());
        assert!(off.get("a").is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = SessionCache::new(Duration::from_secs(60), 2);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            cache.store(key, &session(i as i64, chrono::Duration::hours(1)), cache.generation());
        }
        assert!(cache.get("c").is_some());
        assert!(cache.entries.read().unwrap().len() <= 2);
    }
}
