//! An AWS Lambda function on AWS's Rust runtime (`lambda_runtime`): its handler calls memoized
//! functions, whose stores live as long as the instance (warm invocations hit them), and logs
//! one line per invocation with what the caches did during it.
//!
//! Build for Lambda with `cargo lambda build --release -p memo-examples --example
//! lambda_handler` (or any `bootstrap` build for `provided.al2023`). Outside Lambda, `main`
//! fails at once: the runtime API (`AWS_LAMBDA_RUNTIME_API`) is not there. The handler itself
//! is tested below by calling it with events, as the `lambda_runtime` crate allows:
//! `cargo test -p memo-examples --example lambda_handler`.
//!
//! Memory: every memoized function is in the process's memory budget, `FAAS_MEMO_BUDGET` (set
//! it in the function's configuration, e.g. `40%` of the function's memory) or, without it,
//! the `40%` that `main` sets; each function may also have a bound of its own.

use std::time::Duration;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use memo_runtime::{faas_cached, DeepSize};
use serde::{Deserialize, Serialize};

/// The event: `{"user_id": 7, "locale": "fr"}`.
#[derive(Debug, Deserialize)]
pub struct Request {
    user_id: u64,
    locale: String,
}

/// The response.
#[derive(Debug, Serialize)]
pub struct Response {
    message: String,
    request_id: String,
}

/// What the slow backend returns.
#[derive(Clone, Debug, DeepSize)]
struct Profile {
    display_name: String,
    tier: String,
}

/// The slow part: a backend call (a few milliseconds). Kept 5 minutes, at most 10% of the
/// function's memory and 10 000 profiles.
#[faas_cached(ttl = 300, max_size = "10%", max_items = 10_000)]
fn user_profile(user_id: u64) -> Profile {
    std::thread::sleep(Duration::from_millis(3)); // network, database...
    Profile {
        display_name: format!("user-{user_id}"),
        tier: if user_id.is_multiple_of(10) {
            "gold"
        } else {
            "basic"
        }
        .to_owned(),
    }
}

/// A translation table read from a slow store: few keys, kept an hour.
#[faas_cached(ttl = 3600, max_items = 64)]
fn greeting(locale: &str) -> String {
    std::thread::sleep(Duration::from_millis(1));
    match locale {
        "fr" => "Bonjour",
        "de" => "Hallo",
        _ => "Hello",
    }
    .to_owned()
}

/// One invocation. The summary line is the caches' activity during this invocation (their
/// counters since its start) with their sizes and the budget's use now, as JSON for the logs.
pub async fn handler(event: LambdaEvent<Request>) -> Result<Response, Error> {
    let before = memo_runtime::cache_summary();
    let (request, context) = event.into_parts();
    let profile = user_profile(request.user_id);
    let message = format!(
        "{}, {} ({})!",
        greeting(&request.locale),
        profile.display_name,
        profile.tier
    );
    let caches = memo_runtime::cache_summary().since(&before);
    println!(
        "{}",
        serde_json::json!({ "request_id": context.request_id, "caches": caches })
    );
    Ok(Response {
        message,
        request_id: context.request_id,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if memo_runtime::memory_budget().is_none() {
        memo_runtime::set_memory_budget("40%")?;
    }
    lambda_runtime::run(service_fn(handler)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;

    fn event(user_id: u64, locale: &str, request_id: &str) -> LambdaEvent<Request> {
        let mut context = Context::default();
        context.request_id = request_id.to_owned();
        let request = Request {
            user_id,
            locale: locale.to_owned(),
        };
        LambdaEvent::new(request, context)
    }

    /// Warm invocations are served from the caches that earlier ones filled.
    #[tokio::test]
    async fn warm_invocations_hit_the_caches() {
        memo_runtime::set_memory_budget("16M").unwrap();
        let first = handler(event(10, "fr", "req-1")).await.unwrap();
        assert_eq!(first.message, "Bonjour, user-10 (gold)!");
        assert_eq!(first.request_id, "req-1");
        let misses = user_profile_cache_info().misses;

        let second = handler(event(10, "fr", "req-2")).await.unwrap();
        assert_eq!(second.message, first.message);
        assert_eq!(
            user_profile_cache_info().misses,
            misses,
            "served from the cache"
        );

        let third = handler(event(3, "de", "req-3")).await.unwrap();
        assert_eq!(third.message, "Hallo, user-3 (basic)!");

        let summary = memo_runtime::cache_summary();
        assert_eq!(summary.caches, 2);
        assert!(summary.hits >= 2 && summary.misses >= 4, "{summary}");
        let budget = summary.budget.unwrap();
        assert!(budget.used_bytes > 0 && budget.used_bytes <= 16 << 20);
    }

    /// Events arrive as JSON, as the runtime hands them over.
    #[tokio::test]
    async fn events_deserialize_from_json() {
        let request: Request = serde_json::from_str(r#"{"user_id": 7, "locale": "en"}"#).unwrap();
        let response = handler(LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        assert_eq!(response.message, "Hello, user-7 (basic)!");
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["message"], "Hello, user-7 (basic)!");
    }
}
