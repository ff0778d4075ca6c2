//! Wakes a device's long polls when a challenge for it is created, on whichever replica
//! holds them.
//!
//! Each process keeps its own `Notify` per device that has polled. One server alone (SQLite)
//! notifies them directly. Replicas (the store has a [`WakeBus`]) publish instead, after the
//! commit; the bus delivers every publication to every replica, this one too, and each
//! notifies its own waiters. After the bus reconnects ([`Wake::All`]) every local poll looks
//! again, since wake-ups may have been lost in between.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::store::shared::{Wake, WakeBus, WakeHandler};
use crate::store::{Store, StoreResult};

/// This process's notifiers, one per device that has polled.
#[derive(Debug, Default)]
struct Local {
    map: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Local {
    fn wake(&self, wake: Wake<'_>) {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match wake {
            Wake::Device(device_id) => {
                if let Some(notify) = map.get(device_id) {
                    notify.notify_waiters();
                }
            }
            Wake::All => map.values().for_each(|notify| notify.notify_waiters()),
        }
    }
}

/// The long polls' wake-ups.
#[derive(Default)]
pub struct Waiters {
    local: Arc<Local>,
    bus: Option<Arc<dyn WakeBus>>,
}

impl Waiters {
    /// Waiters for `store`: subscribed to its wake-up bus when it has one.
    pub fn new(store: &dyn Store) -> StoreResult<Self> {
        let local = Arc::new(Local::default());
        let bus = store.wake_bus();
        if let Some(bus) = &bus {
            let target = local.clone();
            let handler: WakeHandler = Arc::new(move |wake| target.wake(wake));
            bus.subscribe(handler)?;
        }
        Ok(Self { local, bus })
    }

    /// The device's notifier (created on first use).
    pub fn get(&self, device_id: &str) -> Arc<Notify> {
        let mut map = self.local.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(device_id.to_owned()).or_default().clone()
    }

    /// Wakes every poll of the device, on every replica. Called after the commit that made
    /// the news, so a woken poll finds it.
    pub fn wake(&self, device_id: &str) {
        match &self.bus {
            Some(bus) => {
                if let Err(error) = bus.publish(device_id) {
                    // The device's polls on other replicas find it at their timeout (or on
                    // the push); this replica's need not wait.
                    crate::log(&format!("wake-up not published: {error}"));
                    self.local.wake(Wake::Device(device_id));
                }
            }
            None => self.local.wake(Wake::Device(device_id)),
        }
    }

    /// Wakes every poll of the device after a challenge for it was stored, unless the store
    /// already published that when it stored it.
    pub fn stored(&self, device_id: &str) {
        if !self
            .bus
            .as_ref()
            .is_some_and(|bus| bus.publishes_stored_challenges())
        {
            self.wake(device_id);
        }
    }

    /// Forgets a removed device here and wakes its polls everywhere (they find nothing and
    /// end at their timeout).
    pub fn remove(&self, device_id: &str) {
        self.wake(device_id);
        let mut map = self.local.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = map.remove(device_id) {
            notify.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_wakes_every_device_and_one_only_its_own() {
        let local = Local::default();
        let waiters = Waiters {
            local: Arc::new(local),
            bus: None,
        };
        let (a, b) = (waiters.get("a"), waiters.get("b"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (na, nb) = (a.notified(), b.notified());
            tokio::pin!(na, nb);
            na.as_mut().enable();
            nb.as_mut().enable();
            let wait = std::time::Duration::from_millis(50);
            waiters.local.wake(Wake::Device("a"));
            assert!(tokio::time::timeout(wait, na).await.is_ok());
            assert!(tokio::time::timeout(wait, nb.as_mut()).await.is_err());
            waiters.local.wake(Wake::All);
            assert!(tokio::time::timeout(wait, nb).await.is_ok());
        });
    }
}
