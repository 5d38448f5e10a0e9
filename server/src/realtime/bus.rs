//! The publish path's interface: "something was committed to the outbox".

use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes the relay after a commit. Cheap to clone; calling it more often than needed is harmless
/// (the relay reads whatever is new, possibly nothing).
#[derive(Clone, Default)]
pub struct Bus {
    wake: Arc<Notify>,
}

impl Bus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called after every transaction that appended events has committed.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Waits for the next `committed` (or returns at once if one came since the last wait).
    pub async fn wait(&self) {
        self.wake.notified().await;
    }
}
