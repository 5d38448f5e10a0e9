//! The WebSocket protocol at `GET /ws`: one enum for what clients send, one for what the
//! server sends, shared by the server and the WASM client. JSON text frames, tagged by `type`.
//! `docs/PROTOCOL.md` has an example of every message.

use crate::domain::{EventType, Topic};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Client → server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Follow an order (`order:<id>`) or a shop's public catalogue (`catalog:<id>`).
    Subscribe { topic: Topic },
    Unsubscribe { topic: Topic },
    /// Answered with `pong` carrying the same `id`.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// Replay every event after `last_seq` for this connection's topics, then continue live.
    /// Must be the first message of a connection; `last_seq: null` means "from now on".
    Resume {
        last_seq: Option<i64>,
        /// Topics to follow before the replay, so their missed events are replayed too.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        topics: Vec<Topic>,
    },
}

/// Server → client control messages. Events travel as [`EventEnvelope`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlMessage {
    /// Sent once when the connection opens: who it is for, its automatic topics, and the
    /// newest `seq` at that moment.
    Hello { user_id: i64, topics: Vec<Topic>, seq: i64 },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    Subscribed { topic: Topic },
    Unsubscribed { topic: Topic, #[serde(default, skip_serializing_if = "Option::is_none")] reason: Option<String> },
    /// The replay after `resume` is complete: everything up to `seq` has been sent.
    Resumed { seq: i64, replayed: u64 },
    /// The events after the client's `last_seq` are no longer kept: reload data over REST
    /// (which gives a fresh `seq`) and resume from there.
    ResyncRequired { oldest_seq: i64, seq: i64 },
    Error { code: SocketErrorCode, message: String },
}

/// Stable codes of `error` messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketErrorCode {
    /// The frame was not valid JSON or not a known message.
    BadMessage,
    /// The frame was binary; only JSON text frames are understood.
    BinaryNotSupported,
    /// Not allowed to follow that topic.
    Forbidden,
    /// No such order or shop.
    NotFound,
    TooManySubscriptions,
    RateLimited,
    /// `resume` came after other messages.
    ResumeNotFirst,
    Internal,
}

/// An event as delivered: `type` is the event type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub seq: i64,
    /// The topic through which this connection receives the event.
    pub topic: Topic,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub at: DateTime<Utc>,
    pub data: Payload,
}

/// An event's `data`, kept as the JSON text it came as. Whoever reads an event decodes the
/// part it needs straight into its own type ([`Payload::decode`]): in the WASM, every type
/// decoded by way of a `serde_json::Value` was a second copy of its decoder, and the page
/// decoded each event twice.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<RawValue>);

impl Payload {
    /// The payload of a server-side event, which keeps it as a `Value`.
    pub fn from_value(value: &serde_json::Value) -> Payload {
        // A `Value` always serialises; `null` (the default) stands in should that ever change.
        Payload(serde_json::value::to_raw_value(value).unwrap_or_default())
    }

    /// The payload as `T`, or `None` when it is not one (an event from a newer server).
    pub fn decode<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.0.get()).ok()
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// Anything the server sends: on the wire an object whose `type` is either a control
/// message's or an event's (the two sets of names are disjoint).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ServerMessage {
    Control(ControlMessage),
    Event(EventEnvelope),
}

impl ServerMessage {
    /// Decodes a frame. By its `type` first, then as the one message that names: not as an
    /// untagged enum, which buffers the whole frame and tries each kind in turn (and cannot
    /// keep an event's payload as text).
    pub fn from_json(text: &str) -> Result<ServerMessage, serde_json::Error> {
        #[derive(Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", borrow)]
            kind: Cow<'a, str>,
        }
        let Kind { kind } = serde_json::from_str(text)?;
        if EventType::ALL.iter().any(|t| t.as_str() == kind) {
            serde_json::from_str(text).map(ServerMessage::Event)
        } else {
            ControlMessage::from_json(&kind, text).map(ServerMessage::Control)
        }
    }
}

