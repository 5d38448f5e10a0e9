//! The session protocol against any sequence of client messages, valid or not, over a real
//! socket: the server answers, never drops the connection for it, never panics, and changes no
//! data. (The message decoder, the hub and the order state machine have their own property
//! tests next to their code.)

use crate::common::*;
use crate::ws::*;
use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        (1i64..6).prop_map(|n| format!("order:{n}")),
        (1i64..4).prop_map(|n| format!("catalog:{n}")),
        (1i64..4).prop_map(|n| format!("shop:{n}")),
        (1i64..8).prop_map(|n| format!("user:{n}")),
        Just("admin".to_owned()),
        Just("broadcast".to_owned()),
        Just("order:0".to_owned()),
        Just("order:99999999999999999999".to_owned()),
        ".{0,16}",
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let json_msg = prop_oneof![
        (prop::option::of(-5i64..1_000), prop::collection::vec(topic(), 0..4))
            .prop_map(|(last_seq, topics)| json!({"type": "resume", "last_seq": last_seq, "topics": topics})),
        topic().prop_map(|topic| json!({"type": "subscribe", "topic": topic})),
        topic().prop_map(|topic| json!({"type": "unsubscribe", "topic": topic})),
        any::<u32>().prop_map(|id| json!({"type": "ping", "id": id})),
        (".{0,10}", any::<i64>()).prop_map(|(kind, n)| json!({"type": kind, "topic": n})),
        Just(json!({"type": "resume"})),
        Just(json!([1, 2, 3])),
    ];
    prop_oneof![
        4 => json_msg.prop_map(|v| Message::text(v.to_string())),
        1 => ".{0,64}".prop_map(Message::text),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(Message::binary),
    ]
}

#[test]
fn any_sequence_of_client_messages_is_answered_and_changes_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start());
    let tokens: Vec<String> = rt.block_on(async {
        let mut t = Vec::new();
        for who in [ALICE, BAKER, ADMIN] {
            t.push(server.login(who).await);
        }
        t
    });
    let before = rt.block_on(server.fingerprint());
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    runner
        .run(&((0usize..3), prop::collection::vec(message(), 1..12)), |(who, messages)| {
            rt.block_on(async {
                let mut ws = try_connect(&server, Auth::Bearer(&tokens[who]), "").await.expect("upgrade");
                for msg in messages {
                    ws.send_raw(msg).await;
                }
                // Still open, and everything sent before the ping was handled: its pong comes
                // after the answers to all of them.
                let before_pong = ws.ping(4_000_000_000).await;
                for answer in &before_pong {
                    let kind = answer["type"].as_str().unwrap_or_default();
                    prop_assert!(!kind.is_empty(), "an answer without a type: {}", answer);
                    if kind == "error" {
                        prop_assert!(answer["code"].as_str().is_some_and(|c| c != "internal"), "{}", answer);
                    }
                }
                // Closed and gone before the next case (each user may hold only so many sockets).
                let _ = ws.stream.close(None).await;
                while let Some(Ok(_)) = ws.stream.next().await {}
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // The shopkeeper's connections come and go (presence events); nothing else may change.
    let without_presence =
        |f: String| f.lines().filter(|l| !l.ends_with(":user_connected") && !l.ends_with(":user_disconnected")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_presence(before), without_presence(rt.block_on(server.fingerprint())), "no client message changes data");
}
