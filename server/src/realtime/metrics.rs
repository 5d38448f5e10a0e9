//! Prometheus metrics of the real-time path, served at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

pub struct Metrics {
    /// Newest `seq` in the database minus the last one this node's relay delivered.
    pub relay_lag: Gauge,
    /// 1 while the relay runs, 0 while it is being restarted.
    pub relay_up: Gauge,
    /// Times the relay stopped unexpectedly and was restarted.
    pub relay_restarts: Counter,
    /// Times the relay found a hole in `seq` (a transaction still committing) and waited.
    pub relay_holes: Counter,
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
    /// Boards answered from memory ([`crate::board_cache`]) and read from the database.
    pub boards_kept: Counter,
    pub boards_read: Counter,
    registry: Registry,
}

impl Metrics {
    /// The metrics of node `node` (which every scrape names in `ordercast_node_info`).
    pub fn new(node: &str, engine: &str) -> Self {
        let mut root = Registry::default();
        root.register(
            "ordercast_node",
            "The node that answered and its database engine",
            Info::new(vec![("node".to_owned(), node.to_owned()), ("engine".to_owned(), engine.to_owned())]),
        );
        let relay = root.sub_registry_with_prefix("ordercast_relay");
        let m = Metrics {
            relay_lag: Gauge::default(),
            relay_up: Gauge::default(),
            relay_restarts: Counter::default(),
            relay_holes: Counter::default(),
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
            boards_kept: Counter::default(),
            boards_read: Counter::default(),
            registry: Registry::default(),
        };
        relay.register("lag", "Newest seq in the database minus the last delivered by this node", m.relay_lag.clone());
        relay.register("up", "1 while the outbox relay runs", m.relay_up.clone());
        relay.register("restarts", "Times the relay stopped unexpectedly and was restarted", m.relay_restarts.clone());
        relay.register("holes", "Times the relay waited for a seq still committing", m.relay_holes.clone());
        let registry = root.sub_registry_with_prefix("ordercast_ws");
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
        let boards = root.sub_registry_with_prefix("ordercast_boards");
        boards.register("kept", "Boards answered from memory", m.boards_kept.clone());
        boards.register("read", "Boards read from the database", m.boards_read.clone());
        Metrics { registry: root, ..m }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