impl ControlMessage {
    /// Decodes a control message whose `type` is `kind`: the fields of every kind read as one
    /// flat object, then those this kind needs taken from it. (Serde's decoder for an
    /// internally tagged enum buffers the object in its generic form first: that machinery
    /// was 2 % of the WASM, for seven small messages.)
    fn from_json(kind: &str, text: &str) -> Result<ControlMessage, serde_json::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Fields {
            user_id: Option<i64>,
            topics: Option<Vec<Topic>>,
            seq: Option<i64>,
            id: Option<u64>,
            topic: Option<Topic>,
            reason: Option<String>,
            replayed: Option<u64>,
            oldest_seq: Option<i64>,
            code: Option<SocketErrorCode>,
            message: Option<String>,
        }
        fn needs<T>(field: Option<T>, name: &'static str) -> Result<T, serde_json::Error> {
            field.ok_or_else(|| serde_json::Error::missing_field(name))
        }
        let f: Fields = serde_json::from_str(text)?;
        Ok(match kind {
            "hello" => ControlMessage::Hello {
                user_id: needs(f.user_id, "user_id")?,
                topics: needs(f.topics, "topics")?,
                seq: needs(f.seq, "seq")?,
            },
            "pong" => ControlMessage::Pong { id: f.id },
            "subscribed" => ControlMessage::Subscribed { topic: needs(f.topic, "topic")? },
            "unsubscribed" => ControlMessage::Unsubscribed { topic: needs(f.topic, "topic")?, reason: f.reason },
            "resumed" => ControlMessage::Resumed { seq: needs(f.seq, "seq")?, replayed: needs(f.replayed, "replayed")? },
            "resync_required" => {
                ControlMessage::ResyncRequired { oldest_seq: needs(f.oldest_seq, "oldest_seq")?, seq: needs(f.seq, "seq")? }
            }
            "error" => ControlMessage::Error { code: needs(f.code, "code")?, message: needs(f.message, "message")? },
            other => return Err(serde_json::Error::unknown_variant(other, Self::KINDS)),
        })
    }

    /// Every control message's `type`.
    pub const KINDS: &'static [&'static str] =
        &["hello", "pong", "subscribed", "unsubscribed", "resumed", "resync_required", "error"];
}

/// Close codes the server uses (4000–4999 are application codes).
pub mod close {
    /// The connection's outbound queue overflowed: reconnect and `resume`.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// Nothing heard from the client for two heartbeat intervals.
    pub const IDLE_TIMEOUT: u16 = 4000;
    /// The session ended (signed out, disabled); reconnecting needs a new sign-in.
    pub const SESSION_ENDED: u16 = 4001;
    /// Too many protocol violations or messages.
    pub const POLICY: u16 = 1008;
    /// The server is shutting down; reconnect and `resume`.
    pub const GOING_AWAY: u16 = 1001;
    /// A message or frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// A frame that breaks RFC 6455 (unmasked, reserved bits or opcodes, bad fragmentation,
    /// an oversized or malformed control frame, an invalid close code).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message or close reason that is not valid UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// The server failed (e.g. lost its database); reconnect and `resume`.
    pub const INTERNAL: u16 = 1011;
}

/// Why the server ends a live connection, whatever the transport. Each has the close code and
/// reason a WebSocket sends; other transports say the same in their own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disconnect {
    /// The transport failed (reset, write timeout): nothing more can be sent.
    Gone,
    /// The client closed; the transport answers its close in kind.
    ClosedByClient,
    /// The client broke the transport's protocol.
    ProtocolError,
    /// The client sent text that is not valid UTF-8.
    InvalidData,
    /// The session was signed out or expired.
    SessionEnded,
    /// The user was disabled.
    Disabled,
    /// The outbound queue overflowed.
    SlowConsumer,
    /// No answer to heartbeats.
    Idle,
    /// The server is shutting down.
    ShuttingDown,
    /// Too many messages, or refused at registration.
    Policy(&'static str),
    /// A message over the size limit.
    TooBig,
    /// The server cannot serve this connection now.
    Internal,
}

