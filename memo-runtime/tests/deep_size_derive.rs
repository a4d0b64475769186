//! `#[derive(DeepSize)]` on every shape of type, with exact expected sizes (64-bit targets).
//!
//! The generated code is compiled under strict lints.

#![cfg(target_pointer_width = "64")]
#![deny(
    warnings,
    unused,
    nonstandard_style,
    rust_2018_idioms,
    future_incompatible,
    unused_qualifications,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    elided_lifetimes_in_paths,
    clippy::all,
    clippy::pedantic
)]

use std::collections::HashMap;
use std::marker::PhantomData;
use std::mem::size_of;

use memo_runtime::DeepSize;

/// Compiles only if `T` implements `DeepSize`.
fn assert_deep_size<T: ?Sized + DeepSize>() {}

/// A type without `DeepSize`, for the parameters that must not be bounded.
#[derive(Debug, PartialEq)]
struct NotMeasurable;

fn s(capacity: usize) -> String {
    String::with_capacity(capacity)
}

#[derive(DeepSize)]
struct Named {
    id: u64,
    name: String,
    tags: Vec<String>,
}

#[test]
fn named_structs_sum_their_fields() {
    let mut tags = Vec::with_capacity(4);
    tags.extend([s(3), s(4)]);
    let v = Named {
        id: 1,
        name: s(10),
        tags,
    };
    assert_eq!(v.heap_size(), 10 + 4 * 24 + 3 + 4);
    assert_eq!(v.deep_size(), 8 + 24 + 24 + 10 + 4 * 24 + 3 + 4);
    assert_eq!(v.id, 1);
}

#[derive(DeepSize)]
struct Tuple(String, u32, Option<Box<u64>>);

#[derive(DeepSize)]
struct Unit;

#[test]
fn tuple_and_unit_structs() {
    assert_eq!(Tuple(s(5), 1, Some(Box::new(2))).heap_size(), 5 + 8);
    assert_eq!(Tuple(s(5), 1, Some(Box::new(2))).deep_size(), 40 + 5 + 8);
    assert_eq!(Tuple(s(0), 1, None).heap_size(), 0);
    assert_eq!(Unit.heap_size(), 0);
    assert_eq!(Unit.deep_size(), 0);
}

#[derive(DeepSize)]
enum Shape {
    Empty,
    Circle(f64),
    Label { text: String, size: u8 },
    Pair(Box<str>, Vec<u8>),
    Handle(#[deep_size(skip)] NotMeasurable, String),
}

#[test]
fn enums_measure_the_live_variant() {
    assert_eq!(size_of::<Shape>(), 40);
    assert_eq!(Shape::Empty.heap_size(), 0);
    assert_eq!(Shape::Empty.deep_size(), 40);
    assert_eq!(Shape::Circle(1.0).heap_size(), 0);
    let label = Shape::Label {
        text: s(12),
        size: 3,
    };
    assert_eq!(label.heap_size(), 12);
    assert_eq!(label.deep_size(), 40 + 12);
    assert_eq!(Shape::Pair("abc".into(), vec![0; 9]).heap_size(), 3 + 9);
    assert_eq!(Shape::Handle(NotMeasurable, s(7)).heap_size(), 7);
}

#[derive(DeepSize)]
enum Either<L, R> {
    Left(L),
    Right { value: R },
}

#[derive(DeepSize)]
enum Never {}

#[test]
fn generic_and_empty_enums() {
    let left: Either<String, u8> = Either::Left(s(6));
    assert_eq!(left.heap_size(), 6);
    let right: Either<String, Vec<u16>> = Either::Right {
        value: Vec::with_capacity(5),
    };
    assert_eq!(right.heap_size(), 10);
    assert_deep_size::<Never>();
}

#[derive(DeepSize)]
struct Generic<T, U = u8>
where
    T: Clone,
{
    items: Vec<T>,
    extra: Option<U>,
}

#[test]
fn generic_structs_keep_their_where_clause() {
    let g: Generic<String, Box<u32>> = Generic {
        items: vec![s(2)],
        extra: Some(Box::new(1)),
    };
    assert_eq!(g.heap_size(), 24 + 2 + 4);
    let defaulted: Generic<u64> = Generic {
        items: Vec::with_capacity(3),
        extra: None,
    };
    assert_eq!(defaulted.heap_size(), 24);
}

#[derive(DeepSize)]
struct Marker<T> {
    value: u32,
    kind: PhantomData<T>,
}

#[derive(DeepSize)]
struct Borrowing<'a, T: ?Sized> {
    name: &'a str,
    item: &'a T,
    owned: String,
}

