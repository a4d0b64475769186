//! A tier in this process's memory, with leases and injectable failures, to test the tier
//! layer without SQLite or Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use memo_runtime::tier::{Lease, LeaseToken, Namespace, Tier, TierError, TierErrorKind};

/// (namespace id, key hash) -> (envelope, expiry).
type Entries = HashMap<(u64, u64), (Vec<u8>, Option<SystemTime>)>;

#[derive(Debug, Default)]
pub struct MapTier {
    pub entries: Mutex<Entries>,
    pub leases: Mutex<HashMap<(u64, u64), (LeaseToken, SystemTime)>>,
    /// Every call fails with a timeout while set.
    pub failing: AtomicBool,
    /// Every key lands on hash 0 (all keys collide).
    pub collide: bool,
    /// Whether leases are granted (else `Unsupported`).
    pub leases_supported: bool,
    pub gets: AtomicUsize,
    pub puts: AtomicUsize,
    /// Names of the threads that made calls.
    pub threads: Mutex<Vec<String>>,
}

impl MapTier {
    pub fn with_leases() -> Self {
        MapTier {
            leases_supported: true,
            ..MapTier::default()
        }
    }

    pub fn colliding() -> Self {
        MapTier {
            collide: true,
            ..MapTier::default()
        }
    }

    fn slot(&self, ns: &Namespace, hash: u64) -> (u64, u64) {
        (ns.id(), if self.collide { 0 } else { hash })
    }

    fn call(&self) -> Result<(), TierError> {
        let name = std::thread::current().name().unwrap_or("").to_owned();
        self.threads.lock().unwrap().push(name);
        if self.failing.load(Ordering::SeqCst) {
            return Err(TierError::new(TierErrorKind::Timeout, "injected failure"));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    /// Overwrites every entry's bytes.
    pub fn corrupt_all(&self, bytes: &[u8]) {
        for (entry, _) in self.entries.lock().unwrap().values_mut() {
            *entry = bytes.to_vec();
        }
    }
}

impl Tier for MapTier {
    fn kind(&self) -> &'static str {
        "map"
    }
    fn location(&self) -> String {
        "test memory".to_owned()
    }
    fn budget(&self) -> Duration {
        Duration::from_millis(50)
    }
    fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError> {
        self.call()?;
        self.gets.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .entries
            .lock()
            .unwrap()
            .get(&self.slot(ns, hash))
            .map(|(bytes, _)| bytes.clone()))
    }
    fn put(
        &self,
        ns: &Namespace,
        hash: u64,
        entry: &[u8],
        expires: Option<SystemTime>,
        _now: SystemTime,
    ) -> Result<(), TierError> {
        self.call()?;
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.entries
            .lock()
            .unwrap()
            .insert(self.slot(ns, hash), (entry.to_vec(), expires));
        Ok(())
    }
    fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError> {
        self.call()?;
        Ok(self
            .entries
            .lock()
            .unwrap()
            .remove(&self.slot(ns, hash))
            .is_some())
    }
    fn clear(&self, ns: &Namespace) -> Result<(), TierError> {
        self.call()?;
        self.entries
            .lock()
            .unwrap()
            .retain(|(id, _), _| *id != ns.id());
        Ok(())
    }
    fn lease(
        &self,
        ns: &Namespace,
        hash: u64,
        owner: LeaseToken,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, TierError> {
        self.call()?;
        if !self.leases_supported {
            return Ok(Lease::Unsupported);
        }
        let mut leases = self.leases.lock().unwrap();
        let slot = self.slot(ns, hash);
        match leases.get(&slot) {
            Some((holder, held_until)) if *holder != owner && *held_until > now => {
                Ok(Lease::Held { until: *held_until })
            }
            _ => {
                leases.insert(slot, (owner, until));
                Ok(Lease::Acquired)
            }
        }
    }
    fn release(&self, ns: &Namespace, hash: u64, owner: LeaseToken) -> Result<(), TierError> {
        self.call()?;
        let mut leases = self.leases.lock().unwrap();
        let slot = self.slot(ns, hash);
        if leases
            .get(&slot)
            .is_some_and(|(holder, _)| *holder == owner)
        {
            leases.remove(&slot);
        }
        Ok(())
    }
    fn bytes(&self, ns: &Namespace) -> Option<u64> {
        let entries = self.entries.lock().unwrap();
        Some(
            entries
                .iter()
                .filter(|((id, _), _)| *id == ns.id())
                .map(|(_, (bytes, _))| bytes.len() as u64)
                .sum(),
        )
    }
}
