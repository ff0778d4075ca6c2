//! The client's address behind trusted reverse proxies (`X-Forwarded-For` or RFC 7239
//! `Forwarded`), and the CIDR blocks that say which peers are trusted.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// The header the trusted proxies name the client in. Only one is read: a proxy passes the
/// other through as the client sent it, so reading both would let a client choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx's `$proxy_add_x_forwarded_for`).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

impl FromStr for ProxyHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err("x-forwarded-for or forwarded".into()),
        }
    }
}

/// A block of addresses, `192.0.2.0/24` or `2001:db8::/32` (a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// A CIDR block that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("not an address block like 10.0.0.0/8 or 2001:db8::/32")]
pub struct CidrError;

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, CidrError> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| CidrError)?
            .to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| CidrError)?,
            None => bits,
        };
        if prefix > bits {
            return Err(CidrError);
        }
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// True if `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let masked = |bits: u128, width: u8| {
            let shift = width - self.prefix;
            if shift >= 128 { 0 } else { bits >> shift }
        };
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32) == masked(u32::from(ip).into(), 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128) == masked(u128::from(ip), 128)
            }
            _ => false,
        }
    }
}

/// The address to treat as the client's: the TCP peer, unless the peer is a trusted proxy;
/// then the right-most address in the proxy header that is not itself a trusted proxy.
/// Addresses left of that one were written by the client and are ignored.
pub fn client_addr(
    peer: SocketAddr,
    headers: &HeaderMap,
    trusted: &[Cidr],
    header: ProxyHeader,
) -> SocketAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|cidr| cidr.contains(ip));
    if !is_trusted(peer.ip()) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match header {
        ProxyHeader::XForwardedFor => headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("").split(','))
            .map(parse_node)
            .collect(),
        ProxyHeader::Forwarded => headers
            .get_all("forwarded")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("").split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect(),
    };
    // Walking from the proxy next to us outwards; a hop that does not parse (a header
    // value not written by our proxies) ends the walk at the last trusted hop.
    let mut client = peer.ip();
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return SocketAddr::new(ip.to_canonical(), 0),
            None => break,
        }
    }
    SocketAddr::new(client.to_canonical(), 0)
}

/// One node of either header: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `"[2001:db8::1]"`, `2001:db8::1`; `unknown` and obfuscated names are `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name, value.parse().unwrap());
        }
        map
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn cidr_blocks_contain_their_addresses() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.0.1".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert!(host.contains("127.0.0.1".parse().unwrap()));
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        for bad in ["10.0.0.0/33", "::/129", "ten", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let trusted = cidrs(&["10.0.0.0/24"]);
        let xff = ProxyHeader::XForwardedFor;
        let seen = |map: &HeaderMap| client_addr(proxy, map, &trusted, xff).ip().to_string();
        let spoofed = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7"]);
        assert_eq!(seen(&spoofed), "198.51.100.7");
        let chained = headers("x-forwarded-for", &["198.51.100.7", "10.0.0.9"]);
        assert_eq!(seen(&chained), "198.51.100.7");
        assert_eq!(seen(&HeaderMap::new()), "10.0.0.5");
        let garbage = headers("x-forwarded-for", &["198.51.100.7, nonsense"]);
        assert_eq!(seen(&garbage), "10.0.0.5");
        // From a peer that is not trusted the header is not read at all.
        let direct: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        assert_eq!(client_addr(direct, &spoofed, &trusted, xff), direct);
        // Only the configured header counts.
        let other = headers("forwarded", &["for=6.6.6.6"]);
        assert_eq!(seen(&other), "10.0.0.5");
    }

    #[test]
    fn forwarded_elements_name_the_client_in_for() {
        let proxy: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let trusted = cidrs(&["2001:db8::/64"]);
        let map = headers(
            "forwarded",
            &["for=192.0.2.60;proto=https;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""],
        );
        let seen = client_addr(proxy, &map, &trusted, ProxyHeader::Forwarded);
        assert_eq!(seen.ip().to_string(), "2001:db8:cafe::17");
        let unknown = headers("forwarded", &["for=unknown"]);
        let seen = client_addr(proxy, &unknown, &trusted, ProxyHeader::Forwarded);
        assert_eq!(seen.ip(), proxy.ip());
    }
}
