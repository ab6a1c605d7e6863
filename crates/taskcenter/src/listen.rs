//! The listen address as people write it: `IP:PORT`, `HOST:PORT` (resolved), or `:PORT`
//! for every interface, as Go's `net/http` and most servers read it.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};

use anyhow::{Context, bail};

/// The address to bind for `text`. `:PORT` means all IPv4 interfaces (`0.0.0.0:PORT`); a
/// host name is resolved and its first IPv4 address is taken (else its first address),
/// so `localhost:8081` binds the loopback interface.
pub fn resolve(text: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Some(port) = text.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .with_context(|| format!("listen address {text:?}: bad port"))?;
        return Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if !text.contains(':') {
        bail!("listen address {text:?}: expected HOST:PORT, IP:PORT or :PORT");
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .with_context(|| format!("listen address {text:?}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .with_context(|| format!("listen address {text:?}: the host has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_port() -> anyhow::Result<()> {
        assert_eq!(
            resolve("127.0.0.1:8081")?,
            SocketAddr::from(([127, 0, 0, 1], 8081))
        );
        assert_eq!(resolve("[::1]:9000")?.to_string(), "[::1]:9000");
        Ok(())
    }

    #[test]
    fn bare_port_binds_every_interface() -> anyhow::Result<()> {
        assert_eq!(resolve(":8081")?, SocketAddr::from(([0, 0, 0, 0], 8081)));
        assert_eq!(resolve(":0")?.port(), 0);
        Ok(())
    }

    #[test]
    fn host_names_are_resolved() -> anyhow::Result<()> {
        let addr = resolve("localhost:8081")?;
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), 8081);
        Ok(())
    }

    #[test]
    fn bad_addresses_are_refused() {
        for bad in [
            "",
            "8081",
            ":",
            ":http",
            ":99999",
            "localhost",
            "127.0.0.1:x",
        ] {
            assert!(resolve(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
