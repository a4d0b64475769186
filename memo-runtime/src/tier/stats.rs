//! Counters of one tier of one store, and the log-once rule for its errors.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::sync::Mutex;
use crate::tier::info::TierInfo;
use crate::tier::{TierError, TierErrorKind};

#[derive(Debug, Default)]
pub(crate) struct TierStats {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) lease_waits: AtomicU64,
    pub(crate) skipped: AtomicU64,
    nanos: AtomicU64,
    errors: [AtomicU64; TierErrorKind::ALL.len()],
    /// One bit per kind already logged.
    logged: AtomicU32,
    last_error: Mutex<Option<String>>,
}

impl TierStats {
    pub(crate) fn add_time(&self, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts an error, and logs it if it is the first of its kind for this tier of this
    /// store (a tier that fails on every call must not flood the log).
    pub(crate) fn error(&self, cache: &str, tier: &str, location: &str, err: &TierError) {
        self.errors[err.kind().index()].fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock() = Some(err.to_string());
        let bit = 1u32 << err.kind().index();
        if self.logged.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            log::warn!(
                "faas-memo cache {cache:?}: {tier} tier at {location} skipped: {err} (further \
                 errors of this kind are counted in cache_info(), not logged)"
            );
        }
    }

    pub(crate) fn errors(&self) -> u64 {
        self.errors.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }

    pub(crate) fn snapshot(
        &self,
        kind: &str,
        location: String,
        bytes: Option<u64>,
        health: Option<&str>,
    ) -> TierInfo {
        let errors_by_kind = TierErrorKind::ALL
            .iter()
            .filter_map(|k| {
                let n = self.errors[k.index()].load(Ordering::Relaxed);
                (n > 0).then(|| (k.as_str().to_owned(), n))
            })
            .collect();
        TierInfo {
            kind: kind.to_owned(),
            location,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            errors: self.errors(),
            errors_by_kind,
            last_error: self.last_error.lock().clone(),
            bytes,
            time_spent: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            lease_waits: self.lease_waits.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            health: health.map(str::to_owned),
        }
    }
}
