//! Running the server: on a listener (async), or on a background thread (blocking callers).

use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::State;
use tokio::sync::oneshot;

use crate::state::AppState;

/// The whole application: the API's routes, the portal's, `/healthz`, `/readyz` and
/// `/metrics`, with the state. Every request runs in a span with a request id and is timed
/// (`crate::observe`), passes the cross-site and content-type checks before any handler runs,
/// flow requests the browser binding, and every answer gets the security headers.
pub fn router(state: AppState) -> Router {
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    let ready = crate::health::Cache::new();
    crate::api::router()
        .merge(crate::portal::router())
        .route("/healthz", get(crate::health::healthz))
        .route(
            "/readyz",
            get(move |State(state): State<AppState>| crate::health::readyz(state, ready.clone())),
        )
        .route("/metrics", get(crate::observe::metrics))
        .layer(from_fn_with_state(
            state.clone(),
            crate::portal::bind_api_flows,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            crate::portal::refuse_cross_site,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            crate::portal::security_headers,
        ))
        // The request's language, for every page rendered inside (the refusals above too).
        .layer(axum::middleware::from_fn(crate::i18n::scope))
        // Outermost: the span and the clock cover the checks above too.
        .layer(from_fn_with_state(state.clone(), crate::observe::requests))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` resolves, with the timeouts, connection cap and
/// trusted proxies of the state's configuration (`crate::edge`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let edge = state.config().edge.clone();
    crate::edge::run(listener, router(state), edge, shutdown).await
}

/// How long a stopping server waits for requests in flight.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A server running on a background thread; stopped by [`RunningServer::stop`] or drop.
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's state (for in-process administration).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Binds `addr` (e.g. `127.0.0.1:0`) and serves on a background thread with its own runtime.
pub fn spawn(addr: SocketAddr, state: AppState) -> std::io::Result<RunningServer> {
    spawn_on(std::net::TcpListener::bind(addr)?, state)
}

/// Serves on an already bound listener, on a background thread. Binding first lets a caller
/// learn the port (for the public URL in the state's configuration) without a race.
pub fn spawn_on(
    listener: std::net::TcpListener,
    state: AppState,
) -> std::io::Result<RunningServer> {
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // Store calls block their worker briefly (one SQLite connection behind a mutex):
        // a few more workers than cores keep the network moving meanwhile.
        .worker_threads(4)
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread_state = state.clone();
    let thread = std::thread::Builder::new()
        .name("cityauth-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let (graceful, graceful_signal) = oneshot::channel::<()>();
                let server = tokio::spawn(serve(listener, thread_state, async {
                    let _ = graceful_signal.await;
                }));
                let _ = stopped.await;
                let _ = graceful.send(());
                // In-flight requests get a moment to finish; a long poll (up to 25 s) is
                // cut off when the runtime drops rather than holding up the stop.
                match tokio::time::timeout(GRACE, server).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(_)) => Err(std::io::Error::other("the server task failed")),
                    Err(_) => Ok(()),
                }
            })
        })?;
    Ok(RunningServer {
        addr: bound,
        state,
        stop: Some(stop),
        thread: Some(thread),
    })
}
