//! `GET /healthz` and `GET /readyz`, for a load balancer, an orchestrator or a monitor.
//!
//! `/healthz` says the process is alive and serving (`200 {"status":"ok"}`, no check): a
//! supervisor restarts a server that stops answering it, and must not restart every replica
//! because the shared database or the directory is down.
//!
//! `/readyz` says whether this server can do its work now: its store must answer
//! ([`Store::ready`] and a read), its directory must answer as the service account
//! (`Directory::health`), and its signing key must sign (a probe signature that verifies).
//! `200` when all do, `503` otherwise, with a JSON body naming each part,
//! `{"status":"ok","store":"ok","directory":"ok","signing_key":"ok"}`; a load balancer takes a
//! replica out of rotation on `503`. The causes go to the log, never into the answer (anyone
//! can ask, and a directory's error can name its hosts and accounts).
//!
//! Anyone can ask, so a check is not a directory bind per request: a report is reused for
//! one second, and one check runs at a time (others wait for it and share its report).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::state::AppState;
use crate::store::Store;

/// How long a report is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// The longest the directory's check may take here, in case an implementation does not bound
/// its own (they do, by their operation timeout).
const DIRECTORY_LIMIT: Duration = Duration::from_secs(10);

/// The setting read to see that the store answers (any read would do; this one always exists
/// once `serve` ran, and a missing one is an answer too).
const PROBE_SETTING: &str = "public_url";

/// One part's state in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// It answered.
    Ok,
    /// It failed or did not answer in time (the cause is in the log).
    Unavailable,
}

/// The answer of `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `ok` when every part is.
    pub status: Part,
    /// The store (SQLite or PostgreSQL).
    pub store: Part,
    /// The directory (the built-in store, Active Directory or LDAP).
    pub directory: Part,
    /// The server's signing key (challenges and enrollment answers are signed with it).
    pub signing_key: Part,
}

/// What the signing key's probe signs (never sent anywhere).
const PROBE_MESSAGE: &[u8] = b"cityauth readiness probe";

/// The last report and when it was made, shared by the requests of one router.
#[derive(Default)]
pub struct Cache(Mutex<Option<(Instant, Report)>>);

impl Cache {
    /// A fresh cache, for one router.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

/// The `/healthz` handler: alive.
pub async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

/// The `/readyz` handler.
pub async fn readyz(state: AppState, cache: Arc<Cache>) -> Response {
    let report = {
        let mut last = cache.0.lock().await;
        match *last {
            Some((at, report)) if at.elapsed() < FRESH_FOR => report,
            _ => {
                let report = check(&state).await;
                *last = Some((Instant::now(), report));
                report
            }
        }
    };
    let status = match report.status {
        Part::Ok => StatusCode::OK,
        Part::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(report)).into_response()
}

/// Checks the store, the directory and the signing key now, logging what failed.
pub async fn check(state: &AppState) -> Report {
    let store = check_store(state.store());
    let directory = check_directory(state).await;
    let signing_key = check_signing_key(state);
    let status = if [store, directory, signing_key]
        .iter()
        .all(|p| *p == Part::Ok)
    {
        Part::Ok
    } else {
        Part::Unavailable
    };
    Report {
        status,
        store,
        directory,
        signing_key,
    }
}

fn check_store(store: &dyn Store) -> Part {
    // `ready` is the store's own check (a connection answers); the read also sees a SQLite
    // file destroyed under a connection that is still open.
    match store.ready().and_then(|()| store.setting(PROBE_SETTING)) {
        Ok(_) => Part::Ok,
        Err(error) => {
            tracing::warn!(%error, "readiness: the store failed");
            Part::Unavailable
        }
    }
}

fn check_signing_key(state: &AppState) -> Part {
    let key = state.signing_key();
    match key.sign(PROBE_MESSAGE) {
        Ok(signature) if key.public_key().verify(PROBE_MESSAGE, &signature) => Part::Ok,
        _ => {
            tracing::warn!("readiness: the signing key does not sign");
            Part::Unavailable
        }
    }
}

/// The directory's own check, bounded by [`DIRECTORY_LIMIT`].
async fn check_directory(state: &AppState) -> Part {
    match tokio::time::timeout(DIRECTORY_LIMIT, state.directory().health()).await {
        Ok(Ok(())) => Part::Ok,
        Ok(Err(error)) => {
            state.metrics().directory_errors.inc();
            tracing::warn!(%error, "readiness: the directory failed");
            Part::Unavailable
        }
        Err(_) => {
            state.metrics().directory_errors.inc();
            tracing::warn!("readiness: the directory did not answer in time");
            Part::Unavailable
        }
    }
}
