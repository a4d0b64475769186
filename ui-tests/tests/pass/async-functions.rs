//! `async fn` and async methods; their helpers stay synchronous.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use memo_runtime::faas_cached;

#[faas_cached(ttl = 60)]
async fn fetch(id: u32, region: &str) -> String {
    format!("{region}/{id}")
}

#[faas_cached]
async fn checked(id: u32) -> Result<u32, String> {
    if id == 0 {
        return Err("zero".to_owned());
    }
    Ok(id * 2)
}

#[faas_cached]
async fn maybe(id: u32) -> Option<u32> {
    (id > 0).then_some(id)
}

#[faas_cached]
pub async fn nothing() {}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Client {
    base: String,
}

impl Client {
    #[faas_cached]
    async fn get(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    #[faas_cached]
    async fn shared(#[exclude] &self, path: String) -> usize {
        path.len()
    }
}

/// Asserts that the future of a memoized `async fn` can move to another thread.
fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

/// Polls a future to completion on this thread.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn main() {
    assert_eq!(block_on(assert_send(fetch(1, "eu"))), "eu/1");
    assert_eq!(block_on(fetch(1, "eu")), "eu/1");
    assert_eq!(fetch_cache_info().hits, 1);
    assert!(fetch_invalidate(1, "eu"));

    assert_eq!(block_on(checked(2)), Ok(4));
    assert!(block_on(checked(0)).is_err());
    assert_eq!(block_on(maybe(0)), None);
    block_on(nothing());
    nothing_cache_clear();

    let client = Client {
        base: "https://x".to_owned(),
    };
    assert_eq!(block_on(assert_send(client.get("/a"))), "https://x/a");
    assert!(client.get_invalidate("/a"));
    assert_eq!(block_on(client.shared("abc".to_owned())), 3);
    assert!(Client::shared_invalidate("abc".to_owned()));
}
