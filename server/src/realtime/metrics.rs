//! Prometheus metrics of the real-time path, served at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub struct Metrics {
    pub connections: Gauge,
    pub subscriptions: Gauge,
    pub events_published: Counter,
    pub frames_sent: Counter,
    pub replays: Counter,
    pub replayed_events: Counter,
    pub slow_client_closes: Counter,
    pub auth_failures: Counter,
    /// Seconds from an event's commit to its frame being written to a socket.
    pub delivery_latency: Histogram,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ordercast_ws");
        let m = Metrics {
            connections: Gauge::default(),
            subscriptions: Gauge::default(),
            events_published: Counter::default(),
            frames_sent: Counter::default(),
            replays: Counter::default(),
            replayed_events: Counter::default(),
            slow_client_closes: Counter::default(),
            auth_failures: Counter::default(),
            // 50 µs to about 1.6 s.
            delivery_latency: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            registry: Registry::default(),
        };
        registry.register("connections", "Open WebSocket connections", m.connections.clone());
        registry.register("subscriptions", "Topic subscriptions over all connections", m.subscriptions.clone());
        registry.register("events_published", "Outbox events relayed to the hub", m.events_published.clone());
        registry.register("frames_sent", "Event frames written to sockets", m.frames_sent.clone());
        registry.register("replays", "Resumes served from the outbox", m.replays.clone());
        registry.register("replayed_events", "Events sent by replays", m.replayed_events.clone());
        registry.register("slow_client_closes", "Connections closed because their queue overflowed", m.slow_client_closes.clone());
        registry.register("auth_failures", "Refused WebSocket upgrades", m.auth_failures.clone());
        registry.register(
            "delivery_latency_seconds",
            "Commit of an event to its frame written to a socket",
            m.delivery_latency.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
