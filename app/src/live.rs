//! The live connection of a browser tab: one WebSocket, shared by every page through context.
//!
//! It resumes from the last `seq` it applied (at first the `seq` the server rendered the page
//! at), reconnects with exponential backoff and full jitter (1 s growing to a 30 s cap, reset
//! after a connection that stayed up), retries at once when the browser comes back online or
//! the tab becomes visible, and never gives up. Pages register handlers that patch their
//! signals in place. On the server (SSR) the same type exists but never connects.

use crate::protocol::EventEnvelope;
use leptos::prelude::*;
use std::sync::Arc;

/// What the connection indicator shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not started (signed out, or on the server).
    Idle,
    Connecting,
    Live,
    /// Waiting to retry, in this many seconds.
    Reconnecting { in_secs: u32 },
    /// The browser says it has no network.
    Offline,
}

type Handler = Arc<dyn Fn(&EventEnvelope) + Send + Sync>;

#[derive(Clone, Copy)]
pub struct Live {
    pub state: RwSignal<LinkState>,
    /// The highest `seq` applied.
    pub last_seq: RwSignal<i64>,
    /// A screen-reader announcement of the latest change.
    pub announcement: RwSignal<String>,
    handlers: StoredValue<Vec<(u64, Handler)>>,
    next_handler: StoredValue<u64>,
    /// Bumped on every (re)connect so stale retries and sockets are ignored (browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    generation: StoredValue<u64>,
    /// Retries since the last connection that stayed up (browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    attempt: StoredValue<u32>,
}

impl Live {
    /// Creates the tab's connection state and provides it as context.
    pub fn provide() -> Live {
        let live = Live {
            state: RwSignal::new(LinkState::Idle),
            last_seq: RwSignal::new(0),
            announcement: RwSignal::new(String::new()),
            handlers: StoredValue::new(Vec::new()),
            next_handler: StoredValue::new(0),
            generation: StoredValue::new(0),
            attempt: StoredValue::new(0),
        };
        provide_context(live);
        live
    }

    pub fn use_context() -> Live {
        expect_context::<Live>()
    }

    /// Calls `handler` for every event applied while the calling component lives.
    pub fn on_event(&self, handler: impl Fn(&EventEnvelope) + Send + Sync + 'static) {
        let id = self.next_handler.get_value();
        self.next_handler.set_value(id + 1);
        self.handlers.update_value(|h| h.push((id, Arc::new(handler))));
        let handlers = self.handlers;
        on_cleanup(move || handlers.update_value(|h| h.retain(|(i, _)| *i != id)));
    }

    /// Applies an event once, in order: events at or below the last applied `seq` are skipped.
    pub fn apply(&self, event: &EventEnvelope) {
        if event.seq <= self.last_seq.get_untracked() {
            return;
        }
        self.last_seq.set(event.seq);
        let handlers: Vec<Handler> = self.handlers.with_value(|h| h.iter().map(|(_, f)| f.clone()).collect());
        for handler in handlers {
            handler(event);
        }
    }

    /// Starts the connection from `seq` (the page's rendered state) if it is not running yet.
    pub fn start(&self, seq: i64) {
        if self.state.get_untracked() != LinkState::Idle {
            return;
        }
        if seq > self.last_seq.get_untracked() {
            self.last_seq.set(seq);
        }
        #[cfg(feature = "hydrate")]
        client::start(*self);
    }

    /// Retries at once (the "Reconnect now" action).
    pub fn reconnect_now(&self) {
        #[cfg(feature = "hydrate")]
        if matches!(self.state.get_untracked(), LinkState::Reconnecting { .. } | LinkState::Offline) {
            client::connect(*self);
        }
    }
}

/// The delay before retry number `attempt` (1-based): full jitter over an exponential window
/// of 1 s doubling to 30 s. `random` is in [0, 1).
pub fn backoff_ms(attempt: u32, random: f64) -> u32 {
    let window = (1000u64 << attempt.saturating_sub(1).min(5)).min(30_000) as f64;
    (random.clamp(0.0, 1.0) * window) as u32
}

