//! The live connection of a browser tab: one WebSocket, shared by every island of the page
//! (see [`crate::tab`]).
//!
//! Where the network breaks WebSockets (some proxies and captive portals) while plain HTTP
//! works, the tab falls back to the server's event stream (`/sse`, the same protocol, listen
//! only), says so ("Live (fallback)"), and tries the WebSocket again every few minutes.
//!
//! It resumes from the last `seq` it applied (at first the lowest `seq` the server rendered the
//! page's data at), reconnects with exponential backoff and full jitter (1 s growing to a 30 s
//! cap, reset after a connection that stayed up), retries at once when the browser comes back
//! online or the tab becomes visible, and never gives up. While it is down, pages refresh their
//! data about every 60 s; when the server no longer has the events the tab missed
//! (`resync_required`), every page refetches its data in place. A socket closed because the
//! session ended sends the tab to sign in.
//!
//! Pages [`Live::follow`] it with the `seq` their data is current as of: they get every event
//! after that `seq`, including ones the tab received before the page's data arrived (kept in a
//! short replay buffer), so nothing falls between loading and listening. On the server (SSR)
//! the same type exists but never connects.

use crate::domain::Topic;
use crate::pages::common::{day_month, hm};
use crate::protocol::EventEnvelope;
use leptos::prelude::*;
use std::collections::VecDeque;
use std::sync::Arc;

/// Events kept for pages that load their data after the events arrived.
const REPLAY_BUFFER: usize = 1000;
/// How often pages refresh their data while the socket is down.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const POLL_MS: u64 = 60_000;

/// What the connection indicator shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not started (signed out, or on the server).
    Idle,
    Connecting,
    /// The server has greeted this link (`hello`, or the stream's first message): events
    /// flow from here on.
    Live,
    /// Waiting to retry, in this many seconds.
    Reconnecting { in_secs: u32 },
    /// The browser says it has no network.
    Offline,
}

impl LinkState {
    /// Its name in the page: the indicator's `data-state`.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Idle => "idle",
            LinkState::Connecting => "connecting",
            LinkState::Live => "live",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::Offline => "offline",
        }
    }
}

