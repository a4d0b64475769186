//! `mut` parameters and tuple, struct and tuple-struct patterns in parameters.

use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct Size {
    width: u32,
    height: u32,
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Scale(u32);

#[faas_cached]
fn area(
    (x, y): (u32, u32),
    Size { width, height }: Size,
    Scale(scale): Scale,
    mut extra: u32,
    [a, b]: [u8; 2],
) -> u32 {
    extra += x + y + u32::from(a) + u32::from(b);
    width * height * scale + extra
}

#[faas_cached]
fn with_mut_ref(mut text: String, _unused: u8) -> String {
    text.push('!');
    text
}

fn main() {
    let size = Size {
        width: 2,
        height: 3,
    };
    assert_eq!(area((1, 1), size.clone(), Scale(2), 0, [1, 1]), 16);
    assert_eq!(area((1, 1), size.clone(), Scale(2), 0, [1, 1]), 16);
    assert_eq!(area_cache_info().hits, 1);
    assert!(area_invalidate((1, 1), size, Scale(2), 0, [1, 1]));
    assert_eq!(with_mut_ref("a".to_owned(), 0), "a!");
}
