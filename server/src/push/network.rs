//! Where the server may post a push: push services are on the internet, and an endpoint is
//! whatever URL a signed-in user gave us. Without this, any user could make the server post to
//! this machine or its private network (its admin ports, a cloud metadata service).
//!
//! Two checks, because a URL can hide where it leads: a subscription naming a private host or
//! address is refused when it is made (a clear error for the user), and the push client's own
//! resolver drops private addresses, so a public name that resolves to a private address, or
//! starts to later, still goes nowhere. The client follows no redirects, which would bypass
//! the resolver with a literal address. `--push-allow-http` (a push service on a private
//! network, and the tests') turns both checks off.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// An address on the internet: not this machine, not a private, link-local, shared or
/// documentation network.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, 100.64.0.0/10
                || a >= 240)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                    || (v6.segments()[0] & 0xffc0) == 0xfe80) // link-local
            }
        },
    }
}

/// Whether the URL names `localhost` or a non-public address outright.
pub fn names_a_private_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return true };
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// The push client: its own user agent, no redirects, and (unless `allow_private`) a resolver
/// that keeps public addresses only.
pub fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("ordercast/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if allow_private {
        builder.build()
    } else {
        builder.dns_resolver(Arc::new(PublicOnly)).build()
    }
}

/// The system's resolver, less every non-public address; a name left with none fails.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public = resolve_public(&host).await?;
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

async fn resolve_public(host: &str) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    // The port is replaced by the connector; 443 only makes the lookup well-formed.
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 443)).await?.collect();
    let public: Vec<SocketAddr> = found.iter().copied().filter(|a| is_public(a.ip())).collect();
    if public.is_empty() {
        return Err(format!("{host} resolves to no public address ({} private ones dropped)", found.len()).into());
    }
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for ip in ["8.8.8.8", "142.250.1.1", "2a00:1450:4001::200e", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
            "192.0.2.1", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_naming_private_hosts() {
        let private = |u: &str| names_a_private_host(&reqwest::Url::parse(u).unwrap());
        assert!(private("https://localhost/push"));
        assert!(private("https://api.localhost./push"));
        assert!(private("https://127.0.0.1:8443/push"));
        assert!(private("https://[::1]/push"));
        assert!(private("https://[fd12::3]/push"));
        assert!(!private("https://fcm.googleapis.com/fcm/send/abc"));
        assert!(!private("https://8.8.8.8/push"));
    }

    /// A name that resolves only to private addresses (here `localhost`, from /etc/hosts: no
    /// network needed) leaves the resolver with nothing, so nothing is sent.
    #[tokio::test]
    async fn the_resolver_drops_private_addresses() {
        let err = resolve_public("localhost").await.unwrap_err();
        assert!(err.to_string().contains("no public address"), "{err}");
    }

    /// And the client refuses to connect, before any byte leaves for the private address.
    #[tokio::test]
    async fn the_client_does_not_reach_this_machine_by_name() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        // Were the resolver not used, this would connect and then wait for an answer that
        // never comes: the time limit turns that into a failure instead of a hang.
        let refused = client(false).unwrap().post(format!("http://localhost:{port}/push")).send();
        let err = tokio::time::timeout(std::time::Duration::from_secs(30), refused)
            .await
            .expect("the request to a private address was refused, not left waiting")
            .unwrap_err();
        assert!(err.is_connect(), "{err}");
        // With private addresses allowed (the tests' fake push service) the same request connects.
        let _ = client(true).unwrap().post(format!("http://localhost:{port}/push")).send().await;
        assert!(accepted.await.unwrap(), "the allowed client reached the listener");
    }
}
