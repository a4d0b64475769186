//! The in-memory store (the first tier): [`FaasCacheDict`](dict::FaasCacheDict), its builder,
//! and the single-threaded shard it is made of (hash table, slab of nodes, eviction lists,
//! timer wheel), with the hooks and statistics around it.

pub(crate) mod builder;
pub(crate) mod dict;
pub(crate) mod hash;
pub(crate) mod hooks;
pub(crate) mod key_ref;
pub(crate) mod list;
pub(crate) mod policy;
pub(crate) mod shard;
pub(crate) mod slab;
pub(crate) mod stats;
pub(crate) mod wheel;
