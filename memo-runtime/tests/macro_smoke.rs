use memo_runtime::faas_cached;
use std::sync::atomic::{AtomicUsize, Ordering};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 60, max_items = 256)]
fn user_profile(user_id: u64, locale: &str) -> String {
    CALLS.fetch_add(1, Ordering::SeqCst);
    format!("{user_id}-{locale}")
}

struct Svc { id: u32 }
impl Clone for Svc { fn clone(&self) -> Self { Svc { id: self.id } } }
impl PartialEq for Svc { fn eq(&self, o: &Self) -> bool { self.id == o.id } }
impl Eq for Svc {}
impl std::hash::Hash for Svc { fn hash<H: std::hash::Hasher>(&self, h: &mut H) { self.id.hash(h) } }
impl Svc {
    #[faas_cached]
    fn double(&self, x: u32) -> u32 { x * 2 + self.id }
}

#[test]
fn smoke() {
    assert_eq!(user_profile(1, "fr"), "1-fr");
    assert_eq!(user_profile(1, "fr"), "1-fr");
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    let info = user_profile_cache_info();
    assert_eq!((info.hits, info.misses), (1, 1));
    assert!(user_profile_invalidate(1, "fr"));
    assert!(!user_profile_invalidate(1, "fr"));
    user_profile_cache_clear();
    assert_eq!(user_profile_cache().len(), 0);
    let s = Svc { id: 1 };
    assert_eq!(s.double(2), 5);
    assert_eq!(Svc { id: 2 }.double(2), 6);
    assert_eq!(Svc::double_cache_info().misses, 2);
}
