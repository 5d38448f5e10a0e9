//! Who is on the other end: the client's address behind a load balancer we trust.
//!
//! The sign-in throttle counts failures per client address. Behind nginx (docs/nginx.conf)
//! every request comes from the proxy's address, so all clients would share one count, and
//! anyone could lock everyone out by failing sign-ins from anywhere. With `--trusted-proxy`,
//! a request whose peer is one of those proxies is taken to come from the address the proxy
//! saw: the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries to
//! its left are whatever the client sent, so they are never believed. Like nginx's `realip`
//! module, this rewrites the request's `ConnectInfo`, so every handler (the API's sign-in, the
//! sign-in page's server function) sees the client, with nothing to remember at each one.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Default)]
pub struct TrustedProxies(Arc<[IpAddr]>);

impl TrustedProxies {
    pub fn new(proxies: &[IpAddr]) -> Self {
        TrustedProxies(proxies.iter().map(|ip| ip.to_canonical()).collect())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }

    /// The client's address, given the peer's and the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        // Walk back from the proxy nearest to us; the first address not ours is the client.
        // An entry that does not parse ends the walk: nothing left of it can be believed.
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }
}

/// Middleware: replaces the peer address with the client's (see the module's doc).
pub async fn resolve(State(proxies): State<TrustedProxies>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = proxies.client(peer.ip(), req.headers());
        if client != peer.ip() {
            req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_as_far_as_the_first_stranger() {
        let proxies = TrustedProxies::new(&[ip("127.0.0.1"), ip("10.0.0.2")]);
        // Straight from a client: its own address, whatever it claims.
        assert_eq!(proxies.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])), ip("203.0.113.9"));
        // Through the proxy: the address nginx appended (the last one).
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers(&["203.0.113.9"])), ip("203.0.113.9"));
        // A client that sends its own header cannot choose its address: nginx appends the real one.
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers(&["1.2.3.4, 203.0.113.9"])), ip("203.0.113.9"));
        // Two proxies of ours in a row; headers split over several lines.
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers(&["1.2.3.4, 203.0.113.9", "10.0.0.2"])), ip("203.0.113.9"));
        // Nothing forwarded, or nonsense: the nearest address we know.
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers(&[])), ip("127.0.0.1"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &headers(&["203.0.113.9, garbage"])), ip("127.0.0.1"));
        // IPv4 seen as IPv6 (a dual-stack listener) is the same address.
        assert_eq!(proxies.client(ip("::ffff:127.0.0.1"), &headers(&["2001:db8::7"])), ip("2001:db8::7"));
        // No proxies configured: nobody's header is believed.
        assert_eq!(TrustedProxies::default().client(ip("127.0.0.1"), &headers(&["203.0.113.9"])), ip("127.0.0.1"));
    }
}
