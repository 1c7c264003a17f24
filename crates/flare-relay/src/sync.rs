//! The relay's one way to take a `std::sync::Mutex`: poison-tolerant, because every critical section
//! in the relay is a few assignments that leave the data consistent even if a holder panicked.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, taking the data back from a holder that panicked.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
