//! `GET /healthz`: whether the server can do its work now, for a load balancer or a monitor.
//! Its store must answer a read and its directory must answer as the service account
//! (`Directory::health`). `200` when both do, `503` otherwise, with a JSON body naming each
//! part, `{"status":"ok","store":"ok","directory":"ok"}`; the causes go to the log, never
//! into the answer (anyone can ask, and a directory's error can name its hosts and accounts).
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

use crate::directory::Directory;
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

/// The answer of `/healthz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `ok` when every part is.
    pub status: Part,
    /// The store (SQLite).
    pub store: Part,
    /// The directory (the built-in store, Active Directory or LDAP).
    pub directory: Part,
}

/// The last report and when it was made, shared by the requests of one router.
#[derive(Default)]
pub struct Cache(Mutex<Option<(Instant, Report)>>);

impl Cache {
    /// A fresh cache, for one router.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

/// The `/healthz` handler.
pub async fn healthz(state: AppState, cache: Arc<Cache>) -> Response {
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

/// Checks the store and the directory now, logging what failed.
pub async fn check(state: &AppState) -> Report {
    let store = check_store(state.store());
    let directory = check_directory(state.directory()).await;
    let status = if store == Part::Ok && directory == Part::Ok {
        Part::Ok
    } else {
        Part::Unavailable
    };
    Report {
        status,
        store,
        directory,
    }
}

fn check_store(store: &dyn Store) -> Part {
    match store.setting(PROBE_SETTING) {
        Ok(_) => Part::Ok,
        Err(error) => {
            crate::log(&format!("health: the store failed: {error}"));
            Part::Unavailable
        }
    }
}

/// The directory's own check, bounded by [`DIRECTORY_LIMIT`].
async fn check_directory(directory: &dyn Directory) -> Part {
    match tokio::time::timeout(DIRECTORY_LIMIT, directory.health()).await {
        Ok(Ok(())) => Part::Ok,
        Ok(Err(error)) => {
            crate::log(&format!("health: the directory failed: {error}"));
            Part::Unavailable
        }
        Err(_) => {
            crate::log("health: the directory did not answer in time");
            Part::Unavailable
        }
    }
}
