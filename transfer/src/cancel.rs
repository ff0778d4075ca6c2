//! Stopping a long import from another thread: the host's UI keeps a [`Cancel`] and trips it
//! when the user gives up, and the reader stops at its next check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::ImportError;

/// A flag shared by the thread that reads a file and any thread that may cancel it. Clones
/// share the flag. The reader looks at it before and after each costly step (each key
/// derivation of an Aegis slot, each part of a Google export, the parse as a whole); one key
/// derivation, itself bounded, runs to its end once started.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not yet tripped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the import to stop; it then fails with [`ImportError::Cancelled`].
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// [`ImportError::Cancelled`] once tripped.
    pub(crate) fn check(&self) -> Result<(), ImportError> {
        if self.is_cancelled() {
            Err(ImportError::Cancelled)
        } else {
            Ok(())
        }
    }
}
