//! The tier layer's I/O threads: where an async caller's blocking tier calls run, so that they
//! never hold an executor thread.
//!
//! A tier call of a blocking tier (SQLite: file I/O, and a busy timeout when another process
//! holds the write lock) from an `async fn` is sent to a small pool of threads owned by this
//! module; the caller's future waits for its completion without blocking (its waker is stored
//! with the job and woken by the I/O thread). No executor is assumed: this works under tokio,
//! async-std, smol or a hand-written `block_on`.
//!
//! The pool starts its first thread on first use and grows to [`MAX_THREADS`] while jobs wait
//! and every thread is busy, so that one call stuck in a busy timeout does not delay the
//! others. If no thread can be started, the job runs on the caller's thread (blocking it, as a
//! sync call would).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use parking_lot::Condvar;

use crate::sync::Mutex;

/// Threads the pool grows to.
pub(crate) const MAX_THREADS: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    ready: Condvar,
}

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            jobs: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        ready: Condvar::new(),
    })
}

impl Pool {
    /// Queues `job`, starting a thread if none is idle; runs it here if none can be started.
    fn submit(&'static self, job: Job) {
        let mut state = self.state.lock();
        // Every idle thread will take one of the queued jobs: start one more if they do not
        // cover this one.
        if state.jobs.len() >= state.idle && state.threads < MAX_THREADS {
            let spawned = std::thread::Builder::new()
                .name("faas-memo-io".to_owned())
                .spawn(move || self.work());
            match spawned {
                Ok(_) => state.threads += 1,
                Err(err) if state.threads == 0 => {
                    drop(state);
                    log::warn!("faas-memo: could not start an I/O thread ({err}); tier calls of async functions block their thread");
                    return job();
                }
                Err(_) => {}
            }
        }
        state.jobs.push_back(job);
        drop(state);
        self.ready.notify_one();
    }

    fn work(&self) {
        let mut state = self.state.lock();
        loop {
            match state.jobs.pop_front() {
                Some(job) => {
                    drop(state);
                    // A tier call that panics must not take the thread (and its queue) down.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    state = self.state.lock();
                }
                None => {
                    state.idle += 1;
                    self.ready.wait(&mut state);
                    state.idle -= 1;
                }
            }
        }
    }
}

/// Runs `call` on an I/O thread; the returned future resolves to its result without blocking
/// the polling thread. `None` if the call panicked.
pub(crate) fn run<T, F>(call: F) -> Completion<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        done: false,
        waker: None,
    }));
    let completion = Completion {
        shared: shared.clone(),
    };
    let job: Job = Box::new(move || {
        // Set `done` even if `call` panics, so that the caller does not wait forever.
        struct Finish<T>(Arc<Mutex<Shared<T>>>, Option<T>);
        impl<T> Drop for Finish<T> {
            fn drop(&mut self) {
                let waker = {
                    let mut shared = self.0.lock();
                    shared.result = self.1.take();
                    shared.done = true;
                    shared.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
        let mut finish = Finish(shared, None);
        finish.1 = Some(call());
    });
    pool().submit(job);
    completion
}

struct Shared<T> {
    result: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

/// The future of [`run`].
pub(crate) struct Completion<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Future for Completion<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut shared = self.shared.lock();
        if shared.done {
            return Poll::Ready(shared.result.take());
        }
        match &mut shared.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_runs_off_the_caller_thread_and_its_result_comes_back() {
        let caller = std::thread::current().id();
        let (id, value) = pollster::block_on(run(move || (std::thread::current().id(), 42)))
            .expect("the call completes");
        assert_ne!(id, caller);
        assert_eq!(value, 42);
    }

    #[test]
    fn a_panicking_call_resolves_to_none_and_the_pool_goes_on() {
        let panicked = pollster::block_on(run(|| -> u8 { panic!("in a tier call") }));
        assert_eq!(panicked, None);
        assert_eq!(pollster::block_on(run(|| 7)), Some(7));
    }

    #[test]
    fn a_blocked_call_does_not_hold_up_the_others() {
        let (release, released) = std::sync::mpsc::channel::<()>();
        // Blocks until the quick call below has completed, which it can only do on another
        // thread of the pool (or after this one gives up, and then the test fails).
        let blocked = run(move || {
            released
                .recv_timeout(std::time::Duration::from_secs(60))
                .is_ok()
        });
        assert_eq!(pollster::block_on(run(|| 1)), Some(1));
        release.send(()).unwrap();
        assert_eq!(pollster::block_on(blocked), Some(true));
    }
}
