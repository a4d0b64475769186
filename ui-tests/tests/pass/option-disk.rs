//! `disk` with every other option (and with `redis`), on free functions, methods and async
//! functions. Most name a directory that cannot be created (under `/proc`): every call
//! computes and the tier counts its errors, which is what a caller sees with an unusable disk.
//! `disk = true` uses `FAAS_MEMO_DISK_DIR`, else `<temp dir>/faas-memo`, for real.

use memo_runtime::{faas_cached, DeepSize, DeleteReason};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DeepSize)]
struct Profile {
    name: String,
}

fn forget(_key: &u64, _value: &Profile, _why: DeleteReason) {}

#[faas_cached(
    disk = "/proc/faas-memo-ui-test",
    disk_max_size = "1G",
    redis = "redis://127.0.0.1:1/0",
    redis_timeout = 0.02,
    version = "v2",
    ttl = 60,
    max_items = 100,
    max_size = "1M",
    policy = "lru",
    on_delete = forget,
    key = user,
    key_type = u64,
    name = "profiles",
    dedupe_timeout = 5,
)]
fn profile(user: u64, #[exclude] _trace: &str) -> Result<Profile, String> {
    Ok(Profile {
        name: format!("user {user}"),
    })
}

#[faas_cached(disk = "/proc/faas-memo-ui-test", option = true)]
fn lookup(word: &str, times: u32) -> std::io::Result<Option<String>> {
    Ok((times > 0).then(|| word.repeat(times as usize)))
}

#[derive(Clone, Hash, PartialEq, Eq, Serialize, Deserialize)]
struct Shard(u8);

impl Shard {
    #[faas_cached(disk = "/proc/faas-memo-ui-test", disk_max_size = 1048576, dedupe = false)]
    fn label(&self, n: u64) -> String {
        format!("{}:{n}", self.0)
    }
}

#[faas_cached(disk = true, ttl = 5)]
async fn fetch(id: u64) -> Vec<u8> {
    id.to_le_bytes().to_vec()
}

fn main() {
    assert_eq!(profile(1, "a").unwrap().name, "user 1");
    assert_eq!(profile(1, "b").unwrap().name, "user 1");
    let info = profile_cache_info();
    assert_eq!(info.hits, 1);
    assert_eq!(info.tiers[0].kind, "disk");
    assert_eq!(info.tiers[1].kind, "redis");
    assert!(info.tiers[0].errors > 0, "nothing can be created there");
    assert!(profile_invalidate(1, "c"));
    assert_eq!(lookup("ab", 2).unwrap().as_deref(), Some("abab"));
    assert_eq!(lookup("ab", 0).unwrap(), None);
    assert_eq!(Shard(3).label(4), "3:4");
    assert!(Shard(3).label_invalidate(4));
    assert_eq!(block_on(fetch(2)), 2u64.to_le_bytes());
    assert_eq!(fetch_cache_info().tiers[0].errors, 0);
    fetch_cache_clear();
}

/// Polls a future on this thread (a tier call of an async function runs on the tier
/// layer's I/O threads, which wake this one).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark()
        }
    }
    let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => return v,
            std::task::Poll::Pending => std::thread::park(),
        }
    }
}
