//! Deep sizes of values. (Being written.)

/// The memory a value occupies: its inline size plus every heap byte it owns.
pub trait DeepSize {
    /// Heap bytes owned by the value, not counting its inline size.
    fn heap_size(&self) -> usize;

    /// Inline size plus heap bytes.
    fn deep_size(&self) -> usize {
        std::mem::size_of_val(self) + self.heap_size()
    }
}
