//! The client's address, behind as many trusted proxies as configured.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::base::server::state::AppState;

/// The client's address: the connection's peer, or behind trusted proxies the entry
/// `FOLIO_TRUSTED_PROXY_HOPS` from the right of `X-Forwarded-For` (see [`forwarded_client`]).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let hops = state.config.auth.trusted_proxy_hops;
        let client = forwarded_client(&parts.headers, hops).or(peer);
        Ok(ClientIp(
            client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        ))
    }
}

/// The client address that `hops` trusted proxies report in `X-Forwarded-For`.
///
/// Each proxy appends the address it was connected from, so the entries on the right are the
/// ones trusted proxies wrote, and everything further left is whatever the client sent. All
/// the header's lines are read in order as one list (a proxy may add a line of its own rather
/// than extend the last one), and the entry `hops` from the right is the client. With fewer
/// entries than that, or an entry that is not an address, nothing is trusted: `None`, and the
/// caller takes the connection's peer.
pub fn forwarded_client(headers: &HeaderMap, hops: u32) -> Option<std::net::IpAddr> {
    let hops = usize::try_from(hops).ok().filter(|&h| h > 0)?;
    // As bytes: whatever the client put on the left must not keep the right from being read.
    let mut entries: Vec<&[u8]> = Vec::new();
    for line in headers.get_all("x-forwarded-for") {
        entries.extend(
            line.as_bytes()
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii),
        );
    }
    let entry = entries.len().checked_sub(hops).map(|i| entries[i])?;
    let entry = std::str::from_utf8(entry).ok()?;
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_client_is_the_entry_as_many_hops_from_the_right_over_all_lines() {
        let mut headers = HeaderMap::new();
        // The client's own line first, then the line HAProxy adds with `option forwardfor`.
        headers.append("x-forwarded-for", "6.6.6.6, 7.7.7.7".parse().unwrap());
        headers.append("x-forwarded-for", "198.51.100.4".parse().unwrap());
        let ip = |hops| forwarded_client(&headers, hops).map(|ip| ip.to_string());
        assert_eq!(ip(1).as_deref(), Some("198.51.100.4"));
        assert_eq!(ip(2).as_deref(), Some("7.7.7.7"));
        assert_eq!(ip(0), None, "no trusted proxy: the header is not read");
        assert_eq!(
            ip(4),
            None,
            "fewer entries than proxies: nothing is trusted"
        );

        let mut one = HeaderMap::new();
        one.insert(
            "x-forwarded-for",
            "2001:db8::1, not-an-address".parse().unwrap(),
        );
        assert_eq!(forwarded_client(&one, 1), None);
        assert_eq!(
            forwarded_client(&one, 2)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("2001:db8::1")
        );
        let mut foreign = HeaderMap::new();
        foreign.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 6.6.6.6").unwrap(),
        );
        foreign.append("x-forwarded-for", "198.51.100.4".parse().unwrap());
        assert_eq!(
            forwarded_client(&foreign, 1)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("198.51.100.4"),
            "bytes the client sent do not hide the proxy's entry"
        );
        one.insert("x-forwarded-for", "203.0.113.7:4711".parse().unwrap());
        assert_eq!(
            forwarded_client(&one, 1)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("203.0.113.7")
        );
    }
}
