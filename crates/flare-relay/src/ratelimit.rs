//! A token bucket: the login limit per client address and the command limit per tab.

use std::time::Duration;

use tokio::time::Instant;

/// Holds up to `burst` tokens and refills `rate` tokens per second.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }

    /// Takes one token, or says how long until one is there.
    pub fn take(&mut self) -> Result<(), Duration> {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - self.tokens;
            Err(Duration::from_secs_f64(
                missing / self.rate.max(f64::MIN_POSITIVE),
            ))
        }
    }

    /// True when no token was taken lately (the bucket can be forgotten).
    pub fn is_full(&mut self) -> bool {
        self.refill();
        self.tokens >= self.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refills_at_the_rate() {
        let mut bucket = TokenBucket::new(2.0, 2.0);
        assert!(bucket.take().is_ok());
        assert!(bucket.take().is_ok());
        let wait = bucket.take().expect_err("empty");
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(bucket.take().is_ok());
        assert!(!bucket.is_full());
    }
}
