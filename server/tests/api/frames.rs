//! RFC 6455 at the frame level, against the real `/ws`: a raw TCP client that writes exactly
//! the bytes under test (a WebSocket library would refuse to send most of them) and checks that
//! every connection ends with the right close frame, followed by the server closing TCP cleanly
//! (end of stream, not a reset that would destroy the close frame).

use crate::common::{TestServer, ALICE};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A deadline per read: it only turns a hang into a failure.
const DEADLINE: Duration = Duration::from_secs(10);

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;

/// One frame from the server.
#[derive(Debug)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// A client frame: masked unless `masked` is false, with `rsv` in the three reserved bits.
fn frame(fin: bool, rsv: u8, opcode: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

impl Raw {
    /// Upgrades `/ws` by hand and reads `hello`.
    async fn connect(server: &TestServer, token: &str) -> Raw {
        let addr = server.base.trim_start_matches("http://").to_owned();
        let mut tcp = TcpStream::connect(&addr).await.expect("tcp connect");
        let request = format!(
            "GET /ws?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("write handshake");
        let mut raw = Raw { tcp, buf: Vec::new() };
        let end = loop {
            if let Some(at) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(raw.fill().await > 0, "connection closed during the handshake");
        };
        let head = String::from_utf8_lossy(&raw.buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455 §1.3's example key and its answer.
        assert!(head.to_ascii_lowercase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "{head}");
        raw.buf.drain(..end);
        let hello = raw.message().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        raw
    }

    /// Reads more bytes; 0 at the end of the stream. A reset fails the test: it would have
    /// destroyed whatever the server sent last.
    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(DEADLINE, self.tcp.read(&mut chunk))
            .await
            .expect("nothing from the server within the deadline")
            .expect("the server reset the connection instead of closing it");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// The next frame from the server, or `None` at the end of the stream.
    async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            if self.fill().await == 0 {
                assert!(self.buf.is_empty(), "the stream ended inside a frame");
                return None;
            }
        }
    }

    /// The next text message as JSON (pings skipped).
    async fn message(&mut self) -> Value {
        loop {
            let frame = self.frame().await.expect("a message, not the end of the stream");
            match frame.opcode {
                TEXT => return serde_json::from_slice(&frame.payload).expect("JSON"),
                PING => continue,
                other => panic!("unexpected frame {other:#x}: {:?}", String::from_utf8_lossy(&frame.payload)),
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.expect("write");
    }

    /// Reads up to the server's close frame (skipping messages) and then to the end of the
    /// stream, which must follow without the client's answer: after a protocol error the server
    /// shuts its side at once (and answering a close that echoed ours could race the server's
    /// end of the socket). Returns the close payload.
    async fn until_close(&mut self) -> Vec<u8> {
        let payload = loop {
            let frame = self.frame().await.expect("a close frame before the end of the stream");
            assert!(frame.fin, "the server does not fragment");
            if frame.opcode == CLOSE {
                break frame.payload;
            }
        };
        while let Some(after) = self.frame().await {
            panic!("a frame after the close: {after:?}");
        }
        payload
    }

    /// The close code the server sent (`None` for an empty close).
    async fn close_code(&mut self) -> Option<u16> {
        let payload = self.until_close().await;
        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
    }
}

/// A complete server frame at the start of `buf`, and its length.
fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    assert_eq!(buf[1] & 0x80, 0, "server frames are not masked");
    let (len, mut at) = match buf[1] & 0x7f {
        126 => (u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize, 10),
        n => (n as usize, 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    at += len;
    Some((Frame { fin: buf[0] & 0x80 != 0, opcode: buf[0] & 0x0f, payload }, at))
}

#[tokio::test]
async fn a_clients_close_is_answered_in_kind_then_the_server_closes_tcp() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    for code in [Some(1000u16), Some(3000), Some(4000), None] {
        let mut raw = Raw::connect(&s, &alice).await;
        let payload = code.map(|c| close_payload(c, b"bye")).unwrap_or_default();
        raw.send(&frame(true, 0, CLOSE, true, &payload)).await;
        let echoed = loop {
            let f = raw.frame().await.expect("the server's close");
            if f.opcode == CLOSE {
                break f.payload;
            }
        };
        let echoed_code = (echoed.len() >= 2).then(|| u16::from_be_bytes([echoed[0], echoed[1]]));
        assert_eq!(echoed_code, code, "the close is echoed with the client's code");
        assert!(raw.frame().await.is_none(), "then the server ends the stream");
    }
}

#[tokio::test]
async fn protocol_violations_are_answered_with_1002_and_bad_utf8_with_1007() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let ping = |payload: &[u8]| frame(true, 0, PING, true, payload);
    let text = |fin: bool, payload: &[u8]| frame(fin, 0, TEXT, true, payload);
    let more = |fin: bool, payload: &[u8]| frame(fin, 0, CONTINUATION, true, payload);
    let close = |payload: &[u8]| frame(true, 0, CLOSE, true, payload);
    let invalid_utf8: &[u8] = b"caf\xc3\x28";
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("an unmasked frame", frame(true, 0, TEXT, false, br#"{"type":"ping"}"#), 1002),
        ("reserved bits set", frame(true, 0b100, TEXT, true, br#"{"type":"ping"}"#), 1002),
        ("reserved data opcode 0x3", frame(true, 0, 0x3, true, b""), 1002),
        ("reserved control opcode 0xB", frame(true, 0, 0xB, true, b""), 1002),
        ("a continuation with nothing to continue", more(true, b"x"), 1002),
        ("a fragmented ping", frame(false, 0, PING, true, b"x"), 1002),
        ("a new message inside a fragmented one", [text(false, b"{"), text(true, b"}")].concat(), 1002),
        ("a 126-byte ping", ping(&[b'p'; 126]), 1002),
        ("a 1-byte close payload", close(b"\x03"), 1002),
        ("close code 1005", close(&close_payload(1005, b"")), 1002),
        ("close code 999", close(&close_payload(999, b"")), 1002),
        ("close code 1016", close(&close_payload(1016, b"")), 1002),
        ("close code 5000", close(&close_payload(5000, b"")), 1002),
        ("a 126-byte close reason", close(&close_payload(1000, &[b'r'; 124])), 1002),
        ("invalid UTF-8 in a text frame", text(true, invalid_utf8), 1007),
        ("invalid UTF-8 across fragments", [text(false, b"caf\xc3"), more(true, b"\x28")].concat(), 1007),
        ("invalid UTF-8 in a close reason", close(&close_payload(1000, invalid_utf8)), 1007),
    ];
    // After the bad frame, more frames the server will not read as frames: it must still take
    // them in, or closing would reset the connection and lose its close frame.
    let trailing: Vec<u8> = (0..256).flat_map(|_| text(true, &[b'x'; 120])).collect();
    for (what, bytes, expected) in cases {
        let mut raw = Raw::connect(&s, &alice).await;
        raw.send(&[bytes, trailing.clone()].concat()).await;
        assert_eq!(raw.close_code().await, Some(expected), "{what}");
    }
}

#[tokio::test]
async fn an_oversized_message_is_closed_with_1009_and_the_close_arrives() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    // One frame over the limit, and the same size split into fragments.
    let big = vec![b'x'; 70 * 1024];
    let split = [frame(false, 0, TEXT, true, &big[..40 * 1024]), frame(true, 0, CONTINUATION, true, &big[40 * 1024..])].concat();
    for bytes in [frame(true, 0, TEXT, true, &big), split] {
        let mut raw = Raw::connect(&s, &alice).await;
        raw.send(&bytes).await;
        assert_eq!(raw.close_code().await, Some(1009));
    }
}

#[tokio::test]
async fn a_flooding_client_reads_every_answer_and_the_1008_close() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let mut raw = Raw::connect(&s, &alice).await;
    // Far past the rate limit (a burst of 40, then 100 refusals), written before reading any
    // answer: the answers and the close must all arrive, not be lost to a reset.
    const SENT: usize = 400;
    let burst: Vec<u8> = (0..SENT).flat_map(|i| frame(true, 0, TEXT, true, format!(r#"{{"type":"ping","id":{i}}}"#).as_bytes())).collect();
    raw.send(&burst).await;
    let mut answers = 0;
    let payload = loop {
        let f = raw.frame().await.expect("the close frame before the end of the stream");
        match f.opcode {
            TEXT => answers += 1,
            CLOSE => break f.payload,
            _ => {}
        }
    };
    let _ = raw.tcp.write_all(&frame(true, 0, CLOSE, true, &payload)).await;
    assert!(raw.frame().await.is_none());
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1008);
    assert!(answers >= 140, "every message before the limit was answered ({answers})");
}

#[tokio::test]
async fn a_plain_request_to_the_socket_address_is_told_to_upgrade() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let res = reqwest::Client::new().get(format!("{}/ws", s.base)).bearer_auth(&alice).send().await.expect("request");
    assert_eq!(res.status().as_u16(), 426);
    assert_eq!(res.headers()["upgrade"], "websocket");
    let body: Value = res.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "upgrade_required", "{body}");
}
