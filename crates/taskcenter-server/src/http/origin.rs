//! Refuses what a web page on another site could make a browser do to a server without a
//! token: change state from a foreign `Origin`, or reach a loopback server under a foreign
//! `Host` name (DNS rebinding). Callers that send no `Origin` (servers, curl, scripts) pass.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::service::Service;

/// The middleware: checks the `Host` of every request and the origin of state changes.
pub async fn guard(
    State(svc): State<Arc<Service>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check(svc.config(), req.method(), req.headers())?;
    Ok(next.run(req).await)
}

/// `Ok` when the request may go on.
pub fn check(config: &ServerConfig, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    if config.listen.ip().is_loopback()
        && let Some(host) = host
        && !host_allowed(host, &config.allowed_hosts)
    {
        return Err(ApiError::Forbidden(format!(
            "host {host:?} is not this server's name; a reverse proxy's name is allowed \
             with --allow-host"
        )));
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(());
    }
    match headers.get(ORIGIN).map(|v| v.to_str().unwrap_or("")) {
        Some(origin) => {
            if origin_allowed(origin, host, &config.allowed_origins) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!(
                    "cross-origin request from {origin:?} refused; allow that origin with \
                     --allow-origin"
                )))
            }
        }
        None if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site")) =>
        {
            Err(ApiError::Forbidden(
                "cross-site request refused; allow its origin with --allow-origin".into(),
            ))
        }
        None => Ok(()),
    }
}

/// The name part of a `Host` value, lowercase: `[::1]:8081` is `::1`, `a.b:80` is `a.b`.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Loopback names and addresses, and the names allowed by configuration.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host) || host_name(a) == name)
}

/// `scheme://authority` of an origin with the scheme's default port left out, lowercase.
fn authority_of(origin: &str) -> Option<(String, String)> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.trim_end_matches('/').to_ascii_lowercase();
    let authority = match scheme.as_str() {
        "http" => authority.strip_suffix(":80").map(str::to_string),
        "https" => authority.strip_suffix(":443").map(str::to_string),
        _ => None,
    }
    .unwrap_or(authority);
    Some((scheme, authority))
}

/// The server's own origin (the one its `Host` names), or one allowed by configuration.
fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let Some((scheme, authority)) = authority_of(origin) else {
        return false; // `null` (sandboxed pages, files) and anything unreadable
    };
    let listed = allowed
        .iter()
        .any(|a| a == "*" || authority_of(a).is_some_and(|(s, au)| s == scheme && au == authority));
    let own = host.is_some_and(|h| {
        let h = h.trim().to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        h.strip_suffix(default_port).unwrap_or(&h) == authority
    });
    listed || own
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn config(listen: &str, origins: &[&str], hosts: &[&str]) -> ServerConfig {
        ServerConfig {
            listen: listen.parse().expect("address"),
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            ..ServerConfig::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    #[test]
    fn same_origin_and_originless_posts_pass() {
        let c = config("127.0.0.1:8081", &[], &[]);
        let own = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:8081"),
        ]);
        assert!(check(&c, &Method::POST, &own).is_ok());
        let curl = headers(&[("host", "127.0.0.1:8081")]);
        assert!(check(&c, &Method::POST, &curl).is_ok());
        let default_port = headers(&[("host", "localhost"), ("origin", "http://localhost:80")]);
        assert!(check(&c, &Method::POST, &default_port).is_ok());
    }

    #[test]
    fn foreign_origins_are_refused_unless_allowed() {
        let c = config("127.0.0.1:8081", &["https://ops.example"], &[]);
        let evil = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check(&c, &Method::POST, &evil).is_err());
        assert!(check(&c, &Method::GET, &evil).is_ok());
        let null = headers(&[("host", "127.0.0.1:8081"), ("origin", "null")]);
        assert!(check(&c, &Method::DELETE, &null).is_err());
        let other_port = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(check(&c, &Method::POST, &other_port).is_err());
        let ops = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "https://OPS.example/"),
        ]);
        assert!(check(&c, &Method::POST, &ops).is_ok());
        let fetch = headers(&[("host", "127.0.0.1:8081"), ("sec-fetch-site", "cross-site")]);
        assert!(check(&c, &Method::POST, &fetch).is_err());
    }

    #[test]
    fn a_loopback_server_answers_only_its_own_names() {
        let c = config("127.0.0.1:8081", &[], &["tasks.internal"]);
        for ok in [
            "localhost:8081",
            "127.0.0.1",
            "[::1]:8081",
            "app.localhost",
            "tasks.internal:443",
        ] {
            assert!(
                check(&c, &Method::GET, &headers(&[("host", ok)])).is_ok(),
                "{ok}"
            );
        }
        let rebound = headers(&[("host", "evil.example:8081")]);
        assert!(check(&c, &Method::GET, &rebound).is_err());
        let public = config("0.0.0.0:8081", &[], &[]);
        assert!(check(&public, &Method::GET, &rebound).is_ok());
    }
}
