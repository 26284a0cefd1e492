//! The addresses the server refuses to connect to when an admin gives it one (a device's status
//! URL, a webhook): the rule, and the name resolver that applies it to every connection.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// An address the server never connects to for an address an admin gives (a device, a webhook):
/// a link-local, unspecified, multicast or broadcast address, so that such a URL cannot make
/// the server reach other hosts' services (such as a cloud metadata service).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RefusedAddress {
    /// The host the URL names (an address or a host name).
    pub host: String,
    /// The refused address it is or resolves to.
    pub ip: IpAddr,
    /// What kind of address that is.
    pub kind: RefusedKind,
}

/// The kinds of address no device or webhook receiver has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedKind {
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
}

impl fmt::Display for RefusedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefusedKind::LinkLocal => {
                "a link-local address (169.254.0.0/16 or fe80::/10, where cloud metadata services \
                 answer)"
            }
            RefusedKind::Unspecified => "an unspecified address (0.0.0.0/8 or ::)",
            RefusedKind::Multicast => "a multicast address (224.0.0.0/4 or ff00::/8)",
            RefusedKind::Broadcast => "the broadcast address (255.255.255.255)",
        })
    }
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let literal = host.parse::<IpAddr>().is_ok_and(|ip| ip == self.ip);
        if literal {
            write!(f, "{} is ", self.ip)?;
        } else {
            write!(f, "{host} resolves to {}, ", self.ip)?;
        }
        if let IpAddr::V6(v6) = self.ip
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            write!(f, "the IPv4-mapped form of {v4}, ")?;
        }
        write!(f, "{}", self.kind)
    }
}

/// The kind of `ip` when no device or receiver can have it; `None` for any other address
/// (loopback and private addresses included: devices and receivers live on private networks).
pub fn refused_kind(ip: IpAddr) -> Option<RefusedKind> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            if v6.is_unspecified() {
                Some(RefusedKind::Unspecified)
            } else if v6.is_unicast_link_local() {
                Some(RefusedKind::LinkLocal)
            } else if v6.is_multicast() {
                Some(RefusedKind::Multicast)
            } else {
                None
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<RefusedKind> {
    if ip.octets()[0] == 0 {
        Some(RefusedKind::Unspecified)
    } else if ip.is_link_local() {
        Some(RefusedKind::LinkLocal)
    } else if ip.is_multicast() {
        Some(RefusedKind::Multicast)
    } else if ip.is_broadcast() {
        Some(RefusedKind::Broadcast)
    } else {
        None
    }
}

/// `addrs`, what `host` resolved to, when none of them is refused.
pub fn checked(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, RefusedAddress> {
    match addrs
        .iter()
        .find_map(|addr| refused_kind(addr.ip()).map(|kind| (addr.ip(), kind)))
    {
        Some((ip, kind)) => Err(RefusedAddress {
            host: host.to_owned(),
            ip,
            kind,
        }),
        None => Ok(addrs),
    }
}

/// The name resolver of the clients that reach addresses an admin gave: the system's, refusing a name when any of its addresses is
/// refused. It runs for every connection, so a name that resolves to another address later
/// (DNS rebinding) is refused then.
pub struct CheckedResolver;

/// A name that does not resolve.
#[derive(Debug, thiserror::Error)]
#[error("the host name {0} does not resolve")]
pub struct UnknownHost(pub String);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| UnknownHost(host.clone()))?
                .collect();
            if addrs.is_empty() {
                return Err(UnknownHost(host).into());
            }
            let addrs = checked(&host, addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<RefusedKind> {
        refused_kind(ip.parse().unwrap())
    }

    #[test]
    fn addresses_no_device_has_are_refused_in_every_form() {
        for (ip, expected) in [
            ("169.254.169.254", RefusedKind::LinkLocal),
            ("169.254.0.1", RefusedKind::LinkLocal),
            ("fe80::1", RefusedKind::LinkLocal),
            ("febf::1", RefusedKind::LinkLocal),
            ("0.0.0.0", RefusedKind::Unspecified),
            ("0.1.2.3", RefusedKind::Unspecified),
            ("::", RefusedKind::Unspecified),
            ("224.0.0.1", RefusedKind::Multicast),
            ("239.255.255.250", RefusedKind::Multicast),
            ("ff02::1", RefusedKind::Multicast),
            ("255.255.255.255", RefusedKind::Broadcast),
            ("::ffff:169.254.169.254", RefusedKind::LinkLocal),
            ("::ffff:0.0.0.0", RefusedKind::Unspecified),
            ("::ffff:224.0.0.1", RefusedKind::Multicast),
            ("::ffff:255.255.255.255", RefusedKind::Broadcast),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn loopback_private_and_public_device_addresses_are_allowed() {
        for ip in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.20",
            "100.64.0.1",
            "fd00::5",
            "203.0.113.7",
            "2001:db8::7",
            "169.253.255.255",
            "169.255.0.1",
            "fec0::1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn devices_named_by_host_are_refused_when_any_address_of_theirs_is() {
        let addr = |text: &str| -> SocketAddr { text.parse().unwrap() };
        let good = vec![addr("10.0.0.5:0"), addr("[fd00::5]:0")];
        assert_eq!(checked("ips.lan", good.clone()), Ok(good));

        let mixed = vec![addr("10.0.0.5:0"), addr("169.254.169.254:0")];
        let refused = checked("ips.lan", mixed).unwrap_err();
        assert_eq!(refused.kind, RefusedKind::LinkLocal);
        assert_eq!(refused.ip, addr("169.254.169.254:0").ip());
        let words = refused.to_string();
        assert!(
            words.starts_with("ips.lan resolves to 169.254.169.254, a link-local address"),
            "{words}"
        );
    }

    #[test]
    fn a_refused_address_says_what_it_is() {
        let refused = RefusedAddress {
            host: "[::ffff:a9fe:a9fe]".into(),
            ip: "::ffff:169.254.169.254".parse().unwrap(),
            kind: RefusedKind::LinkLocal,
        };
        assert_eq!(
            refused.to_string(),
            "::ffff:169.254.169.254 is the IPv4-mapped form of 169.254.169.254, a link-local \
             address (169.254.0.0/16 or fe80::/10, where cloud metadata services answer)"
        );
    }
}
