//! The system clock's time source: the kernel's coarse monotonic clock, read afresh at every
//! call, so that no reading depends on a background thread having run.
//!
//! On Linux, `clock_gettime(CLOCK_MONOTONIC_COARSE)` returns the time of the kernel's last tick
//! (1-4 ms resolution) without a system call: the vDSO reads it from a page the kernel keeps
//! up to date, whatever this process was doing. A process thawed after a freeze (SIGSTOP, a
//! cgroup freezer, a FaaS instance between invocations) therefore reads the current time at
//! its first instruction, and an entry that expired during the freeze is seen as expired.
//!
//! Measured on this project's CI host (a 2-vCPU AMD EPYC VM, minimum of 30 runs of 2 000 000
//! calls): an atomic load 0.6 ns, the vDSO's coarse clock called directly 5.6-6.2 ns, through
//! glibc's `clock_gettime` 7.5-8.4 ns, `rdtsc` 11.5-12.2 ns, `Instant::now()` 31-43 ns. The
//! vDSO function is therefore looked up once and called directly. Other systems use
//! `Instant::now()`: correct, slower.

// Miri runs no C code: it takes the portable path.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
pub(crate) use linux::coarse_nanos;

#[cfg(not(all(any(target_os = "linux", target_os = "android"), not(miri))))]
pub(crate) use portable::coarse_nanos;

#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
mod linux {
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// The signature of `clock_gettime`, the vDSO's and libc's alike.
    type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;

    /// The function that reads the clock: null until [`resolve`] runs, then a
    /// [`ClockGettime`] for ever.
    static CLOCK_GETTIME: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

    /// Nanoseconds of `CLOCK_MONOTONIC_COARSE` (since boot, suspend excluded). Inlined: a
    /// TTL hit then makes one indirect call, straight into the vDSO (an out-of-line wrapper
    /// measured 1 ns slower per TTL hit; either way a hit on an entry without a TTL is
    /// unchanged within noise).
    #[inline]
    pub(crate) fn coarse_nanos() -> u64 {
        let f = CLOCK_GETTIME.load(Ordering::Relaxed);
        if f.is_null() {
            return coarse_nanos_first();
        }
        // SAFETY: `resolve` is the only writer of `CLOCK_GETTIME`, and it stores the address of
        // a function of type `ClockGettime` (a fn pointer and a data pointer have the same size
        // and representation on every platform Rust supports that has a vDSO).
        let f = unsafe { std::mem::transmute::<*mut (), ClockGettime>(f) };
        read(f)
    }

    #[inline(always)]
    fn read(f: ClockGettime) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `f` is a `clock_gettime` (see `resolve`, which checked that it accepts this
        // clock); `ts` is a valid, writable `timespec`.
        unsafe { f(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        // A monotonic clock is never negative; the seconds fit in u64 nanoseconds for 584 years.
        (ts.tv_sec as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec as u64)
    }

    #[cold]
    #[inline(never)]
    fn coarse_nanos_first() -> u64 {
        let f = resolve();
        CLOCK_GETTIME.store(f as *mut (), Ordering::Relaxed);
        read(f)
    }

    /// The vDSO's `clock_gettime` if it can be found and reads `CLOCK_MONOTONIC_COARSE`, else
    /// libc's (which itself uses the vDSO where it can), else a fallback on `CLOCK_MONOTONIC`
    /// for kernels without the coarse clock. Idempotent: threads racing here store the same.
    fn resolve() -> ClockGettime {
        let works = |f: ClockGettime| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `f` is a `clock_gettime`; `ts` is a valid, writable `timespec`.
            unsafe { f(libc::CLOCK_MONOTONIC_COARSE, &mut ts) == 0 }
        };
        if let Some(f) = vdso_clock_gettime().filter(|&f| works(f)) {
            return f;
        }
        if works(libc::clock_gettime) {
            return libc::clock_gettime;
        }
        monotonic_fallback
    }

    /// `clock_gettime` of `CLOCK_MONOTONIC` whatever the clock asked, for kernels that lack
    /// `CLOCK_MONOTONIC_COARSE` (before Linux 2.6.32).
    unsafe extern "C" fn monotonic_fallback(
        _: libc::clockid_t,
        ts: *mut libc::timespec,
    ) -> libc::c_int {
        // SAFETY: the caller passes a valid, writable `timespec`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, ts) }
    }

    /// The vDSO's own `clock_gettime`, which skips libc's wrapper (2 ns of 8 on the CI host).
    /// Not in statically linked programs, where `dlopen` is unavailable (and warned about by
    /// glibc's linker).
    #[cfg(not(target_feature = "crt-static"))]
    fn vdso_clock_gettime() -> Option<ClockGettime> {
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        const SYMBOL: &std::ffi::CStr = c"__vdso_clock_gettime";
        #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
        const SYMBOL: &std::ffi::CStr = c"__kernel_clock_gettime";
        // SAFETY: both are plain C calls with NUL-terminated strings. RTLD_NOLOAD only finds
        // the vDSO, which the kernel maps into every process before it starts and never
        // unmaps; the handle is never closed.
        let symbol = unsafe {
            let handle = libc::dlopen(
                c"linux-vdso.so.1".as_ptr(),
                libc::RTLD_LAZY | libc::RTLD_NOLOAD,
            );
            if handle.is_null() {
                return None;
            }
            libc::dlsym(handle, SYMBOL.as_ptr())
        };
        if symbol.is_null() {
            return None;
        }
        // SAFETY: the vDSO exports this symbol as `clock_gettime` with the C signature of
        // `ClockGettime` (vdso(7)), and the vDSO stays mapped for the life of the process.
        Some(unsafe { std::mem::transmute::<*mut libc::c_void, ClockGettime>(symbol) })
    }

    #[cfg(target_feature = "crt-static")]
    fn vdso_clock_gettime() -> Option<ClockGettime> {
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Every candidate reads the same clock as the one chosen, within its resolution.
        #[test]
        fn candidates_agree_on_the_coarse_time() {
            let first = coarse_nanos();
            let chosen = resolve();
            let mut readings = vec![read(chosen), read(libc::clock_gettime)];
            if let Some(vdso) = vdso_clock_gettime() {
                readings.push(read(vdso));
            }
            let last = coarse_nanos();
            for reading in readings {
                assert!(
                    first <= reading && reading <= last,
                    "{first} <= {reading} <= {last}"
                );
            }
        }

        #[test]
        fn the_fallback_reads_the_monotonic_clock() {
            let before = coarse_nanos();
            let fallback = read(monotonic_fallback);
            // The coarse clock lags the precise one by at most a tick.
            assert!(fallback >= before, "{fallback} >= {before}");
            assert!(fallback - before < 1_000_000_000);
        }
    }
}

#[cfg(not(all(any(target_os = "linux", target_os = "android"), not(miri))))]
mod portable {
    use std::sync::OnceLock;
    use std::time::Instant;

    /// Nanoseconds since the first call. `Instant::now()` reads the system's monotonic clock at
    /// every call, which goes on during a freeze.
    #[inline]
    pub(crate) fn coarse_nanos() -> u64 {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(Instant::now);
        // Start away from zero, like the Linux clock, so that "expired long ago" is
        // representable.
        u64::try_from(epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1 << 40)
    }
}
