//! What a store keeps for the FaaS features: the share its byte bound was given as, and what it
//! counts in the process's memory budget.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::faas::share::ResolvedShare;
use crate::sync::Mutex;

/// The FaaS state of one store (a field of [`FaasCacheDict`](crate::FaasCacheDict)).
#[derive(Debug, Default)]
pub(crate) struct StoreFaas {
    /// The share of the process's memory that `max_size` was given as, if it was.
    share: Mutex<Option<ResolvedShare>>,
    /// Whether the store is in the process's memory budget (registered as such).
    budgeted: AtomicBool,
    /// Bytes the store counts in the budget now, given back when it is dropped.
    counted: AtomicU64,
}

impl StoreFaas {
    pub(crate) fn set_share(&self, share: Option<ResolvedShare>) {
        *self.share.lock() = share;
    }

    pub(crate) fn share(&self) -> Option<ResolvedShare> {
        self.share.lock().clone()
    }

    pub(crate) fn set_budgeted(&self) {
        self.budgeted.store(true, Ordering::Relaxed);
    }

    pub(crate) fn budgeted(&self) -> bool {
        self.budgeted.load(Ordering::Relaxed)
    }

    /// Counts a signed change (wrapping) of the store's bytes in the budget; `reserved` bytes
    /// of it were already counted by a reservation.
    #[inline]
    pub(crate) fn count(&self, delta: u64, reserved: u64) {
        self.counted.fetch_add(delta, Ordering::Relaxed);
        let net = delta.wrapping_sub(reserved);
        if net != 0 {
            crate::faas::budget::counting().add(net);
        }
    }
}

impl Drop for StoreFaas {
    fn drop(&mut self) {
        let counted = *self.counted.get_mut();
        if counted != 0 {
            crate::faas::budget::counting().add(0u64.wrapping_sub(counted));
        }
    }
}
