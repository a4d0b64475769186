//! Thread numbers (which pick a thread's reader slot in every store) are reused once their
//! thread exits, smallest first, so that threads that come and go keep small, distinct numbers
//! and inherit the slots their predecessors owned. One test in its own process: no other test
//! takes numbers meanwhile.

use memo_runtime::__private::thread_number;
use memo_runtime::FaasCacheDict;

fn number_of_a_new_thread(cache: &FaasCacheDict<u64, u64>) -> usize {
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(cache.get(&1), Some(10));
            thread_number()
        })
        .join()
        .unwrap()
    })
}

#[test]
fn threads_that_come_and_go_reuse_the_smallest_free_numbers() {
    let cache: FaasCacheDict<u64, u64> = FaasCacheDict::builder().max_items(10).build().unwrap();
    cache.insert(1, 10).unwrap();
    let main = thread_number();
    let first = number_of_a_new_thread(&cache);
    assert_ne!(first, main);
    // Each next thread starts after the previous one exited: it gets the same number back.
    for _ in 0..20 {
        assert_eq!(number_of_a_new_thread(&cache), first);
    }
    // Two threads alive at once get two numbers, the freed one and the next.
    let barrier = std::sync::Barrier::new(2);
    let mut pair: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let n = thread_number();
                    barrier.wait();
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    pair.sort_unstable();
    assert_eq!(pair, [first, first + 1]);
    let info = cache.info();
    assert_eq!(info.hits, 21, "{info:?}");
}
