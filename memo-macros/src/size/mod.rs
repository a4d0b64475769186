//! The runtime's parsers of `max_size` (`"64M"`, `"10%"`), so that the attribute is checked at
//! compile time by the rules the runtime applies. Byte-for-byte copies of
//! `memo-runtime/src/size/{parse,percent}.rs` (see their headers); the formatting functions
//! they also hold are the runtime's and unused here.

#[allow(dead_code)]
pub(crate) mod parse;
#[allow(dead_code)]
pub(crate) mod percent;
