//! What a store keeps for the FaaS features: the share its byte bound was given as.

use crate::faas::share::ResolvedShare;
use crate::sync::Mutex;

/// The FaaS state of one store (a field of [`FaasCacheDict`](crate::FaasCacheDict)).
#[derive(Debug, Default)]
pub(crate) struct StoreFaas {
    /// The share of the process's memory that `max_size` was given as, if it was.
    share: Mutex<Option<ResolvedShare>>,
}

impl StoreFaas {
    pub(crate) fn set_share(&self, share: Option<ResolvedShare>) {
        *self.share.lock() = share;
    }

    pub(crate) fn share(&self) -> Option<ResolvedShare> {
        self.share.lock().clone()
    }
}
