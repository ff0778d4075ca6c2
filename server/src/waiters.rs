//! Wakes a device's long polls when a challenge for it is created.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// One `Notify` per device that has polled.
#[derive(Debug, Default)]
pub struct Waiters {
    map: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Waiters {
    /// The device's notifier (created on first use).
    pub fn get(&self, device_id: &str) -> Arc<Notify> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(device_id.to_owned()).or_default().clone()
    }

    /// Wakes every poll of the device.
    pub fn wake(&self, device_id: &str) {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = map.get(device_id) {
            notify.notify_waiters();
        }
    }

    /// Forgets a removed device (its polls end at their timeout).
    pub fn remove(&self, device_id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = map.remove(device_id) {
            notify.notify_waiters();
        }
    }
}
