//! Where the cloud may send a carrier's webhooks: only to public addresses.
//! A webhook pointed at the cloud's own network (the metadata service at
//! 169.254.169.254, `localhost`, private ranges) would let whoever sets it make
//! the cloud call inside its own walls. The check runs when the URL is
//! registered and again at every delivery, on the addresses the name resolves
//! to then (so a name that later resolves inside is refused too), and
//! redirects are never followed. `webhooks_allow_private` lifts it for a test
//! or an on-premises setup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..=127).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// Why a webhook URL is refused, in a sentence naming the URL's part at fault.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("webhook URL must start with http:// or https://".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("webhook URL must not carry a user name or password".into());
    }
    let Some(host) = parsed.host_str() else {
        return Err("webhook URL has no host".into());
    };
    if !allow_private {
        let literal = if host.eq_ignore_ascii_case("localhost")
            || host.to_ascii_lowercase().ends_with(".localhost")
        {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        } else {
            literal_ip(host)
        };
        if let Some(ip) = literal.filter(|ip| !is_public(*ip)) {
            return Err(format!(
                "webhook URL points at {ip}, which is not a public address"
            ));
        }
    }
    Ok(parsed)
}

fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// [`check_url`], and the host's name must resolve to public addresses only.
pub async fn check_url_resolved(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = check_url(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    if let Some(name) = parsed.host_str().filter(|h| literal_ip(h).is_none()) {
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("webhook URL: cannot resolve {name}: {e}"))?
            .collect();
        if let Some(inside) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "webhook URL: {name} resolves to {}, which is not a public address",
                inside.ip()
            ));
        }
    }
    Ok(())
}

/// Resolves names to their public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if all.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to an address that is not public").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(all.into_iter());
            Ok(addrs)
        })
    }
}

/// The client webhooks are sent with: no redirects, public addresses only
/// (unless `allow_private`), a 10 s limit.
pub fn client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(PublicOnly))
    };
    builder.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_to_inside_addresses_are_refused_unless_allowed() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost:8080/hook",
            "http://[::1]/hook",
            "http://10.0.0.5/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("ftp://example.org/hook", true).is_err());
        assert!(check_url("https://user:pw@example.org/hook", false).is_err());
        assert!(check_url("https://hooks.example.org/doorstep", false).is_ok());
    }
}
