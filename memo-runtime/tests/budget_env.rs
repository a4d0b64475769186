//! `FAAS_MEMO_BUDGET` sets the process's memory budget, read once when the first memoized
//! function is called; a value that is not a size is ignored (and logged). The parent test
//! runs this binary again as children with the variable set, since a process reads it once.

use std::process::Command;

use memo_runtime::{faas_cached, BudgetSource, MEMORY_BUDGET_ENV};

/// Set in a child's environment: what it should find.
const EXPECT_ENV: &str = "FAAS_MEMO_BUDGET_TEST_EXPECT";

#[faas_cached(max_items = 10)]
fn triple(n: u64) -> u64 {
    n * 3
}

/// What a child checks; does nothing in the parent's run.
#[test]
fn child_reads_the_environment() {
    let Ok(expected) = std::env::var(EXPECT_ENV) else {
        return;
    };
    triple(1);
    let budget = memo_runtime::memory_budget();
    match expected.as_str() {
        "none" => assert_eq!(budget, None),
        bytes => {
            let budget = budget.expect("a budget from the environment");
            assert_eq!(budget.limit_bytes, bytes.parse::<u64>().unwrap());
            assert_eq!(budget.source, BudgetSource::Environment);
            assert_eq!(budget.stores, 1);
            assert!(budget.used_bytes >= triple_cache_info().current_size_bytes);
            // The program's own call overrides it.
            memo_runtime::set_memory_budget("1M").unwrap();
            let budget = memo_runtime::memory_budget().unwrap();
            assert_eq!(
                (budget.limit_bytes, budget.source),
                (1 << 20, BudgetSource::Program)
            );
        }
    }
}

#[test]
fn the_environment_sets_the_budget_once_and_a_bad_value_is_ignored() {
    if std::env::var(EXPECT_ENV).is_ok() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut cases = vec![
        ("64M", (64u64 << 20).to_string()),
        (" 1500000 ", "1500000".to_owned()),
        ("64Q", "none".to_owned()),
        ("0", "none".to_owned()),
        ("", "none".to_owned()),
    ];
    // A share of the memory the process may use, which the child reads as this process does.
    if let Some(memory) = memo_runtime::process_memory() {
        cases.push(("50%", (memory.bytes() / 2).to_string()));
    }
    for (value, expected) in cases {
        let output = Command::new(&exe)
            .args(["--exact", "child_reads_the_environment", "--test-threads=1"])
            .env(MEMORY_BUDGET_ENV, value)
            .env(EXPECT_ENV, &expected)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{MEMORY_BUDGET_ENV}={value:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
    }
}
