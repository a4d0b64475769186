//! `#[derive(DeepSize)]` on every shape of type.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::mem::size_of;

use memo_runtime::DeepSize;

#[derive(DeepSize)]
struct Named {
    id: u64,
    name: String,
    tags: Vec<String>,
}

#[derive(DeepSize)]
struct Tuple(String, u32, Option<Box<u64>>);

#[derive(DeepSize)]
struct Unit;

#[derive(DeepSize)]
enum Shape {
    Empty,
    Circle(f64),
    Label { text: String, size: u8 },
    Pair(Box<str>, Vec<u8>),
}

#[derive(DeepSize)]
struct Generic<T, U>
where
    T: Clone,
{
    items: Vec<T>,
    extra: Option<U>,
}

struct NotMeasurable;

#[derive(DeepSize)]
struct Marker<T> {
    value: u32,
    _kind: PhantomData<T>,
}

#[derive(DeepSize)]
struct Borrowing<'a> {
    name: &'a str,
    owned: String,
}

#[derive(DeepSize)]
struct Skipping {
    kept: String,
    #[deep_size(skip)]
    handle: NotMeasurable,
}

#[derive(DeepSize)]
struct Nested {
    inner: Named,
    shapes: Vec<Shape>,
    map: HashMap<u32, String>,
}

fn s(capacity: usize) -> String {
    String::with_capacity(capacity)
}

#[test]
fn named_structs_sum_their_fields() {
    let v = Named {
        id: 1,
        name: s(10),
        tags: vec![s(3), s(4)],
    };
    let tags_heap = v.tags.capacity() * size_of::<String>() + 7;
    assert_eq!(v.heap_size(), 10 + tags_heap);
    assert_eq!(v.deep_size(), size_of::<Named>() + 10 + tags_heap);
}

#[test]
fn tuple_and_unit_structs() {
    assert_eq!(Tuple(s(5), 1, Some(Box::new(2))).heap_size(), 5 + 8);
    assert_eq!(Tuple(s(0), 1, None).heap_size(), 0);
    assert_eq!(Unit.heap_size(), 0);
    assert_eq!(Unit.deep_size(), 0);
}

#[test]
fn enums_measure_the_live_variant() {
    assert_eq!(Shape::Empty.heap_size(), 0);
    assert_eq!(Shape::Circle(1.0).heap_size(), 0);
    let label = Shape::Label {
        text: s(12),
        size: 3,
    };
    assert_eq!(label.heap_size(), 12);
    assert_eq!(Shape::Pair("abc".into(), vec![0; 9]).heap_size(), 3 + 9);
}

#[test]
fn generics_get_bounds_only_where_needed() {
    let g: Generic<String, Box<u32>> = Generic {
        items: vec![s(2)],
        extra: Some(Box::new(1)),
    };
    assert_eq!(g.heap_size(), g.items.capacity() * 24 + 2 + 4);
    // `T` only appears in PhantomData: no `DeepSize` bound is required of it.
    let m: Marker<NotMeasurable> = Marker {
        value: 1,
        _kind: PhantomData,
    };
    assert_eq!(m.heap_size(), 0);
    assert_eq!(m.value, 1);
}

#[test]
fn references_own_nothing_and_skipped_fields_count_inline_only() {
    let text = "borrowed".to_owned();
    let b = Borrowing {
        name: &text,
        owned: s(4),
    };
    assert_eq!(b.heap_size(), 4);
    assert_eq!(b.name, "borrowed");
    let k = Skipping {
        kept: s(6),
        handle: NotMeasurable,
    };
    assert_eq!(k.heap_size(), 6);
    let NotMeasurable = k.handle;
}

#[test]
fn nested_derived_types_add_up() {
    let mut map = HashMap::with_capacity(3);
    map.insert(1, s(5));
    let n = Nested {
        inner: Named {
            id: 0,
            name: s(1),
            tags: vec![],
        },
        shapes: vec![Shape::Circle(0.0), Shape::Pair("xy".into(), vec![])],
        map,
    };
    let map_table = 4 * size_of::<(u32, String)>() + 4 + 16;
    let expected = 1 + n.shapes.capacity() * size_of::<Shape>() + 2 + map_table + 5;
    assert_eq!(n.heap_size(), expected);
}
