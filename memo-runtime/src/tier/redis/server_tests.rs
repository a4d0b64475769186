//! The tier's calls against a real `redis-server` (see `tests/common/redis_server.rs`); the
//! memoization path over it is tested in `tests/redis_tier.rs`.

use std::time::{Duration, Instant, SystemTime};

use super::*;

#[allow(unreachable_pub)]
#[path = "../../../tests/common/redis_server.rs"]
mod server;
use server::{Options, RedisServer};

const BUDGET: Duration = Duration::from_millis(50);

fn tier(url: &str, budget: Duration) -> RedisTier {
    let mut spec = RedisSpec::new(RedisSource::Url(url.to_owned()));
    spec.timeout = budget;
    spec.prefix = "t".to_owned();
    spec.open().expect("a valid URL")
}

fn ns(name: &str) -> Namespace {
    Namespace::new(name, "v1")
}

#[test]
fn entries_round_trip_and_expire_on_the_server() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let tier = tier(&server.url(), BUDGET);
    let (ns, now) = (ns("app::f"), SystemTime::now());
    assert_eq!(tier.get(&ns, 7), Ok(None));
    tier.put(&ns, 7, b"seven", Some(now + Duration::from_secs(60)), now)
        .unwrap();
    tier.put(&ns, 8, b"eight", None, now).unwrap();
    assert_eq!(tier.get(&ns, 7), Ok(Some(b"seven".to_vec())));
    assert_eq!(
        server.keys(),
        [
            "t:app::f#v1:0000000000000007",
            "t:app::f#v1:0000000000000008"
        ]
    );
    let pttl: i64 = server.command(&["PTTL", "t:app::f#v1:0000000000000007"]);
    assert!(
        (50_000..=60_000).contains(&pttl),
        "PX from the expiry: {pttl}"
    );
    let pttl: i64 = server.command(&["PTTL", "t:app::f#v1:0000000000000008"]);
    assert_eq!(pttl, -1, "no expiry");
    // An entry already expired when written is not stored, and removes an older one.
    tier.put(&ns, 8, b"late", Some(now), now).unwrap();
    assert_eq!(tier.get(&ns, 8), Ok(None));
    assert_eq!(tier.remove(&ns, 7), Ok(true));
    assert_eq!(tier.remove(&ns, 7), Ok(false));
    assert_eq!(tier.get(&ns, 7), Ok(None));
}

#[test]
fn a_lease_is_granted_once_and_released_only_by_its_holder() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let tier = tier(&server.url(), BUDGET);
    let (ns, now) = (ns("lease"), SystemTime::now());
    let (a, b) = (LeaseToken(1), LeaseToken(2));
    let until = now + Duration::from_secs(10);
    assert_eq!(tier.lease(&ns, 1, a, until, now), Ok(Lease::Acquired));
    let Ok(Lease::Held { until: held }) = tier.lease(&ns, 1, b, until, now) else {
        panic!("the lease is held");
    };
    let left = held.duration_since(now).unwrap();
    assert!(left > Duration::from_secs(9) && left <= Duration::from_secs(10));
    // Another owner's release leaves it alone; the holder's frees it.
    tier.release(&ns, 1, b).unwrap();
    assert!(matches!(
        tier.lease(&ns, 1, b, until, now),
        Ok(Lease::Held { .. })
    ));
    tier.release(&ns, 1, a).unwrap();
    assert_eq!(tier.lease(&ns, 1, b, until, now), Ok(Lease::Acquired));
    // A lease ends by itself (a crashed or frozen holder).
    let short = now + Duration::from_millis(30);
    assert_eq!(tier.lease(&ns, 2, a, short, now), Ok(Lease::Acquired));
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(tier.lease(&ns, 2, b, until, now), Ok(Lease::Acquired));
}

#[test]
fn clear_deletes_its_namespace_only_with_scan() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let tier = tier(&server.url(), BUDGET);
    let now = SystemTime::now();
    // A name with glob characters, and a namespace that its pattern would match unescaped.
    let (mine, other) = (ns("f*"), ns("f?"));
    for i in 0..1200 {
        tier.put(&mine, i, b"x", None, now).unwrap();
    }
    tier.put(&other, 1, b"y", None, now).unwrap();
    let _: String = server.command(&["SET", "unrelated", "z"]);
    let _: () = server.command(&["CONFIG", "RESETSTAT"]);
    tier.clear(&mine).unwrap();
    let stats: String = server.command(&["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_scan"), "{stats}");
    assert!(!stats.contains("cmdstat_keys") && !stats.contains("cmdstat_flushdb"));
    assert_eq!(server.keys(), ["t:f?#v1:0000000000000001", "unrelated"]);
}

