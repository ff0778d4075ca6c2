//! What every request leaves for the operators: a `request` span with a random id (sent back
//! as `X-Request-Id`), one log line when it is answered, and its latency in the histogram of
//! its route; and `GET /metrics`, the Prometheus exposition of [`crate::metrics::Metrics`].
//!
//! `/metrics` speaks OpenMetrics to a reader that asks for it (Prometheus does) and the
//! classic text format to others (curl, `promtool check metrics`).
//!
//! `/metrics` answers only the loopback and the blocks in `Config::metrics_allow`: the counts
//! tell an outsider how busy the server is, how many resets and lockouts it sees and whether
//! its directory fails, which helps time an attack; Prometheus scrapes each replica directly
//! from the monitoring network. The address checked is the client's as the edge resolved it,
//! so a request relayed by a trusted reverse proxy is judged by its real client, never by the
//! proxy's loopback address.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::metrics::RouteLabel;
use crate::state::AppState;

/// The header carrying the request id back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The route label of a request no route matched (never its path: anyone can choose paths,
/// and each would become a series).
const UNMATCHED: &str = "unmatched";

/// The content type of the OpenMetrics text `prometheus-client` writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of the classic Prometheus text format (version 0.0.4).
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The middleware: a span with a fresh request id around the request, the answer's status
/// and duration logged and its latency counted by route pattern.
pub async fn requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = crate::logging::request_id();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    state
        .metrics()
        .request_seconds
        .get_or_create(&RouteLabel {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// `GET /metrics`: the counters, to the loopback and the allowed blocks only (`404` to
/// others, as if there were no such page).
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    // No client address (a router driven without the edge): nobody to allow.
    let allowed = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(client)| client.ip().to_canonical())
        .is_some_and(|ip| {
            ip.is_loopback() || state.config().metrics_allow.iter().any(|c| c.contains(ip))
        });
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Prometheus asks for OpenMetrics in its Accept header; other readers (curl, promtool,
    // older scrapers) get the classic text format, which is what they parse.
    let openmetrics = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let text = state.metrics().encode();
    if openmetrics {
        ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
    } else {
        ([(header::CONTENT_TYPE, CLASSIC)], classic(&text)).into_response()
    }
}

/// The OpenMetrics text in the classic format: a counter's family is named with its
/// `_total` suffix in `# HELP` and `# TYPE` (OpenMetrics names the family without it), and
/// the `# EOF` and `# UNIT` lines, which the classic format does not have, are left out.
fn classic(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_counter_family_takes_its_total_name_in_the_classic_format() {
        let open = "# HELP a_x Things.\n# TYPE a_x counter\na_x_total 2\n\
                    # HELP a_g Now.\n# TYPE a_g gauge\na_g 1\n# EOF\n";
        assert_eq!(
            super::classic(open),
            "# HELP a_x_total Things.\n# TYPE a_x_total counter\na_x_total 2\n\
             # HELP a_g Now.\n# TYPE a_g gauge\na_g 1\n"
        );
    }
}
