//! Intrusive doubly-linked lists threaded through slab nodes by index.
//!
//! A node carries one [`Links`] per list family it can belong to (the eviction order, the timer
//! wheel); a [`LinkField`] names which one a list uses.

use std::marker::PhantomData;

use crate::store::slab::{Slab, NIL};

/// The neighbours of a node in one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Links {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Links {
    pub(crate) const UNLINKED: Links = Links {
        prev: NIL,
        next: NIL,
    };
}

/// Selects the [`Links`] of a node that one family of lists uses.
pub(crate) trait LinkField<N> {
    fn links(node: &N) -> &Links;
    fn links_mut(node: &mut N) -> &mut Links;
}

/// A list: front is the oldest end. Two words, so that a timer wheel can hold hundreds.
#[derive(Debug)]
pub(crate) struct List<F> {
    head: u32,
    tail: u32,
    _field: PhantomData<F>,
}

impl<F> List<F> {
    pub(crate) const fn new() -> Self {
        List {
            head: NIL,
            tail: NIL,
            _field: PhantomData,
        }
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    #[inline(always)]
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    pub(crate) fn clear(&mut self) {
        *self = List::new();
    }

    /// Appends an unlinked node at the back.
    #[inline(always)]
    pub(crate) fn push_back<N>(&mut self, slab: &mut Slab<N>, index: u32)
    where
        F: LinkField<N>,
    {
        *F::links_mut(slab.get_mut(index)) = Links {
            prev: self.tail,
            next: NIL,
        };
        if self.tail == NIL {
            self.head = index;
        } else {
            F::links_mut(slab.get_mut(self.tail)).next = index;
        }
        self.tail = index;
    }

    /// Detaches a node that is in this list.
    #[inline(always)]
    pub(crate) fn unlink<N>(&mut self, slab: &mut Slab<N>, index: u32)
    where
        F: LinkField<N>,
    {
        let Links { prev, next } = *F::links(slab.get(index));
        if prev == NIL {
            self.head = next;
        } else {
            F::links_mut(slab.get_mut(prev)).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            F::links_mut(slab.get_mut(next)).prev = prev;
        }
        *F::links_mut(slab.get_mut(index)) = Links::UNLINKED;
    }

    /// Moves a node of this list to the back (most recent end).
    #[inline(always)]
    pub(crate) fn move_to_back<N>(&mut self, slab: &mut Slab<N>, index: u32)
    where
        F: LinkField<N>,
    {
        if self.tail != index {
            self.unlink(slab, index);
            self.push_back(slab, index);
        }
    }

    /// Detaches and returns the front node.
    #[inline(always)]
    pub(crate) fn pop_front<N>(&mut self, slab: &mut Slab<N>) -> Option<u32>
    where
        F: LinkField<N>,
    {
        let front = self.front()?;
        self.unlink(slab, front);
        Some(front)
    }

    /// Re-points the neighbours of a node of this list that the slab moved from `from` to `to`
    /// (its own links moved with it).
    #[inline(always)]
    pub(crate) fn relocate<N>(&mut self, slab: &mut Slab<N>, from: u32, to: u32)
    where
        F: LinkField<N>,
    {
        let Links { prev, next } = *F::links(slab.get(to));
        if prev == NIL {
            debug_assert_eq!(self.head, from);
            self.head = to;
        } else {
            F::links_mut(slab.get_mut(prev)).next = to;
        }
        if next == NIL {
            debug_assert_eq!(self.tail, from);
            self.tail = to;
        } else {
            F::links_mut(slab.get_mut(next)).prev = to;
        }
    }

    /// Takes every node out as a chain that can be walked with [`Chain::next`].
    pub(crate) fn take(&mut self) -> Chain {
        let chain = Chain { next: self.head };
        self.clear();
        chain
    }

    /// Iterates front to back without modifying anything.
    pub(crate) fn iter<'a, N>(&self, slab: &'a Slab<N>) -> Iter<'a, N, F>
    where
        F: LinkField<N>,
    {
        Iter {
            slab,
            next: self.head,
            _field: PhantomData,
        }
    }
}

/// Nodes detached from a list by [`List::take`]; their links still chain them front to back.
/// Valid only as long as the slab does not move nodes.
#[derive(Debug)]
pub(crate) struct Chain {
    next: u32,
}

impl Chain {
    pub(crate) fn next<N, F: LinkField<N>>(&mut self, slab: &Slab<N>) -> Option<u32> {
        let current = self.next;
        if current == NIL {
            return None;
        }
        self.next = F::links(slab.get(current)).next;
        Some(current)
    }
}

pub(crate) struct Iter<'a, N, F> {
    slab: &'a Slab<N>,
    next: u32,
    _field: PhantomData<F>,
}

impl<'a, N, F: LinkField<N>> Iterator for Iter<'a, N, F> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let current = self.next;
        if current == NIL {
            return None;
        }
        self.next = F::links(self.slab.get(current)).next;
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Node(Links);
    struct Field;
    impl LinkField<Node> for Field {
        fn links(node: &Node) -> &Links {
            &node.0
        }
        fn links_mut(node: &mut Node) -> &mut Links {
            &mut node.0
        }
    }

    fn order(list: &List<Field>, slab: &Slab<Node>) -> Vec<u32> {
        list.iter(slab).collect()
    }

    #[test]
    fn push_unlink_move_and_pop() {
        let mut slab = Slab::new();
        let mut list = List::<Field>::new();
        for _ in 0..4 {
            let i = slab.push(Node(Links::UNLINKED));
            list.push_back(&mut slab, i);
        }
        assert_eq!(order(&list, &slab), [0, 1, 2, 3]);
        list.move_to_back(&mut slab, 1);
        assert_eq!(order(&list, &slab), [0, 2, 3, 1]);
        list.unlink(&mut slab, 3);
        assert_eq!(order(&list, &slab), [0, 2, 1]);
        assert_eq!(list.pop_front(&mut slab), Some(0));
        assert_eq!(order(&list, &slab), [2, 1]);
        assert!(!list.is_empty());
    }

    #[test]
    fn relocate_follows_a_moved_node() {
        let mut slab = Slab::new();
        let mut list = List::<Field>::new();
        for _ in 0..3 {
            let i = slab.push(Node(Links::UNLINKED));
            list.push_back(&mut slab, i);
        }
        // Remove node 0 from the list, then from the slab: node 2 moves to index 0.
        list.unlink(&mut slab, 0);
        let (_, moved) = slab.swap_remove(0);
        assert_eq!(moved, Some(2));
        list.relocate(&mut slab, 2, 0);
        assert_eq!(order(&list, &slab), [1, 0]);
        assert_eq!(list.pop_front(&mut slab), Some(1));
        assert_eq!(list.pop_front(&mut slab), Some(0));
        assert!(list.is_empty());
    }
}