#[test]
fn a_dead_server_opens_the_breaker_and_the_tier_resumes_when_it_is_back() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let tier = tier(&server.url(), BUDGET);
    let (ns, now) = (ns("breaker"), SystemTime::now());
    tier.put(&ns, 1, b"v", None, now).unwrap();
    server.kill();
    for _ in 0..breaker::THRESHOLD {
        let err = tier.get(&ns, 1).unwrap_err();
        assert_eq!(err.kind(), TierErrorKind::Unavailable, "{err}");
    }
    assert_eq!(tier.breaker(), BreakerState::Open);
    assert!(tier.skipping());
    let start = Instant::now();
    let err = tier.get(&ns, 1).unwrap_err();
    assert!(err.message().contains("circuit breaker"), "{err}");
    assert!(start.elapsed() < Duration::from_millis(5));
    server.restart();
    // The value went with the process (no persistence); the tier answers again after the
    // cool-down, with nothing done by hand.
    let deadline = Instant::now() + Duration::from_secs(20);
    while tier.get(&ns, 1) != Ok(None) {
        assert!(Instant::now() < deadline, "the tier did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tier.breaker(), BreakerState::Closed);
}

#[test]
fn a_paused_server_costs_one_budget_per_call() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let tier = tier(&server.url(), BUDGET);
    let (ns, now) = (ns("paused"), SystemTime::now());
    tier.put(&ns, 1, b"v", None, now).unwrap();
    server.pause();
    let start = Instant::now();
    let err = tier.get(&ns, 1).unwrap_err();
    let waited = start.elapsed();
    server.resume();
    assert_eq!(err.kind(), TierErrorKind::Timeout, "{err}");
    // The budget is 50 ms; ignoring it would wait until the server resumes (never, here).
    assert!(waited >= BUDGET, "{waited:?}");
    assert!(waited < Duration::from_millis(1000), "{waited:?}");
    assert_eq!(tier.get(&ns, 1), Ok(Some(b"v".to_vec())));
}

#[test]
fn a_password_in_the_url_is_used() {
    let Some(server) = RedisServer::start_with(Options {
        password: Some("s3cret".into()),
        tls: false,
    }) else {
        return;
    };
    let (ns, now) = (ns("auth"), SystemTime::now());
    let tier = tier(&server.url(), BUDGET);
    tier.put(&ns, 1, b"ok", None, now).unwrap();
    assert_eq!(tier.get(&ns, 1), Ok(Some(b"ok".to_vec())));
    assert!(!tier.location().contains("s3cret"), "{}", tier.location());
    // A wrong password is an error of the tier, never of the caller.
    let wrong = self::tier(&server.url().replace("s3cret", "wrong"), BUDGET);
    assert!(wrong.get(&ns, 1).is_err());
}

#[test]
fn tls_with_certificate_verification() {
    let Some(server) = RedisServer::start_with(Options {
        password: Some("tls-pass".into()),
        tls: true,
    }) else {
        return;
    };
    let (ns, now) = (ns("tls"), SystemTime::now());
    assert!(server.url().starts_with("rediss://"));
    // `#insecure` skips verification of the test's self-signed certificate; the verified
    // path (the CA through OpenSSL's SSL_CERT_FILE) is tested in tests/redis_tier.rs, in a
    // child process of its own.
    let tier = tier(
        &format!("{}#insecure", server.url()),
        Duration::from_secs(2),
    );
    tier.put(&ns, 1, b"secure", None, now).unwrap();
    assert_eq!(tier.get(&ns, 1), Ok(Some(b"secure".to_vec())));
    // Without TLS on a TLS port: an error, within the budget.
    let plain = self::tier(&server.url().replace("rediss://", "redis://"), BUDGET);
    let start = Instant::now();
    assert!(plain.get(&ns, 1).is_err());
    assert!(start.elapsed() < Duration::from_millis(1000));
}
