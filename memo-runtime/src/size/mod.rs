//! Sizes: the deep size of keys and values ([`DeepSize`](deep_size::DeepSize)) and byte sizes
//! as users write them (`"64M"`, [`ByteSize`](byte_size::ByteSize)).

pub(crate) mod byte_size;
pub(crate) mod deep_size;
pub(crate) mod min_bound;
pub(crate) mod parse;
pub(crate) mod percent;
