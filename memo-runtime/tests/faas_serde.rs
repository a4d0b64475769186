//! With the `serde` feature, `CacheInfo` and the memory reports serialize for JSON logs and
//! metrics, and read back the same.
#![cfg(feature = "serde")]

use memo_runtime::{
    faas_cached, CacheInfo, CacheSummary, MemoryShare, ProcessMemory, ResolvedShare,
};

#[faas_cached(max_items = 10, ttl = 60)]
fn double(n: u64) -> u64 {
    n * 2
}

#[test]
fn cache_info_round_trips_through_json() {
    double(1);
    double(1);
    let info = double_cache_info();
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["hits"], 1);
    assert_eq!(json["misses"], 1);
    assert_eq!(json["max_items"], 10);
    assert_eq!(json["default_ttl"]["secs"], 60);
    assert!(json["name"].as_str().unwrap().ends_with("::double"));
    let back: CacheInfo = serde_json::from_value(json).unwrap();
    assert_eq!(back, info);
}

#[test]
fn shares_serialize_as_percentages() {
    let share: MemoryShare = "12.5%".parse().unwrap();
    assert_eq!(serde_json::to_string(&share).unwrap(), "\"12.5%\"");
    let resolved: ResolvedShare = share.resolve_against(ProcessMemory::new(1 << 30));
    let json = serde_json::to_value(&resolved).unwrap();
    assert_eq!(json["share"], "12.5%");
    assert_eq!(json["bytes"], 128u64 << 20);
    assert_eq!(json["of"]["source"], "Given");
    let back: ResolvedShare = serde_json::from_value(json).unwrap();
    assert_eq!(back, resolved);
    assert!(serde_json::from_str::<MemoryShare>("\"150%\"").is_err());
}

#[faas_cached(max_items = 10)]
fn halve(n: u64) -> u64 {
    n / 2
}

#[test]
fn the_summary_and_the_budget_round_trip_through_json() {
    halve(8);
    memo_runtime::set_memory_budget("8M").unwrap();
    let summary = memo_runtime::cache_summary();
    let json = serde_json::to_value(&summary).unwrap();
    assert!(json["caches"].as_u64().unwrap() >= 1);
    assert!(json["misses"].as_u64().unwrap() >= 1);
    assert_eq!(json["budget"]["limit_bytes"], 8u64 << 20);
    assert_eq!(json["budget"]["source"], "Program");
    let back: CacheSummary = serde_json::from_value(json).unwrap();
    assert_eq!(back, summary);
    let info = serde_json::to_value(halve_cache_info()).unwrap();
    assert_eq!(info["in_memory_budget"], true);
}
