//! What FaaS needs beyond the store: sizes relative to the container's memory
//! ([`memory`], [`share`]), one memory budget for the process ([`budget`]), the registry of
//! every cache ([`registry`], [`member`]) and its one-line summary ([`summary`]), and what each
//! store keeps for them ([`link`]).

pub(crate) mod budget;
pub(crate) mod link;
pub(crate) mod member;
pub(crate) mod memory;
pub(crate) mod registry;
pub(crate) mod share;
pub(crate) mod summary;
