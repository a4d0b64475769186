//! One memory budget for the whole process: [`set_memory_budget`] or `FAAS_MEMO_BUDGET`.
//!
//! Every store in the budget (memoized functions unless `memory_budget = false`, stores built
//! with [`Builder::memory_budget`](crate::Builder::memory_budget) and
//! [`build_shared`](crate::Builder::build_shared)) counts its bytes (entries and fixed
//! overhead, as `max_size` counts them) in one process-wide total. An insert first reserves its
//! entry's bytes in that total; when they do not fit, the inserting thread itself frees room,
//! in any store of the budget: first entries that are cold where they are (not hit since they
//! came in, or since their last pass), store after store starting where the last eviction
//! found one; only when no store has a cold entry first in line, the entry each store's policy
//! picks, store after store. Expired entries are reclaimed on the way. No background thread is
//! involved, so a process frozen between invocations needs nothing to run to be within it.
//!
//! The total with the reservations never passes the budget: a reservation is taken with a
//! compare-and-swap only when it fits, and an entry replaces its reservation in one atomic
//! step. It passes it only when a store joins (its fixed overhead is counted at once; the next
//! insert frees room) or a budget is lowered below what the stores' fixed overheads take.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Once;

use crate::error::CacheError;
use crate::faas::registry::{Entry, Live, Member, Registry};
use crate::faas::share::ResolvedShare;
use crate::size::byte_size::{ByteSize, IntoByteSize};
use crate::sync::Mutex;

/// The environment variable read for a budget, once, when the first memoized function is
/// called (or the budget is first used): a size like `max_size`'s, `"40%"` or `"64M"`.
pub const MEMORY_BUDGET_ENV: &str = "FAAS_MEMO_BUDGET";

/// No budget: the total is still counted once a budget was set, but never limited.
const UNLIMITED: u64 = u64::MAX;

/// Times in a row an insert finds nothing to evict (every byte left is a fixed overhead or
/// another thread's reservation) before it gives up and the value is not stored.
const MAX_IDLE_ROUNDS: u32 = 64;

/// Where the budget came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum BudgetSource {
    /// [`set_memory_budget`].
    Program,
    /// The `FAAS_MEMO_BUDGET` environment variable.
    Environment,
}

impl fmt::Display for BudgetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetSource::Program => f.write_str("set_memory_budget"),
            BudgetSource::Environment => f.write_str(MEMORY_BUDGET_ENV),
        }
    }
}

/// The process's memory budget now: [`memory_budget`].
///
/// # Examples
///
/// ```
/// memo_runtime::set_memory_budget("64M")?;
/// let budget = memo_runtime::memory_budget().unwrap();
/// assert_eq!(budget.limit_bytes, 64 << 20);
/// assert!(budget.used_bytes <= budget.limit_bytes);
/// assert!(budget.to_string().ends_with("of 64M (set_memory_budget)"));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct MemoryBudget {
    /// The budget, in bytes.
    pub limit_bytes: u64,
    /// The share of the process's memory it was given as (`"40%"`), if it was.
    pub share: Option<ResolvedShare>,
    /// Who set it.
    pub source: BudgetSource,
    /// Bytes counted now: the entries and fixed overheads of the stores in it, and the
    /// reservations of inserts under way.
    pub used_bytes: u64,
    /// Stores in it (that are alive; memoized functions once called).
    pub stores: usize,
    /// Entries evicted or reclaimed to make room in it, from any store.
    pub evictions: u64,
    /// Values not stored because nothing was left to evict for them.
    pub refused: u64,
}

impl MemoryBudget {
    /// `used_bytes / limit_bytes`, from 0.0 (a zero limit is never set).
    pub fn used_ratio(&self) -> f64 {
        self.used_bytes as f64 / self.limit_bytes.max(1) as f64
    }
}

impl fmt::Display for MemoryBudget {
    /// `1234567 bytes (1.8%) of 64M (set_memory_budget)`, or with a share `... of 40% of 1G
    /// (cgroup v2 /sys/fs/cgroup/memory.max) (FAAS_MEMO_BUDGET)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes ({:.1}%) of ",
            self.used_bytes,
            self.used_ratio() * 100.0
        )?;
        match &self.share {
            Some(share) => write!(f, "{share}")?,
            None => write!(f, "{}", ByteSize::from(self.limit_bytes))?,
        }
        write!(f, " ({})", self.source)
    }
}

/// The budget as it was set.
#[derive(Debug, Clone)]
struct Setting {
    share: Option<ResolvedShare>,
    source: BudgetSource,
}

/// The process's budget and registry of caches.
pub(crate) struct Budget {
    limit: AtomicU64,
    /// Counted bytes of the stores in the budget, and reservations. Stores add signed deltas
    /// (wrapping), the sum of which is never negative.
    used: AtomicU64,
    evictions: AtomicU64,
    refused: AtomicU64,
    /// Where the last eviction found something: the next one looks there first.
    cursor: AtomicUsize,
    setting: Mutex<Option<Setting>>,
    registry: Registry,
    env: Once,
}

