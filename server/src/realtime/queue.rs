//! A connection's queue of outbound events: the hub pushes, the connection's task pops.
//!
//! Unbounded on purpose (the hub's [`Backlog`](super::hub::Backlog) bounds it by bytes and by
//! time), one producer, one consumer, and empty until used. tokio's unbounded channel allocates
//! a block of 32 slots (about 2 KiB here) when it is created; most sockets are idle and never
//! receive an event, and every one of them paid for that block.

use super::hub::Outbound;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

struct Shared {
    items: Mutex<VecDeque<Outbound>>,
    /// Rung on every push and when the sender goes; a ring with nobody waiting is kept for the
    /// next wait, so none is lost between a check and the wait.
    ready: Notify,
    closed: AtomicBool,
}

impl Shared {
    fn pop(&self) -> Option<Outbound> {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }
}

/// The hub's end. Dropping it ends the queue: the receiver gets what is left, then `None`.
pub struct Sender(Arc<Shared>);

/// The connection's end.
pub struct Receiver(Arc<Shared>);

pub fn queue() -> (Sender, Receiver) {
    let shared = Arc::new(Shared { items: Mutex::new(VecDeque::new()), ready: Notify::new(), closed: AtomicBool::new(false) });
    (Sender(shared.clone()), Receiver(shared))
}

impl Sender {
    pub fn send(&self, out: Outbound) {
        self.0.items.lock().unwrap_or_else(|e| e.into_inner()).push_back(out);
        self.0.ready.notify_one();
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.ready.notify_one();
    }
}

impl Receiver {
    /// The next event; `None` once the sender is gone and everything it sent was taken.
    pub async fn recv(&mut self) -> Option<Outbound> {
        loop {
            if let Some(out) = self.0.pop() {
                return Some(out);
            }
            if self.0.closed.load(Ordering::Acquire) {
                // Anything pushed before the close was set is there now.
                return self.0.pop();
            }
            self.0.ready.notified().await;
        }
    }

    pub fn try_recv(&mut self) -> Option<Outbound> {
        self.0.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(seq: i64) -> Outbound {
        Outbound { seq, text: format!("{seq}").into(), committed_at: chrono::Utc::now() }
    }

    #[tokio::test]
    async fn events_come_out_in_order_and_the_end_after_the_last() {
        let (tx, mut rx) = queue();
        assert!(rx.try_recv().is_none());
        let reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(o) = rx.recv().await {
                seen.push(o.seq);
            }
            seen
        });
        for seq in 1..=1000 {
            tx.send(out(seq));
            if seq % 100 == 0 {
                tokio::task::yield_now().await;
            }
        }
        drop(tx);
        assert_eq!(reader.await.unwrap(), (1..=1000).collect::<Vec<_>>());
    }
}