#[test]
fn parameters_in_phantom_data_or_behind_references_need_no_bound() {
    let m: Marker<NotMeasurable> = Marker {
        value: 1,
        kind: PhantomData,
    };
    assert_eq!(m.heap_size(), 0);
    assert_eq!(m.deep_size(), 4);
    assert_eq!((m.value, m.kind), (1, PhantomData));

    // References own nothing: the borrowed string is the caller's.
    let text = "borrowed".to_owned();
    let b = Borrowing {
        name: &text,
        item: &NotMeasurable,
        owned: s(4),
    };
    assert_eq!(b.heap_size(), 4);
    assert_eq!(b.deep_size(), 16 + 8 + 24 + 4);
    assert_eq!((b.name, b.item), ("borrowed", &NotMeasurable));
}

#[derive(DeepSize)]
struct Skipping {
    kept: String,
    #[deep_size(skip)]
    handle: NotMeasurable,
    #[deep_size(skip)]
    not_counted: String,
}

#[test]
fn skipped_fields_count_their_inline_size_only() {
    let k = Skipping {
        kept: s(6),
        handle: NotMeasurable,
        not_counted: s(1000),
    };
    assert_eq!(k.heap_size(), 6);
    assert_eq!(k.deep_size(), 48 + 6);
    assert_eq!((k.handle, k.not_counted.capacity()), (NotMeasurable, 1000));
}

#[derive(DeepSize)]
struct Rows<const N: usize> {
    rows: [String; N],
}

#[derive(DeepSize)]
struct Grid<'a, T, const N: usize> {
    cells: [Vec<T>; N],
    label: &'a str,
}

#[test]
fn const_generics() {
    let rows = Rows {
        rows: [s(1), s(2), s(3)],
    };
    assert_eq!(rows.heap_size(), 6);
    assert_eq!(rows.deep_size(), 3 * 24 + 6);
    let grid: Grid<'_, u32, 2> = Grid {
        cells: [Vec::with_capacity(2), Vec::with_capacity(3)],
        label: "g",
    };
    assert_eq!(grid.heap_size(), 5 * 4);
    assert_eq!(grid.label, "g");
}

/// The first item of an iterator: `I::Item` must be measurable, `I` need not be.
#[derive(DeepSize)]
struct Peeked<I: Iterator> {
    first: Option<I::Item>,
    #[deep_size(skip)]
    rest: I,
}

#[test]
fn associated_types_are_bounded_themselves() {
    let mut rest = vec![s(3), s(4)].into_iter();
    let first = rest.next();
    let p = Peeked { first, rest };
    assert_eq!(p.heap_size(), 3);
    assert_eq!(p.rest.len(), 1);
}

/// Recursive types work: the bound is on `T`, not on the field types.
#[derive(DeepSize)]
struct Tree<T> {
    value: T,
    children: Vec<Tree<T>>,
}

#[test]
fn recursive_types() {
    let tree = Tree {
        value: s(1),
        children: vec![Tree {
            value: s(2),
            children: Vec::new(),
        }],
    };
    assert_eq!(size_of::<Tree<String>>(), 48);
    assert_eq!(tree.heap_size(), 1 + 48 + 2);
}

#[derive(DeepSize)]
struct Raw {
    r#type: String,
}

#[derive(DeepSize)]
struct Nested {
    inner: Named,
    shapes: Vec<Shape>,
    map: HashMap<u32, String>,
    raw: Raw,
}

#[test]
fn nested_derived_types_add_up() {
    let mut map = HashMap::with_capacity(3);
    map.insert(1, s(5));
    let mut shapes = Vec::with_capacity(2);
    shapes.extend([Shape::Circle(0.0), Shape::Pair("xy".into(), Vec::new())]);
    let n = Nested {
        inner: Named {
            id: 0,
            name: s(1),
            tags: Vec::new(),
        },
        shapes,
        map,
        raw: Raw { r#type: s(2) },
    };
    // The map: 4 buckets of (u32, String), 4 control bytes and a group of 16 (SSE2) or 8.
    let group = if cfg!(target_arch = "x86_64") { 16 } else { 8 };
    let map_table = 4 * 32 + 4 + group;
    assert_eq!(n.heap_size(), 1 + 2 * 40 + 2 + map_table + 5 + 2);
}
