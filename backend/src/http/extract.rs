//! Extractors for who is asking: the logged-in user, an admin, the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use shared::api::{CLIENT_HEADER, PageQuery};

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::service::AuthenticatedUser;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sms_session";

/// The user of a valid session; otherwise the request is answered 401 `not_logged_in`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub AuthenticatedUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or(ApiError::NotLoggedIn)?;
        let user = state
            .auth
            .authenticate(&token)
            .await?
            .ok_or(ApiError::NotLoggedIn)?;
        Ok(CurrentUser(user))
    }
}

/// A state change by an admin: a valid session (401), the admin role (403 `admin_required`)
/// and the `X-SMS-Client` header (403 `client_header_missing`), checked in that order.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthenticatedUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if !user.role.is_admin() {
            return Err(ApiError::AdminRequired);
        }
        require_client_header(&parts.headers)?;
        Ok(Admin(user))
    }
}

/// The client's IP address, for the audit log and the login throttle: the peer's, or what a
/// trusted proxy says in `X-Forwarded-For` (see [`client_address`]).
#[derive(Debug, Clone)]
pub struct Source(pub Option<String>);

impl FromRequestParts<AppState> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_address(parts);
        let trusted = &state.config.http.trusted_proxies;
        Ok(Source(
            client_address(peer, &parts.headers, trusted).map(|ip| ip.to_string()),
        ))
    }
}

/// The address of the connection's other end.
pub fn peer_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&address))
}

/// Where a request comes from: the peer, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it got the request from, so everything left of that is the client's
/// own claim). An entry that is not an address ends the walk at the hop before it.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            break;
        };
        client = address.to_canonical();
        if !is_trusted(client, trusted) {
            break;
        }
    }
    Some(client)
}

/// Whether the browser reached a trusted TLS-terminating proxy over HTTPS.
pub fn forwarded_https(parts_peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    parts_peer.is_some_and(|peer| is_trusted(peer, trusted))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Whether the request came over HTTPS: the server itself speaks TLS, or a trusted proxy
/// says the browser reached it over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Https(
            state.config.transport.is_tls()
                || forwarded_https(
                    peer_address(parts),
                    &parts.headers,
                    &state.config.http.trusted_proxies,
                ),
        ))
    }
}

/// State changes must carry `X-SMS-Client`: a cross-site form cannot set it, so it stops CSRF.
pub fn require_client_header(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(CLIENT_HEADER) {
        Some(value) if !value.is_empty() => Ok(()),
        _ => Err(ApiError::ClientHeaderMissing),
    }
}

/// The session token from the `Cookie` header(s).
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// The page and page size a listing's query asks for (`?page=&per_page=`), `per_page`
/// defaulting to `default_per_page`; out of range is a 400 `invalid_query` that says why.
pub fn page_of(query: PageQuery, default_per_page: u64) -> Result<(u64, u64), ApiError> {
    query
        .checked(default_per_page)
        .map_err(|message| ApiError::BadRequest {
            code: "invalid_query",
            message,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(Some(ip("192.0.2.1")), &headers, &trusted),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            client_address(Some(ip("192.0.2.1")), &headers, &[]),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_are_skipped() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client claimed 1.1.1.1; the outer proxy saw 203.0.113.9; an inner proxy 10.0.0.2.
        let headers = forwarded("1.1.1.1, 203.0.113.9, 10.0.0.2");
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &headers, &trusted),
            Some(ip("203.0.113.9"))
        );
        let garbage = forwarded("nonsense");
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), &garbage, &trusted),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn https_is_believed_from_trusted_proxies_only() {
        let trusted: Vec<IpNet> = vec!["10.0.0.1/32".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(forwarded_https(Some(ip("10.0.0.1")), &headers, &trusted));
        assert!(!forwarded_https(Some(ip("10.0.0.2")), &headers, &trusted));
    }
}
