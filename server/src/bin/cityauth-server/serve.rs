//! `serve`: the directory checked, then the server on its listener until Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use cityauth_server::AppState;
use cityauth_server::directory::DirectoryKind;
use cityauth_server::directory::options::Opened;

/// Serves `state` on `listen` until a signal ends it.
pub fn serve(state: AppState, listen: SocketAddr, directory: Option<Opened>) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // The directory answers with the service account before anything listens: a wrong
        // password or an unreachable directory stops the start with one sentence.
        if let Some(directory) = &directory {
            directory.check().await?;
            let settings = &directory.settings;
            tracing::info!(
                kind = match directory.directory.kind() {
                    DirectoryKind::ActiveDirectory => "Active Directory",
                    _ => "LDAP",
                },
                url = %settings.url,
                base_dn = %settings.base_dn,
                user_attribute = %settings.user_attribute,
                bind_dn = %settings.bind_dn,
                protected_groups = settings.protected_groups.len(),
                "directory"
            );
            if settings.protected_groups.is_empty() {
                tracing::warn!(
                    "no --directory-protected-group: every account in scope, administrators \
                     too, can be reset through self-service"
                );
            }
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("listen on {listen}: {e}"))?;
        let fingerprint = state.signing_key().public_key().fingerprint();
        // "listening on" is what an operator (and server/tests/directory_flags.rs) looks for.
        tracing::info!(%fingerprint, "listening on {listen}");
        // Ctrl-C or SIGTERM end the server gracefully: in-flight requests finish and the
        // store writes its queued audit events.
        let shutdown = async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut terminate) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = terminate.recv() => {}
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        };
        cityauth_server::serve(listener, state, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}
