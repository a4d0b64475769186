//! Every option of `#[faas_cached]` in one attribute, in an unusual order.

use memo_runtime::{faas_cached, DeleteReason};

fn forget(_key: &u64, _value: &String, _why: DeleteReason) {}

#[derive(Clone)]
struct Request {
    user: u64,
    path: String,
}

#[faas_cached(
    on_delete = forget,
    name = "pages",
    result = true,
    option = false,
    policy = "lru",
    dedupe = true,
    dedupe_timeout = 10,
    key_type = u64,
    key = request.user,
    max_items = 100,
    max_size = "1M",
    ttl = 1.5,
)]
fn render(request: &Request) -> Result<String, std::fmt::Error> {
    Ok(format!("{} for {}", request.path, request.user))
}

fn main() {
    let request = Request {
        user: 7,
        path: "/".to_owned(),
    };
    assert_eq!(render(&request).unwrap(), "/ for 7");
    let info = render_cache_info();
    assert_eq!(info.name, "pages");
    assert_eq!(info.max_items, Some(100));
    assert!(render_invalidate(&request));
}
