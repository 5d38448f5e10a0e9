//! A WebSocket test client: connect the way browsers and API clients do, and read messages
//! with a deadline (a deadline only turns a hang into a failure; no test waits on it).

use crate::common::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `hello` message.
    pub hello: Value,
}

/// How a connection authenticates.
pub enum Auth<'a> {
    Bearer(&'a str),
    Query(&'a str),
    Subprotocol(&'a str),
    Cookie { token: &'a str, origin: Option<&'a str> },
    None,
}

/// Opens a socket; `Err` carries the HTTP status of a refused upgrade.
pub async fn try_connect(server: &TestServer, auth: Auth<'_>, query: &str) -> Result<Ws, StatusCode> {
    let mut url = format!("{}?{}", server.ws_url(), query);
    if let Auth::Query(token) = auth {
        url.push_str(&format!("&token={token}"));
    }
    let mut req = url.into_client_request().expect("request");
    let headers = req.headers_mut();
    match auth {
        Auth::Bearer(t) => {
            headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {t}")).unwrap());
        }
        Auth::Subprotocol(t) => {
            headers.insert("sec-websocket-protocol", HeaderValue::from_str(&format!("ordercast, bearer.{t}")).unwrap());
        }
        Auth::Cookie { token, origin } => {
            headers.insert("cookie", HeaderValue::from_str(&format!("ordercast_session={token}")).unwrap());
            if let Some(o) = origin {
                headers.insert("origin", HeaderValue::from_str(o).unwrap());
            }
        }
        Auth::Query(_) | Auth::None => {}
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((stream, _)) => {
            let mut ws = Ws { stream, hello: Value::Null };
            ws.hello = ws.next().await;
            assert_eq!(ws.hello["type"], "hello", "{}", ws.hello);
            Ok(ws)
        }
        Err(Error::Http(res)) => Err(res.status()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// Connects with a bearer token and goes live at once (`resume` from now).
pub async fn live(server: &TestServer, token: &str) -> Ws {
    let mut ws = try_connect(server, Auth::Bearer(token), "").await.expect("upgrade");
    ws.send(json!({"type": "resume", "last_seq": null})).await;
    let resumed = ws.next().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    ws
}

impl Ws {
    pub async fn send(&mut self, msg: Value) {
        self.stream.send(Message::text(msg.to_string())).await.expect("send");
    }

    pub async fn send_raw(&mut self, msg: Message) {
        self.stream.send(msg).await.expect("send");
    }

    /// The next JSON message (server pings are answered by the library and skipped).
    pub async fn next(&mut self) -> Value {
        self.next_within(DEADLINE).await
    }

    /// The next JSON message, allowing `deadline` for it (for work that takes long on a busy
    /// machine, such as OCR).
    pub async fn next_within(&mut self, deadline: Duration) -> Value {
        loop {
            let msg = tokio::time::timeout(deadline, self.stream.next())
                .await
                .expect("no message within the deadline")
                .expect("socket ended")
                .expect("socket error");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Reads until the close frame; returns its code and all JSON messages before it.
    pub async fn until_close(&mut self) -> (Option<CloseCode>, Vec<Value>) {
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(DEADLINE, self.stream.next()).await;
            let Ok(next) = next else { panic!("no close within the deadline after {} messages", seen.len()) };
            match next {
                Some(Ok(Message::Text(t))) => seen.push(serde_json::from_str(t.as_str()).expect("JSON")),
                Some(Ok(Message::Close(frame))) => return (frame.map(|f| f.code), seen),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (None, seen),
            }
        }
    }

    /// Round-trips a ping: proves the connection is open and everything sent before it arrived.
    pub async fn ping(&mut self, id: u64) -> Vec<Value> {
        self.send(json!({"type": "ping", "id": id})).await;
        let mut before = Vec::new();
        loop {
            let msg = self.next().await;
            if msg["type"] == "pong" && msg["id"] == id {
                return before;
            }
            before.push(msg);
        }
    }

    /// Every event received before the notification with this text (a barrier: events arrive
    /// in `seq` order, so anything meant for this socket before the barrier has arrived by then).
    pub async fn events_until(&mut self, barrier: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let msg = self.next().await;
            if msg["type"] == "notification" && msg["data"]["text"] == barrier {
                return events;
            }
            if msg.get("seq").is_some() {
                events.push(msg);
            }
        }
    }
}

/// The event types in a list of events.
pub fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Like [`live`], but with a 4 KiB receive buffer, so that a client that stops reading backs
/// up into the server's queue quickly.
pub async fn live_small_buffer(server: &TestServer, token: &str) -> Ws {
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().expect("addr");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(addr).await.expect("tcp connect");
    let mut req = server.ws_url().into_client_request().expect("request");
    req.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let (stream, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp)).await.expect("upgrade");
    let mut ws = Ws { stream, hello: Value::Null };
    ws.hello = ws.next().await;
    ws.send(json!({"type": "resume", "last_seq": null})).await;
    assert_eq!(ws.next().await["type"], "resumed");
    ws
}