impl Disconnect {
    /// The close code and reason, or `None` when no close frame can be sent.
    pub fn close(self) -> Option<(u16, &'static str)> {
        Some(match self {
            Disconnect::Gone | Disconnect::ClosedByClient => return None,
            Disconnect::ProtocolError => (close::PROTOCOL_ERROR, "protocol error"),
            Disconnect::InvalidData => (close::INVALID_DATA, "invalid UTF-8"),
            Disconnect::SessionEnded => (close::SESSION_ENDED, "your session ended: sign in again"),
            Disconnect::Disabled => (close::SESSION_ENDED, "your account was disabled"),
            Disconnect::SlowConsumer => (close::SLOW_CONSUMER, "too slow: reconnect and resume"),
            Disconnect::Idle => (close::IDLE_TIMEOUT, "no answer to pings"),
            Disconnect::ShuttingDown => (close::GOING_AWAY, "server shutting down"),
            Disconnect::Policy(reason) => (close::POLICY, reason),
            Disconnect::TooBig => (close::TOO_BIG, "message too big: the limit is 64 KiB"),
            Disconnect::Internal => (close::INTERNAL, "internal error"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_messages_parse_from_their_documented_form() {
        let cases = [
            (json!({"type": "subscribe", "topic": "order:7"}), ClientMessage::Subscribe { topic: Topic::Order(7) }),
            (json!({"type": "unsubscribe", "topic": "catalog:2"}), ClientMessage::Unsubscribe { topic: Topic::Catalog(2) }),
            (json!({"type": "ping", "id": 3}), ClientMessage::Ping { id: Some(3) }),
            (json!({"type": "ping"}), ClientMessage::Ping { id: None }),
            (json!({"type": "resume", "last_seq": 41}), ClientMessage::Resume { last_seq: Some(41), topics: vec![] }),
            (json!({"type": "resume", "last_seq": null}), ClientMessage::Resume { last_seq: None, topics: vec![] }),
            (
                json!({"type": "resume", "last_seq": 7, "topics": ["catalog:1"]}),
                ClientMessage::Resume { last_seq: Some(7), topics: vec![Topic::Catalog(1)] },
            ),
        ];
        for (wire, msg) in cases {
            assert_eq!(serde_json::from_value::<ClientMessage>(wire.clone()).unwrap(), msg, "{wire}");
            assert_eq!(serde_json::to_value(&msg).unwrap()["type"], wire["type"]);
        }
    }

    #[test]
    fn unknown_or_malformed_client_messages_are_refused() {
        for bad in [
            json!({"type": "shout"}),
            json!({"type": "subscribe"}),
            json!({"type": "subscribe", "topic": "order:x"}),
            json!({"type": "subscribe", "topic": "order:1", "extra": true}),
            json!({"topic": "order:1"}),
            json!([1, 2]),
        ] {
            assert!(serde_json::from_value::<ClientMessage>(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_and_control_messages_are_told_apart_by_type() {
        let event = ServerMessage::Event(EventEnvelope {
            event_type: EventType::OrderUpdated,
            seq: 9,
            topic: Topic::User(3),
            at: DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().with_timezone(&Utc),
            data: Payload::from_value(&json!({"order": {"id": 1}})),
        });
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["type"], "order_updated");
        assert_eq!(wire["topic"], "user:3");
        assert_eq!(wire["data"], json!({"order": {"id": 1}}));
        assert_eq!(ServerMessage::from_json(&wire.to_string()).unwrap(), event);

        let pong = ServerMessage::Control(ControlMessage::Pong { id: Some(1) });
        let wire = serde_json::to_value(&pong).unwrap();
        assert_eq!(wire, json!({"type": "pong", "id": 1}));
        assert_eq!(ServerMessage::from_json(&wire.to_string()).unwrap(), pong);

        for bad in [json!({"type": "order_updated", "seq": 1}), json!({"type": "shout"}), json!({"seq": 1}), json!([1])] {
            assert!(ServerMessage::from_json(&bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_and_event_names_are_disjoint() {
        for t in EventType::ALL {
            assert!(!ControlMessage::KINDS.contains(&t.as_str()), "{}", t.as_str());
        }
    }

    #[test]
    fn every_control_message_decodes_as_serde_would_and_needs_its_fields() {
        let topic = Topic::Shop(2);
        let all = [
            ControlMessage::Hello { user_id: 3, topics: vec![Topic::User(3), topic], seq: 7 },
            ControlMessage::Pong { id: None },
            ControlMessage::Pong { id: Some(4) },
            ControlMessage::Subscribed { topic },
            ControlMessage::Unsubscribed { topic, reason: None },
            ControlMessage::Unsubscribed { topic, reason: Some("access_revoked".into()) },
            ControlMessage::Resumed { seq: 9, replayed: 2 },
            ControlMessage::ResyncRequired { oldest_seq: 5, seq: 9 },
            ControlMessage::Error { code: SocketErrorCode::RateLimited, message: "slow down".into() },
        ];
        let mut kinds = Vec::new();
        for message in all {
            let wire = serde_json::to_string(&message).unwrap();
            assert_eq!(serde_json::from_str::<ControlMessage>(&wire).unwrap(), message, "{wire}");
            assert_eq!(ServerMessage::from_json(&wire).unwrap(), ServerMessage::Control(message.clone()), "{wire}");
            let kind = serde_json::from_str::<serde_json::Value>(&wire).unwrap()["type"].as_str().unwrap().to_owned();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        assert_eq!(kinds, ControlMessage::KINDS);
        for bad in [
            json!({"type": "hello", "user_id": 3, "seq": 1}),
            json!({"type": "resumed", "seq": 1}),
            json!({"type": "error", "code": "no_such_code", "message": "m"}),
            json!({"type": "subscribed", "topic": "nowhere:1"}),
        ] {
            assert!(ServerMessage::from_json(&bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_payload_decodes_into_the_type_asked_for() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Stock {
            stock: i64,
        }
        let payload = Payload::from_value(&json!({"stock": 4, "name": "tea"}));
        assert_eq!(payload.decode::<Stock>(), Some(Stock { stock: 4 }));
        assert_eq!(payload.decode::<Vec<i64>>(), None);
    }
}

/// Property tests of the decoder: whatever a client sends, decoding returns a message or an
/// error, never a panic; and every message a client can send survives the wire unchanged.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn topic() -> impl Strategy<Value = Topic> {
        prop_oneof![
            (1..i64::MAX).prop_map(Topic::User),
            (1..i64::MAX).prop_map(Topic::Shop),
            (1..i64::MAX).prop_map(Topic::Order),
            (1..i64::MAX).prop_map(Topic::Catalog),
            Just(Topic::Admin),
            Just(Topic::Broadcast),
        ]
    }

    pub(crate) fn client_message() -> impl Strategy<Value = ClientMessage> {
        prop_oneof![
            topic().prop_map(|topic| ClientMessage::Subscribe { topic }),
            topic().prop_map(|topic| ClientMessage::Unsubscribe { topic }),
            any::<Option<u64>>().prop_map(|id| ClientMessage::Ping { id }),
            (any::<Option<i64>>(), prop::collection::vec(topic(), 0..4))
                .prop_map(|(last_seq, topics)| ClientMessage::Resume { last_seq, topics }),
        ]
    }

    /// JSON of any shape, with the message's keys and types mixed in often enough to reach
    /// the decoder's deeper branches.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            prop_oneof![
                Just("subscribe".to_owned()),
                Just("resume".to_owned()),
                Just("ping".to_owned()),
                Just("order:7".to_owned()),
                Just("order:-1".to_owned()),
                ".{0,12}"
            ]
            .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec(
                    (prop_oneof![Just("type"), Just("topic"), Just("last_seq"), Just("topics"), Just("id"), Just("extra")], inner),
                    0..4
                )
                .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_text_decodes_to_a_message_or_an_error(text in ".{0,200}") {
            let _ = serde_json::from_str::<ClientMessage>(&text);
        }

        #[test]
        fn any_json_decodes_to_a_message_or_an_error(value in json()) {
            if let Ok(msg) = serde_json::from_value::<ClientMessage>(value.clone()) {
                // What decodes, encodes back to the same meaning.
                let again: ClientMessage = serde_json::from_value(serde_json::to_value(&msg).unwrap()).unwrap();
                prop_assert_eq!(again, msg);
            }
        }

        #[test]
        fn every_client_message_survives_the_wire(msg in client_message()) {
            let text = serde_json::to_string(&msg).unwrap();
            prop_assert_eq!(serde_json::from_str::<ClientMessage>(&text).unwrap(), msg);
        }

        #[test]
        fn any_text_is_a_topic_or_a_clear_error(text in ".{0,40}") {
            match text.parse::<Topic>() {
                Ok(topic) => prop_assert_eq!(topic.to_string().parse::<Topic>().unwrap(), topic),
                Err(e) => prop_assert!(e.to_string().contains("unknown topic")),
            }
        }
    }
}