static BUDGET: Budget = Budget {
    limit: AtomicU64::new(UNLIMITED),
    used: AtomicU64::new(0),
    evictions: AtomicU64::new(0),
    refused: AtomicU64::new(0),
    cursor: AtomicUsize::new(0),
    setting: Mutex::new(None),
    registry: Registry::new(),
    env: Once::new(),
};

/// The process's budget, once `FAAS_MEMO_BUDGET` has been read.
pub(crate) fn global() -> &'static Budget {
    BUDGET.env.call_once(read_env);
    &BUDGET
}

/// The budget for counting, on paths that only run once a store is in it (the environment
/// was read before any store joined).
#[inline]
pub(crate) fn counting() -> &'static Budget {
    &BUDGET
}

/// Reads `FAAS_MEMO_BUDGET`. Runs before any store registers (registering reads the budget
/// first), so there is no store to start counting yet: it only turns the accounting on.
fn read_env() {
    let Ok(text) = std::env::var(MEMORY_BUDGET_ENV) else {
        return;
    };
    if text.trim().is_empty() {
        return;
    }
    match resolve(text.trim()) {
        Ok((bytes, share)) => {
            BUDGET.set_setting(bytes, share, BudgetSource::Environment);
            BUDGET.registry.start_accounting();
        }
        Err(err) => log::error!("faas-memo: {MEMORY_BUDGET_ENV} ignored: {err}"),
    }
}

/// A budget size: what [`IntoByteSize`] gives, refusing a share that comes to 0 bytes.
fn resolve(size: impl IntoByteSize) -> Result<(u64, Option<ResolvedShare>), CacheError> {
    let (bytes, share) = size.into_resolved_size()?;
    if bytes.as_u64() == 0 {
        let input = share
            .as_ref()
            .map_or_else(|| "0".to_owned(), |s| s.to_string());
        return Err(CacheError::InvalidSize {
            input,
            reason: "a memory budget must be at least one byte".to_owned(),
        });
    }
    Ok((bytes.as_u64(), share))
}

/// Sets the process's memory budget, shared by every memoized function (unless
/// `memory_budget = false`) and every store built with
/// [`memory_budget(true)`](crate::Builder::memory_budget): the bytes they count together
/// (entries and fixed overheads, as `max_size` counts them) stay within it. `size` is taken
/// like `max_size`: `"40%"` of the memory the process may use
/// ([`process_memory`](crate::process_memory)), `"64M"`, a [`ByteSize`], or a number of bytes.
/// Overrides `FAAS_MEMO_BUDGET`; a lower budget evicts at once.
///
/// When an insert would pass it, cold entries go first, in whichever store they are: a hot
/// function keeps its working set while a cold one gives up its entries (see the README's
/// "Running on FaaS"). The inserting thread evicts, so no background thread is needed. A store
/// keeps its own `max_items` and `max_size` too.
///
/// # Errors
///
/// [`CacheError::InvalidSize`] naming the input when it is not a size (`"64Q"`, `0`,
/// `"150%"`), or is a share of a memory that is unknown here; the budget is then unchanged.
///
/// # Examples
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(max_items = 1000)]
/// fn render(id: u64) -> String {
///     format!("page {id}")
/// }
///
/// memo_runtime::set_memory_budget("16M")?;
/// render(1);
/// assert!(memo_runtime::memory_budget().unwrap().used_bytes > 0);
/// assert!(memo_runtime::set_memory_budget("16Q").unwrap_err().to_string().contains("\"16Q\""));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
pub fn set_memory_budget(size: impl IntoByteSize) -> Result<(), CacheError> {
    let (bytes, share) = resolve(size)?;
    let budget = global();
    budget.set_setting(bytes, share, BudgetSource::Program);
    for entry in budget.registry.start_accounting().iter() {
        if entry.budgeted {
            if let Some(store) = entry.get() {
                store.start_accounting();
            }
        }
    }
    budget.settle();
    Ok(())
}

/// Removes the process's memory budget (set by [`set_memory_budget`] or
/// `FAAS_MEMO_BUDGET`): stores are then bounded by their own settings only. The total is still
/// counted, for [`cache_summary`](crate::cache_summary) and a later budget.
pub fn remove_memory_budget() {
    let budget = global();
    *budget.setting.lock() = None;
    budget.limit.store(UNLIMITED, Ordering::Relaxed);
}

/// The process's memory budget and how much of it is used, if one is set.
pub fn memory_budget() -> Option<MemoryBudget> {
    global().report()
}

impl Budget {
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    fn set_setting(&self, bytes: u64, share: Option<ResolvedShare>, source: BudgetSource) {
        let mut setting = self.setting.lock();
        *setting = Some(Setting { share, source });
        self.limit.store(bytes, Ordering::Relaxed);
    }

    fn report(&self) -> Option<MemoryBudget> {
        let setting = self.setting.lock().clone()?;
        let limit = self.limit.load(Ordering::Relaxed);
        let stores = self
            .registry
            .snapshot()
            .iter()
            .filter(|entry| entry.budgeted && entry.get().is_some())
            .count();
        Some(MemoryBudget {
            limit_bytes: limit,
            share: setting.share,
            source: setting.source,
            used_bytes: self.used.load(Ordering::Relaxed),
            stores,
            evictions: self.evictions.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        })
    }

