//! The options about a value's age, each on a sync and an async function, in a method too.
use memo_runtime::{faas_cached, Cached, MockClock, WithTtl};
use std::sync::LazyLock;
use std::time::Duration;

static CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);

#[faas_cached(ttl = 60, stale = 30, fallback = 300, refresh_ahead, clock = CLOCK.clone())]
fn report(id: u64) -> Result<String, std::io::Error> {
    Ok(id.to_string())
}

#[faas_cached(ttl = 60, refresh_on_hit, cached_flag)]
async fn session(id: u64) -> Option<Cached<String>> {
    Some(id.to_string())
}

#[faas_cached(force_refresh = reload, cached_flag, option = true)]
fn lookup(name: &str, #[exclude] reload: bool) -> Result<Option<Cached<WithTtl<u64>>>, String> {
    let _ = reload;
    Ok(Some(WithTtl::new(name.len() as u64, Duration::from_secs(5))))
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Repo(u32);

impl Repo {
    #[faas_cached(ttl = 5, stale = 5)]
    fn owner(&self) -> String {
        self.0.to_string()
    }
}

fn main() {
    assert_eq!(report(1).unwrap(), "1");
    assert_eq!(report_refresh(1).unwrap(), "1");
    let hit = pollster_free(session(2));
    assert!(hit.is_none() || !hit.unwrap().was_cached());
    let found = lookup("abc", false).unwrap().unwrap();
    assert_eq!(*found.value(), 3);
    assert!(!found.was_cached());
    assert_eq!(Repo(4).owner(), "4");
    assert_eq!(Repo(4).owner_refresh(), "4");
}

/// Drops the future unpolled: the point is that it compiles.
fn pollster_free<F: std::future::Future>(_: F) -> Option<Cached<String>> {
    None
}
