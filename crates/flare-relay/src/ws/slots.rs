//! Caps on open WebSockets, per console login and for the whole relay. A [`SocketSlot`] is taken
//! before the upgrade, in one step under one lock (two tabs opening at once cannot both take the
//! last place), and held for the socket's life: dropping it frees the place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::sync::lock;

/// Why a socket is refused before its upgrade.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SocketRefusal {
    /// The login holds its most sockets (HTTP 429).
    #[error(
        "this login already has {max} sockets open: close other console tabs and try again \
         (or raise [limits] max_sockets_per_session)"
    )]
    Login { max: usize },
    /// The relay holds its most sockets (HTTP 503).
    #[error(
        "the relay already serves its most sockets ({max}): try again in a minute \
         (or raise [limits] max_sockets)"
    )]
    Relay { max: usize },
}

/// The sockets open now, per login and in all.
pub struct SocketSlots {
    max_per_login: usize,
    max_total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_login: HashMap<String, usize>,
}

/// One open socket's place; freed on drop.
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    login: String,
}

impl SocketSlots {
    pub fn new(max_per_login: usize, max_total: usize) -> Arc<SocketSlots> {
        Arc::new(SocketSlots {
            max_per_login,
            max_total,
            open: Mutex::new(Open::default()),
        })
    }

    /// Takes a place for a socket of `login` (a [`crate::auth::LoginSession::id`]), or says why
    /// not: the relay's cap first, then the login's.
    pub fn take(self: &Arc<Self>, login: &str) -> Result<SocketSlot, SocketRefusal> {
        let mut open = lock(&self.open);
        if open.total >= self.max_total {
            return Err(SocketRefusal::Relay {
                max: self.max_total,
            });
        }
        let mine = open.per_login.get(login).copied().unwrap_or(0);
        if mine >= self.max_per_login {
            return Err(SocketRefusal::Login {
                max: self.max_per_login,
            });
        }
        open.total += 1;
        open.per_login.insert(login.to_owned(), mine + 1);
        Ok(SocketSlot {
            slots: self.clone(),
            login: login.to_owned(),
        })
    }

    /// Sockets open now, all logins together.
    pub fn open(&self) -> usize {
        lock(&self.open).total
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.slots.open);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_login.get_mut(&self.login) {
            *n -= 1;
            if *n == 0 {
                open.per_login.remove(&self.login);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_login_and_in_all_and_freed_on_drop() {
        let slots = SocketSlots::new(2, 3);
        let a1 = slots.take("a").expect("a 1");
        let a2 = slots.take("a").expect("a 2");
        assert_eq!(slots.take("a").err(), Some(SocketRefusal::Login { max: 2 }));
        let b1 = slots.take("b").expect("b 1");
        assert_eq!(slots.take("b").err(), Some(SocketRefusal::Relay { max: 3 }));
        assert_eq!(slots.open(), 3);
        drop(a1);
        let a3 = slots.take("a").expect("a place came free");
        drop((a2, a3, b1));
        assert_eq!(slots.open(), 0);
        assert!(lock(&slots.open).per_login.is_empty());
    }
}
