//! The accept loop: HTTP/1 over hyper with a header timeout (which also ends idle
//! keep-alive connections), a body deadline, a send timeout, a cap on connections served at
//! once, the client address through trusted proxies, and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use crate::config::Edge;

/// The read buffer of a connection, and so the largest request head (hyper answers `431`
/// past it, checked between reads, so a head read at once may go somewhat over): signed
/// requests and browsers send a few KiB; hyper's default of about 400 KiB
/// times the connection cap would be gigabytes held by idle heads.
const MAX_HEAD: usize = 32 * 1024;

/// How long the loop pauses after an accept error that is not the connection's own fault
/// (out of file descriptors): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` resolves, then waits for the connections in
/// flight to finish their requests.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let edge = Arc::new(edge);
    let slots = Arc::new(Semaphore::new(edge.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(edge.header_timeout)
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over the cap the connection is closed at once rather than left in the backlog:
        // a flood then costs the server one accept each, and a client learns at once.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        // Small JSON answers must not wait for Nagle's algorithm to meet the client's
        // delayed ACK.
        let _ = stream.set_nodelay(true);
        let stream = super::stall::StallGuarded::new(stream, edge.send_timeout);
        let (app, edge) = (app.clone(), edge.clone());
        let service = hyper::service::service_fn(move |request| {
            handle(app.clone(), edge.clone(), peer, request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One request: its client address, its body read within the deadline, then the router.
async fn handle(
    mut app: Router,
    edge: Arc<Edge>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response, Infallible> {
    let (mut parts, body) = request.into_parts();
    let client = super::client_addr(
        peer,
        &parts.headers,
        &edge.trusted_proxies,
        edge.proxy_header,
    );
    parts.extensions.insert(ConnectInfo(client));
    let body = match super::body::read_within(Body::new(body), edge.body_timeout).await {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    app.call(Request::from_parts(parts, Body::from(body))).await
}

/// Errors of one connection that was reset before it was accepted: not the listener's.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