type Handler = Arc<dyn Fn(&EventEnvelope) + Send + Sync>;
type Reload = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone, Copy)]
pub struct Live {
    pub state: RwSignal<LinkState>,
    /// The highest `seq` applied.
    pub last_seq: RwSignal<i64>,
    /// A screen-reader announcement of the latest change.
    pub announcement: RwSignal<String>,
    /// When a live connection was last lost, while it is not back: what is on screen is
    /// current as of then (pages mark themselves stale). `None` while live or never live.
    pub down_since: RwSignal<Option<chrono::DateTime<chrono::Utc>>>,
    /// Who gets applied events: an id (for removal), the `seq` their data is current as of
    /// (they get only events after it), and the handler.
    handlers: StoredValue<Vec<(u64, i64, Handler)>>,
    reloads: StoredValue<Vec<(u64, Reload)>>,
    next_id: StoredValue<u64>,
    /// Topics to follow besides the automatic ones (public shop catalogues).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    topics: StoredValue<Vec<Topic>>,
    /// The lowest `seq` a page followed from before the socket started.
    lowest_followed: StoredValue<Option<i64>>,
    /// The latest events applied, oldest first, and the `seq` after which the buffer is
    /// complete (every event this tab received after it is in the buffer).
    recent: StoredValue<VecDeque<EventEnvelope>>,
    floor: StoredValue<i64>,
    /// The link is the event stream, not the WebSocket.
    pub fallback: RwSignal<bool>,
    /// The page on screen is the copy the service worker kept, fetched at this time (the app
    /// was opened offline), until the link is live again.
    pub offline_copy: RwSignal<Option<chrono::DateTime<chrono::Utc>>>,
    /// WebSocket attempts in a row that ended before the server said `hello` (browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    ws_failures: StoredValue<u32>,
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
            down_since: RwSignal::new(None),
            fallback: RwSignal::new(false),
            offline_copy: RwSignal::new(None),
            ws_failures: StoredValue::new(0),
            handlers: StoredValue::new(Vec::new()),
            reloads: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(0),
            topics: StoredValue::new(Vec::new()),
            lowest_followed: StoredValue::new(None),
            recent: StoredValue::new(VecDeque::new()),
            floor: StoredValue::new(0),
            generation: StoredValue::new(0),
            attempt: StoredValue::new(0),
        };
        provide_context(live);
        // The moment the link drops is the moment the data on screen stops being known current.
        Effect::new(move |was_live: Option<bool>| {
            let is_live = live.state.get() == LinkState::Live;
            if is_live {
                live.down_since.set(None);
                live.offline_copy.set(None);
            } else if was_live == Some(true) {
                live.down_since.set(Some(chrono::Utc::now()));
            }
            is_live
        });
        live
    }

    /// The link was live and is not now: the page's data may be out of date.
    pub fn is_down(&self) -> bool {
        self.down_since.with(|d| d.is_some())
    }

    pub fn use_context() -> Live {
        expect_context::<Live>()
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Calls `handler` for every event applied from now on while the calling component lives.
    pub fn on_event(&self, handler: impl Fn(&EventEnvelope) + Send + Sync + 'static) {
        let id = self.next_id();
        self.handlers.update_value(|h| h.push((id, 0, Arc::new(handler))));
        let handlers = self.handlers;
        on_cleanup(move || handlers.update_value(|h| h.retain(|(i, _, _)| *i != id)));
    }

    /// Follows the events after `seq` (the `seq` the calling page's data is current as of)
    /// while the calling component lives: `on_event` gets every one of them, including those
    /// that arrived before the page's data did. `reload` refetches the page's data; it is
    /// called every 60 s while the socket is down, and at once if the replay buffer no longer
    /// reaches back to `seq`. After a reload, call [`Live::replay_since`] with the fresh `seq`.
    pub fn follow(
        &self,
        seq: i64,
        on_event: impl Fn(&EventEnvelope) + Send + Sync + 'static,
        reload: impl Fn() + Send + Sync + 'static,
    ) {
        let on_event: Handler = Arc::new(on_event);
        let reload: Reload = Arc::new(reload);
        let id = self.next_id();
        // Events up to `seq` are in the page's data already: when the socket starts from a
        // lower `seq` (another page's), they pass this page by.
        self.handlers.update_value(|h| h.push((id, seq, on_event.clone())));
        self.reloads.update_value(|r| r.push((id, reload.clone())));
        let (handlers, reloads) = (self.handlers, self.reloads);
        on_cleanup(move || {
            handlers.update_value(|h| h.retain(|(i, _, _)| *i != id));
            reloads.update_value(|r| r.retain(|(i, _)| *i != id));
        });

        if self.state.get_untracked() == LinkState::Idle {
            // The socket will resume from the lowest `seq` any page was rendered at.
            self.lowest_followed.update_value(|low| *low = Some(low.map_or(seq, |l| l.min(seq))));
        } else if seq < self.floor.get_value() {
            reload();
        } else {
            self.replay_since(seq, &*on_event);
        }
    }

    /// Hands `handler` the buffered events after `seq`, oldest first.
    pub fn replay_since(&self, seq: i64, handler: &dyn Fn(&EventEnvelope)) {
        let missed: Vec<EventEnvelope> =
            self.recent.with_value(|r| r.iter().filter(|e| e.seq > seq).cloned().collect());
        for event in &missed {
            handler(event);
        }
    }

    /// Applies an event once, in order: events at or below the last applied `seq` are skipped.
    pub fn apply(&self, event: &EventEnvelope) {
        if event.seq <= self.last_seq.get_untracked() {
            return;
        }
        self.last_seq.set(event.seq);
        self.recent.update_value(|r| {
            r.push_back(event.clone());
            if r.len() > REPLAY_BUFFER {
                if let Some(dropped) = r.pop_front() {
                    self.floor.set_value(dropped.seq);
                }
            }
        });
        let handlers: Vec<Handler> =
            self.handlers.with_value(|h| h.iter().filter(|(_, since, _)| event.seq > *since).map(|(_, _, f)| f.clone()).collect());
        for handler in handlers {
            handler(event);
        }
    }

    /// Starts over from `seq` after the server said the events this tab missed are gone:
    /// the buffer is emptied and every following page refetches its data.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn resync(&self, seq: i64) {
        self.last_seq.set(seq);
        self.floor.set_value(seq);
        self.recent.update_value(|r| r.clear());
        self.reload_all();
    }

    /// Asks every following page to refetch its data (the socket is down, or resyncing).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn reload_all(&self) {
        let reloads: Vec<Reload> = self.reloads.with_value(|r| r.iter().map(|(_, f)| f.clone()).collect());
        for reload in reloads {
            reload();
        }
    }

    /// Starts the connection from `seq` (the session's rendered state, or a page's if lower)
    /// with `topics` to follow besides the automatic ones, if it is not running yet.
    pub fn start(&self, seq: i64, topics: Vec<Topic>) {
        if self.state.get_untracked() != LinkState::Idle {
            return;
        }
        let from = self.lowest_followed.get_value().map_or(seq, |low| low.min(seq));
        self.last_seq.set(from);
        self.floor.set_value(from);
        self.topics.set_value(topics);
        // Started: pages that follow from now on replay from the buffer.
        self.state.set(LinkState::Connecting);
        #[cfg(feature = "hydrate")]
        client::start_when_hydrated(*self);
    }

    /// Retries at once (the "Reconnect now" action, the network or the tab coming back).
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
        LinkState::Live if live.fallback.get() => "Live (fallback)".into(),
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
    // Nothing to retry while the browser itself has no network: it comes back on its own.
    let retry_visible = move || matches!(live.state.get(), LinkState::Reconnecting { .. });
    view! {
        <span
            class=class
            data-state=move || live.state.get().name()
            data-transport=move || if live.fallback.get() { "sse" } else { "websocket" }
            title=move || live.fallback.get().then_some("Live over plain HTTP: this network blocks WebSockets")
            role="status"
        >
            <span class="conn-label">{label}</span>
            <Show when=retry_visible>
                <button type="button" class="conn-retry" on:click=move |_| live.reconnect_now()>"Reconnect now"</button>
            </Show>
        </span>
        <div class="sr-only" aria-live="polite">{move || live.announcement.get()}</div>
    }
}

