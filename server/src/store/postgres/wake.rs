//! The long-poll wake-ups between replicas: `pg_notify('cityauth_wake', device_id)` after
//! the commit that made something new, and one listener connection per replica on a thread
//! of its own (`LISTEN` holds a connection for good: it cannot be a pool worker's).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::{Client, Config, NoTls};

use super::super::shared::{Wake, WakeBus, WakeHandler};
use super::super::{StoreError, StoreResult};
use super::error::PgError;
use super::pool::Pool;

/// The notification channel.
pub(super) const CHANNEL: &str = "cityauth_wake";

/// How often the listener looks whether its store is gone, and the first reconnect delay.
const TICK: Duration = Duration::from_millis(500);

/// The longest wait between two reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// [`WakeBus`] over `LISTEN/NOTIFY`.
pub(super) struct PgWakeBus {
    pub(super) pool: Arc<Pool>,
    pub(super) config: Config,
    /// Set when the store is dropped: the listener thread stops.
    pub(super) stopped: Arc<AtomicBool>,
}

fn listen(config: &Config) -> Result<Client, ::postgres::Error> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute("LISTEN cityauth_wake")?;
    Ok(client)
}

impl WakeBus for PgWakeBus {
    fn publish(&self, device_id: &str) -> StoreResult<()> {
        let device_id = device_id.to_owned();
        self.pool.run(move |c| {
            c.query_one("SELECT pg_notify($1, $2)", &[&CHANNEL, &device_id])?;
            Ok(())
        })
    }

    fn publishes_stored_challenges(&self) -> bool {
        // `flows.rs`: the statement that stores a challenge notifies its device.
        true
    }

    fn subscribe(&self, handler: WakeHandler) -> StoreResult<()> {
        let (config, stopped) = (self.config.clone(), self.stopped.clone());
        let pool = self.pool.clone();
        let (ready, listening) = mpsc::sync_channel(1);
        // The client blocks on a runtime of its own: never on the caller's.
        std::thread::Builder::new()
            .name("cityauth-pg-wake".into())
            .spawn(move || {
                let first = listen(&config);
                let client = match first {
                    Ok(client) => {
                        let _ = ready.send(Ok(()));
                        client
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                run(client, &config, &stopped, &handler, &pool);
            })
            .map_err(StoreError::File)?;
        match super::pool::wait(move || listening.recv()) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(StoreError::Postgres(PgError::WorkerGone)),
        }
    }
}

/// Delivers notifications until the store is dropped; after a lost connection, reconnects
/// with a doubling delay and delivers [`Wake::All`] (what was published meanwhile is lost).
fn run(
    mut client: Client,
    config: &Config,
    stopped: &AtomicBool,
    handler: &WakeHandler,
    pool: &Pool,
) {
    while !stopped.load(Ordering::Relaxed) {
        let mut lost = false;
        {
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(TICK);
            loop {
                match iter.next() {
                    Ok(Some(note)) => handler(Wake::Device(note.payload())),
                    Ok(None) => break,
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
        }
        if !lost && !client.is_closed() {
            continue;
        }
        crate::log("wake-ups: the PostgreSQL listener lost its connection; reconnecting");
        // The pool's connections were most likely lost too: its workers check theirs.
        pool.connection_lost();
        let mut delay = TICK;
        client = loop {
            if stopped.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(delay);
            match listen(config) {
                Ok(client) => {
                    pool.connection_lost();
                    break client;
                }
                Err(error) => {
                    crate::log(&format!(
                        "wake-ups: reconnect failed: {}",
                        PgError::Client(error)
                    ));
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        };
        handler(Wake::All);
    }
}