#[component]
pub fn LinkIndicator(live: Live) -> impl IntoView {
    let label = move || match live.state.get() {
        LinkState::Idle => String::new(),
        LinkState::Connecting => "Connecting…".into(),
        LinkState::Live => "Live".into(),
        LinkState::Reconnecting { in_secs } => format!("Reconnecting in {in_secs} s"),
        LinkState::Offline => "Offline".into(),
    };
    let class = move || match live.state.get() {
        LinkState::Live => "conn conn-live",
        LinkState::Idle => "conn conn-idle",
        LinkState::Connecting => "conn conn-connecting",
        _ => "conn conn-down",
    };
    let retry_visible = move || matches!(live.state.get(), LinkState::Reconnecting { .. } | LinkState::Offline);
    view! {
        <span class=class data-state=move || format!("{:?}", live.state.get()).to_lowercase() role="status">
            <span class="conn-label">{label}</span>
            <Show when=retry_visible>
                <button type="button" class="conn-retry" on:click=move |_| live.reconnect_now()>"Reconnect now"</button>
            </Show>
        </span>
        <div class="sr-only" aria-live="polite">{move || live.announcement.get()}</div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{backoff_ms, Live, LinkState};
    use crate::protocol::{ControlMessage, ServerMessage};
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    /// A connection that stayed up this long resets the backoff.
    const STABLE_MS: f64 = 10_000.0;

    pub fn start(live: Live) {
        // Come back at once when the network or the tab does.
        for (target, event) in [("window", "online"), ("document", "visibilitychange")] {
            let cb = Closure::<dyn FnMut()>::new(move || {
                let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
                if visible && matches!(live.state.get_untracked(), LinkState::Reconnecting { .. } | LinkState::Offline) {
                    connect(live);
                }
            });
            let result = if target == "window" {
                window().add_event_listener_with_callback(event, cb.as_ref().unchecked_ref())
            } else {
                document().add_event_listener_with_callback(event, cb.as_ref().unchecked_ref())
            };
            let _ = result;
            cb.forget(); // lives as long as the tab
        }
        let cb = Closure::<dyn FnMut()>::new(move || live.state.set(LinkState::Offline));
        let _ = window().add_event_listener_with_callback("offline", cb.as_ref().unchecked_ref());
        cb.forget();
        connect(live);
    }

    pub fn connect(live: Live) {
        let generation = live.generation.get_value() + 1;
        live.generation.set_value(generation);
        live.state.set(LinkState::Connecting);
        let location = window().location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let url = format!("{scheme}://{host}/ws?last_seq={}", live.last_seq.get_untracked());
        let Ok(ws) = WebSocket::new(&url) else {
            schedule_retry(live, generation);
            return;
        };
        let opened_at = StoredValue::new(0.0f64);

        let onopen = Closure::<dyn FnMut()>::new(move || {
            if live.generation.get_value() == generation {
                opened_at.set_value(js_sys::Date::now());
                live.state.set(LinkState::Live);
            }
        });
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            let Some(text) = e.data().as_string() else { return };
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Event(event)) => live.apply(&event),
                // The missed events are gone: reload, which renders fresh data and a fresh `seq`.
                Ok(ServerMessage::Control(ControlMessage::ResyncRequired { .. })) => {
                    let _ = window().location().reload();
                }
                _ => {}
            }
        });
        let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            if js_sys::Date::now() - opened_at.get_value() > STABLE_MS && opened_at.get_value() > 0.0 {
                live.attempt.set_value(0);
            }
            schedule_retry(live, generation);
        });
        ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        // The handlers live as long as their socket; a few per reconnect.
        onopen.forget();
        onmessage.forget();
        onclose.forget();
    }

    fn schedule_retry(live: Live, generation: u64) {
        if !window().navigator().on_line() {
            live.state.set(LinkState::Offline);
            return;
        }
        let attempt = live.attempt.get_value() + 1;
        live.attempt.set_value(attempt);
        let delay = backoff_ms(attempt, js_sys::Math::random());
        live.state.set(LinkState::Reconnecting { in_secs: delay.div_ceil(1000) });
        set_timeout(
            move || {
                if live.generation.get_value() == generation {
                    connect(live);
                }
            },
            std::time::Duration::from_millis(u64::from(delay)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_from_one_second_to_a_thirty_second_cap_with_full_jitter() {
        assert_eq!(backoff_ms(1, 0.999_999), 999);
        assert_eq!(backoff_ms(2, 0.999_999), 1999);
        assert_eq!(backoff_ms(5, 0.999_999), 15_999);
        assert_eq!(backoff_ms(6, 0.999_999), 29_999);
        assert_eq!(backoff_ms(40, 0.999_999), 29_999);
        assert_eq!(backoff_ms(3, 0.0), 0);
        assert_eq!(backoff_ms(3, 0.5), 2000);
    }
}