/// Says so when the page on screen is the copy kept for opening offline: not live, and as of
/// when. An island of its own at the top of every page (see [`crate::tab`]).
#[island]
pub fn OfflineCopyNotice() -> impl IntoView {
    crate::tab::enter();
    let live = Live::use_context();
    let at = move || live.offline_copy.get().map(|t| {
        let local = t.with_timezone(&chrono::Local);
        format!("{} on {}", hm(&local), day_month(&local))
    });
    view! {
        <Show when=move || at().is_some()>
            <div class="offline-copy" role="status">
                <strong>"Offline copy, not live."</strong>
                " This is what the app showed at " {at} ". It updates as soon as the network is back."
            </div>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{backoff_ms, Live, LinkState};
    use crate::protocol::{close, ClientMessage, ControlMessage, ServerMessage};
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, EventSource, MessageEvent, WebSocket};

    /// A connection that stayed up this long resets the backoff.
    const STABLE_MS: f64 = 10_000.0;
    /// WebSocket attempts in a row that end before `hello`, with HTTP working, before the tab
    /// falls back to the event stream.
    const FALLBACK_AFTER: u32 = 2;
    /// How long the tab stays on the event stream before trying the WebSocket again.
    const WS_RETRY_MS: u64 = 5 * 60_000;
    /// How often a live WebSocket is asked to answer (`ping`), and how long its answer may
    /// take before the link counts as dead. A connection can die without a close (a tablet
    /// that slept, a router that forgot it): the browser's own pongs to the server's pings
    /// say nothing to the page, and a quiet shop sends nothing, so only an answer asked for
    /// tells a live link from a dead one that still says "Live".
    const PING_MS: u64 = 25_000;
    const PONG_WAIT_MS: u64 = 10_000;

    /// Starts the link once the page has hydrated: what the link changes on screen (the
    /// indicator, notices, events applied to the page) must not change the page's structure
    /// while a lazily loaded part of it is still being hydrated.
    pub fn start_when_hydrated(live: Live) {
        crate::when_hydrated(move || start(live));
    }

    fn start(live: Live) {
        // Opened from the service worker's copy: what is on screen is as of then.
        let copied = document().document_element().and_then(|html| html.get_attribute("data-offline-copy"));
        if let Some(at) = copied.and_then(|at| crate::timestamp::parse(&at)) {
            live.offline_copy.set(Some(at));
            live.down_since.set(Some(at));
        }
        // Come back at once when the network or the tab does, and make sure a link that
        // still says "Live" after the tab was away is.
        for (target, event) in [("window", "online"), ("document", "visibilitychange")] {
            let cb = Closure::<dyn FnMut()>::new(move || {
                if document().visibility_state() == web_sys::VisibilityState::Visible {
                    live.reconnect_now();
                    probe(live);
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
        // The browser lost the network: the link is as good as dead, so drop it and wait
        // for `online` rather than waiting out a timeout.
        let cb = Closure::<dyn FnMut()>::new(move || {
            live.generation.update_value(|g| *g += 1); // cancels a retry already scheduled
            drop_link();
            live.state.set(LinkState::Offline);
        });
        let _ = window().add_event_listener_with_callback("offline", cb.as_ref().unchecked_ref());
        cb.forget();
        // While the link is down, keep what is on screen fresh by polling.
        let _ = set_interval_with_handle(
            move || {
                if !matches!(live.state.get_untracked(), LinkState::Live | LinkState::Idle) {
                    live.reload_all();
                }
            },
            std::time::Duration::from_millis(super::POLL_MS),
        );
        let _ = set_interval_with_handle(move || probe(live), std::time::Duration::from_millis(PING_MS));
        connect(live);
    }

    /// Asks a live WebSocket to answer, and reconnects (resuming where the page is) if it has
    /// said nothing `PONG_WAIT_MS` later. (The event stream needs none of this: the browser
    /// reconnects it by itself.)
    fn probe(live: Live) {
        let socket = LINK.with(|l| match &*l.borrow() {
            Some(Link::Socket(ws)) => Some(ws.clone()),
            _ => None,
        });
        let Some(ws) = socket.filter(|_| live.state.get_untracked() == LinkState::Live) else { return };
        let asked = js_sys::Date::now();
        let generation = live.generation.get_value();
        if ws.send_with_str(r#"{"type":"ping"}"#).is_err() {
            return;
        }
        set_timeout(
            move || {
                let silent = HEARD_AT.with(Cell::get) < asked;
                if silent && live.generation.get_value() == generation && live.state.get_untracked() == LinkState::Live {
                    connect(live);
                }
            },
            std::time::Duration::from_millis(PONG_WAIT_MS),
        );
    }

    /// The tab's one link to the server.
    enum Link {
        Socket(WebSocket),
        Stream(EventSource),
    }

    thread_local! {
        /// The tab's current link, closed when a new one replaces it.
        static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
        /// When the server last said anything on the current WebSocket (ms since the epoch).
        static HEARD_AT: Cell<f64> = const { Cell::new(0.0) };
    }

    /// Closes the current link, if any, without it scheduling a retry.
    fn drop_link() {
        match LINK.with(|s| s.borrow_mut().take()) {
            Some(Link::Socket(old)) => {
                old.set_onclose(None);
                old.set_onmessage(None);
                old.set_onopen(None);
                let _ = old.close();
            }
            Some(Link::Stream(old)) => {
                old.set_onmessage(None);
                old.set_onerror(None);
                old.close();
            }
            None => {}
        }
    }

    /// `?last_seq=…&topics=…`: where to resume, in the address, so that it is in force before
    /// anything is sent however late this tab's handlers run.
    fn resume_query(live: Live) -> String {
        let topics: Vec<String> = live.topics.get_value().iter().map(ToString::to_string).collect();
        let mut query = format!("?last_seq={}", live.last_seq.get_untracked());
        if !topics.is_empty() {
            query.push_str("&topics=");
            query.push_str(&topics.join(","));
        }
        query
    }

    /// (Re)connects over the WebSocket, or over the event stream while falling back.
    pub fn connect(live: Live) {
        let generation = live.generation.get_value() + 1;
        live.generation.set_value(generation);
        drop_link();
        live.state.set(LinkState::Connecting);
        if live.fallback.get_untracked() {
            connect_stream(live, generation);
        } else {
            connect_socket(live, generation);
        }
    }

    /// A message from the server, over either link.
    fn on_server_message(live: Live, text: &str, link: &Link) {
        match ServerMessage::from_json(text) {
            Ok(ServerMessage::Event(event)) => live.apply(&event),
            // The missed events are gone: every page refetches its data over REST, and the
            // link resumes from the server's current `seq`, so the events that arrive while
            // the pages reload are kept for them to replay. (The event stream does so by
            // itself: it cannot be asked.)
            Ok(ServerMessage::Control(ControlMessage::ResyncRequired { seq, .. })) => {
                live.resync(seq);
                if let Link::Socket(ws) = link {
                    let resume = ClientMessage::Resume { last_seq: Some(seq), topics: Vec::new() };
                    if let Ok(text) = serde_json::to_string(&resume) {
                        let _ = ws.send_with_str(&text);
                    }
                }
            }
            _ => {}
        }
    }

    fn connect_socket(live: Live, generation: u64) {
        let location = window().location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let url = format!("{scheme}://{host}/ws{}", resume_query(live));
        let Ok(ws) = WebSocket::new(&url) else {
            schedule_retry(live, generation);
            return;
        };
        // When this socket opened (0: not yet), and whether the server spoke on it; shared by
        // its handlers only.
        let opened_at = Rc::new(Cell::new(0.0f64));
        let heard = Rc::new(Cell::new(false));
        let (opened, heard_by_message) = (opened_at.clone(), heard.clone());

        let onopen = Closure::<dyn FnMut()>::new(move || {
            if live.generation.get_value() != generation {
                return;
            }
            opened.set(js_sys::Date::now());
        });
        let link = Link::Socket(ws.clone());
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            // Live once the server has said `hello`, its first message: by then it has
            // registered this connection and checked the session, which the socket's `open`
            // does not say (a page that counts sockets when it turns live counts this one).
            HEARD_AT.with(|h| h.set(js_sys::Date::now()));
            if !heard_by_message.replace(true) {
                live.state.set(LinkState::Live);
            }
            live.ws_failures.set_value(0);
            let Some(text) = e.data().as_string() else { return };
            on_server_message(live, &text, &link);
        });
        let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            // Signed out elsewhere or disabled: retrying cannot help, signing in can.
            if e.code() == close::SESSION_ENDED {
                crate::tab::go("/login");
                return;
            }
            let since = opened_at.get();
            if since > 0.0 && js_sys::Date::now() - since > STABLE_MS {
                live.attempt.set_value(0);
            }
            if heard.get() {
                schedule_retry(live, generation);
            } else {
                // Refused or cut before the server spoke: the server may be down, the session
                // over, or the network may not carry WebSockets.
                live.ws_failures.update_value(|f| *f += 1);
                after_failed_socket(live, generation);
            }
        });
        LINK.with(|s| *s.borrow_mut() = Some(Link::Socket(ws.clone())));
        ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        // The handlers live as long as their socket; a few per reconnect.
        onopen.forget();
        onmessage.forget();
        onclose.forget();
    }

    /// After a WebSocket that never got `hello`: asks over plain HTTP who is signed in. Signed
    /// out: to the sign-in page (an upgrade refused with 401 looks like any other failed
    /// connection to the browser). Answered, after repeated failures: the network carries HTTP
    /// but not WebSockets, so fall back to the event stream now. Otherwise retry as usual.
    fn after_failed_socket(live: Live, generation: u64) {
        leptos::task::spawn_local(async move {
            let answered = match crate::client::get::<crate::api::User>("/auth/me").await {
                Ok(_) => true,
                Err(e) if crate::client::is_signed_out(&e) => {
                    crate::tab::go("/login");
                    return;
                }
                Err(_) => false,
            };
            if live.generation.get_value() != generation {
                return;
            }
            if answered && live.ws_failures.get_value() >= FALLBACK_AFTER {
                live.fallback.set(true);
                connect(live);
            } else {
                schedule_retry(live, generation);
            }
        });
    }

    fn connect_stream(live: Live, generation: u64) {
        let Ok(stream) = EventSource::new(&format!("/sse{}", resume_query(live))) else {
            schedule_retry(live, generation);
            return;
        };
        let opened_at = Rc::new(Cell::new(0.0f64));
        let opened = opened_at.clone();
        let link = Link::Stream(stream.clone());
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            if opened.get() == 0.0 {
                opened.set(js_sys::Date::now());
                live.state.set(LinkState::Live);
                // Try the WebSocket again later: one more failure comes straight back here.
                set_timeout(
                    move || {
                        if live.generation.get_value() == generation && live.fallback.get_untracked() {
                            live.fallback.set(false);
                            live.ws_failures.set_value(FALLBACK_AFTER - 1);
                            connect(live);
                        }
                    },
                    std::time::Duration::from_millis(WS_RETRY_MS),
                );
            }
            let Some(text) = e.data().as_string() else { return };
            on_server_message(live, &text, &link);
        });
        // The server ends a stream by saying why, as a socket's close frame would.
        let ended = stream.clone();
        let onclose = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if live.generation.get_value() != generation {
                return;
            }
            ended.close();
            #[derive(serde::Deserialize)]
            struct Closed {
                code: u16,
            }
            let code = e.data().as_string().and_then(|text| serde_json::from_str::<Closed>(&text).ok()).map(|c| c.code);
            if code == Some(close::SESSION_ENDED) {
                crate::tab::go("/login");
                return;
            }
            schedule_retry(live, generation);
        });
        // Any error: the browser would reconnect by itself with `Last-Event-ID`; this tab
        // reconnects with its own backoff from the `seq` it applied instead, as for a socket.
        let failed = stream.clone();
        let onerror = Closure::<dyn FnMut()>::new(move || {
            if live.generation.get_value() != generation {
                return;
            }
            failed.close();
            let since = opened_at.get();
            if since > 0.0 && js_sys::Date::now() - since > STABLE_MS {
                live.attempt.set_value(0);
            }
            schedule_retry(live, generation);
            // Refused before it spoke: perhaps because the session is over.
            if since == 0.0 {
                leptos::task::spawn_local(async {
                    if let Err(e) = crate::client::get::<crate::api::User>("/auth/me").await {
                        if crate::client::is_signed_out(&e) {
                            crate::tab::go("/login");
                        }
                    }
                });
            }
        });
        LINK.with(|s| *s.borrow_mut() = Some(Link::Stream(stream.clone())));
        stream.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        stream.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        let _ = stream.add_event_listener_with_callback("close", onclose.as_ref().unchecked_ref());
        onmessage.forget();
        onclose.forget();
        onerror.forget();
    }

    /// Shows the seconds to the next try, ticking down until it starts.
    fn count_down(live: Live, generation: u64, in_secs: u32) {
        live.state.set(LinkState::Reconnecting { in_secs });
        if in_secs > 1 {
            set_timeout(
                move || {
                    let waiting = matches!(live.state.get_untracked(), LinkState::Reconnecting { .. });
                    if live.generation.get_value() == generation && waiting {
                        count_down(live, generation, in_secs - 1);
                    }
                },
                std::time::Duration::from_secs(1),
            );
        }
    }

    fn schedule_retry(live: Live, generation: u64) {
        if !window().navigator().on_line() {
            live.state.set(LinkState::Offline);
            return;
        }
        let attempt = live.attempt.get_value() + 1;
        live.attempt.set_value(attempt);
        let delay = backoff_ms(attempt, js_sys::Math::random());
        count_down(live, generation, delay.div_ceil(1000));
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
    use super::{backoff_ms, Live, REPLAY_BUFFER};
    use crate::domain::{EventType, Topic};
    use crate::protocol::{EventEnvelope, Payload};
    use chrono::DateTime;
    use leptos::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    fn event(seq: i64) -> EventEnvelope {
        EventEnvelope { event_type: EventType::Notification, seq, topic: Topic::Admin, at: DateTime::UNIX_EPOCH, data: Payload::from_value(&serde_json::Value::Null) }
    }

    /// A handler that records the `seq`s it gets.
    fn recorder() -> (Arc<Mutex<Vec<i64>>>, impl Fn(&EventEnvelope) + Send + Sync + 'static) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (seen, move |e: &EventEnvelope| s.lock().expect("lock").push(e.seq))
    }

    #[test]
    fn every_page_gets_exactly_the_events_after_its_own_data() {
        let owner = Owner::new();
        owner.set();
        let live = Live::provide();

        // Rendered: the orders at seq 5, the stock at 7, the session at 7. The socket resumes
        // from 5; the stock table skips what it already shows.
        let (orders, on_orders) = recorder();
        live.follow(5, on_orders, || {});
        let (stock, on_stock) = recorder();
        live.follow(7, on_stock, || {});
        live.start(7, Vec::new());
        assert_eq!(live.last_seq.get_untracked(), 5);
        for seq in [6, 7, 7, 8] {
            live.apply(&event(seq));
        }
        assert_eq!(*orders.lock().expect("lock"), [6, 7, 8], "in order, once each");
        assert_eq!(*stock.lock().expect("lock"), [8]);

        // A page loaded later, with data as of 6: the buffer hands it 7 and 8 at once.
        let (detail, on_detail) = recorder();
        live.follow(6, on_detail, || {});
        assert_eq!(*detail.lock().expect("lock"), [7, 8]);

        // A page whose data is as of 8 ignores nothing new and gets what follows.
        let (shop, on_shop) = recorder();
        live.follow(8, on_shop, || {});
        live.apply(&event(9));
        assert_eq!(*shop.lock().expect("lock"), [9]);
        assert_eq!(*orders.lock().expect("lock"), [6, 7, 8, 9]);
    }

    #[test]
    fn a_page_older_than_the_replay_buffer_reloads_instead() {
        let owner = Owner::new();
        owner.set();
        let live = Live::provide();
        live.start(0, Vec::new());
        for seq in 1..=(REPLAY_BUFFER as i64 + 10) {
            live.apply(&event(seq));
        }
        let reloads = Arc::new(AtomicUsize::new(0));
        let r = reloads.clone();
        let (seen, on_event) = recorder();
        live.follow(5, on_event, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(reloads.load(Ordering::SeqCst), 1);
        assert!(seen.lock().expect("lock").is_empty(), "no partial replay with a gap in it");

        // Within the buffer: replayed, no reload.
        let (recent, on_recent) = recorder();
        live.follow(REPLAY_BUFFER as i64 + 8, on_recent, || panic!("no reload needed"));
        assert_eq!(*recent.lock().expect("lock"), [REPLAY_BUFFER as i64 + 9, REPLAY_BUFFER as i64 + 10]);
    }

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
