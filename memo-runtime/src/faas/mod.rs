//! What FaaS needs beyond the store: sizes relative to the container's memory
//! ([`memory`], [`share`]), and what each store keeps for them ([`link`]).

pub(crate) mod link;
pub(crate) mod memory;
pub(crate) mod share;