    /// Adds a signed change (wrapping) to the total.
    #[inline]
    pub(crate) fn add(&self, delta: u64) {
        self.used.fetch_add(delta, Ordering::AcqRel);
    }

    /// Reserves `bytes` for an entry about to be inserted in the store at address `requester`,
    /// freeing room in the stores of the budget first if they do not fit.
    ///
    /// # Errors
    ///
    /// [`CacheError::OverBudget`] when the entry alone is larger than the budget, or nothing
    /// is left to evict for it.
    pub(crate) fn reserve(
        &self,
        bytes: u64,
        requester: *const (),
    ) -> Result<Reservation, CacheError> {
        let mut idle = 0;
        loop {
            let limit = self.limit.load(Ordering::Relaxed);
            let used = self.used.load(Ordering::Acquire);
            if bytes > limit {
                return Err(self.refuse(bytes, limit));
            }
            if used <= limit - bytes {
                if self
                    .used
                    .compare_exchange_weak(used, used + bytes, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(Reservation { bytes });
                }
                continue;
            }
            if self.free_one(requester) {
                idle = 0;
                continue;
            }
            idle += 1;
            if idle > MAX_IDLE_ROUNDS {
                return Err(self.refuse(bytes, limit));
            }
            // What is left is fixed overheads and other threads' reservations, which become
            // entries (that can be evicted) in a moment.
            std::thread::yield_now();
        }
    }

    #[cold]
    fn refuse(&self, bytes: u64, limit: u64) -> CacheError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        CacheError::OverBudget {
            entry_bytes: bytes,
            budget_bytes: limit,
        }
    }

    /// Evicts until the total is within the budget (after it was lowered), or nothing is left.
    pub(crate) fn settle(&self) {
        while self.used.load(Ordering::Acquire) > self.limit.load(Ordering::Relaxed) {
            if !self.free_one(std::ptr::null()) {
                break;
            }
        }
    }

    /// Frees one entry (or a shard's expired entries) in some store of the budget: a cold one
    /// if any store has one first in line (the other stores before `requester`, the store
    /// inserting, whose entries are in use right now), else the one the next store's policy
    /// picks, the stores taking turns.
    #[cold]
    #[inline(never)]
    fn free_one(&self, requester: *const ()) -> bool {
        let entries = self.registry.snapshot();
        let count = entries.len();
        if count == 0 {
            return false;
        }
        let start = self.cursor.load(Ordering::Relaxed) % count;
        let mut own = None;
        // Cold entries: start where the last one was found, which is likely where the next is.
        for step in 0..count {
            let index = (start + step) % count;
            let Some(store) = self.member(&entries, index) else {
                continue;
            };
            if std::ptr::addr_eq(&*store as *const dyn Member, requester) {
                own = Some((index, store));
                continue;
            }
            if store.free_for_budget(true) {
                return self.freed(index);
            }
        }
        if let Some((index, store)) = own {
            if store.free_for_budget(true) {
                return self.freed(index);
            }
        }
        // Nothing cold first in line anywhere: each store's policy, taking turns.
        for step in 1..=count {
            let index = (start + step) % count;
            if let Some(store) = self.member(&entries, index) {
                if store.free_for_budget(false) {
                    return self.freed(index);
                }
            }
        }
        false
    }

    /// The store at `index` if it is in the budget and alive.
    fn member(&self, entries: &[Entry], index: usize) -> Option<Live> {
        let entry = &entries[index];
        if entry.budgeted {
            entry.get()
        } else {
            None
        }
    }

    fn freed(&self, index: usize) -> bool {
        self.cursor.store(index, Ordering::Relaxed);
        self.evictions.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Bytes reserved in the budget for an insert under way: released if the insert does not
/// happen (an error, a panic), replaced by the entry's bytes if it does (`consume`).
#[derive(Debug)]
#[must_use]
pub(crate) struct Reservation {
    bytes: u64,
}

impl Reservation {
    /// The bytes reserved, which the caller now counts as its entry's.
    pub(crate) fn consume(mut self) -> u64 {
        std::mem::take(&mut self.bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes != 0 {
            BUDGET.used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_sizes_are_sizes_and_name_the_input() {
        assert_eq!(resolve("64M").unwrap(), (64 << 20, None));
        assert_eq!(resolve(1000u64).unwrap(), (1000, None));
        for bad in ["64Q", "", "-1", "150%"] {
            match resolve(bad) {
                Err(CacheError::InvalidSize { input, .. }) => assert_eq!(input, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(resolve(0u64).is_err());
    }

    #[test]
    fn a_budget_displays_its_use_and_source() {
        let budget = MemoryBudget {
            limit_bytes: 1000,
            share: None,
            source: BudgetSource::Environment,
            used_bytes: 250,
            stores: 2,
            evictions: 0,
            refused: 0,
        };
        assert_eq!(
            budget.to_string(),
            "250 bytes (25.0%) of 1000 (FAAS_MEMO_BUDGET)"
        );
        assert_eq!(budget.used_ratio(), 0.25);
    }
}
