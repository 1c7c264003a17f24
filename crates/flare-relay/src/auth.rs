//! Console logins: configured users with argon2 password hashes, the server-side session store
//! behind the `flare_session` cookie, and the per-client login rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use flare_model::{KioskToken, Role, SessionInfo};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::ratelimit::TokenBucket;
use crate::sync::lock;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "flare_session";

/// The one message for a wrong user name and a wrong password alike.
pub const WRONG_LOGIN: &str = "wrong user name or password";

/// A configured console user, with its NVFlare identity resolved from its kit.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub identity: String,
    pub kit: PathBuf,
    pub study: String,
    password_hash: String,
}

impl User {
    pub fn new(
        name: String,
        role: Role,
        identity: String,
        kit: PathBuf,
        study: String,
        password_hash: String,
    ) -> Self {
        User {
            name,
            role,
            identity,
            kit,
            study,
            password_hash,
        }
    }
}

/// The configured users.
pub struct Users {
    by_name: HashMap<String, Arc<User>>,
    /// Verified against when the user name is unknown, so both failures take the same time.
    dummy_hash: String,
}

impl Users {
    pub fn new(users: Vec<User>) -> Self {
        // The dummy uses the first user's parameters: unknown names cost what known names cost.
        let params = users
            .first()
            .and_then(|u| PasswordHash::new(&u.password_hash).ok())
            .and_then(|h| argon2::Params::try_from(&h).ok())
            .unwrap_or_default();
        let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let dummy_hash = hash_with(&hasher, b"not a password of anyone").unwrap_or_else(|_| {
            users
                .first()
                .map(|u| u.password_hash.clone())
                .unwrap_or_default()
        });
        Users {
            by_name: users
                .into_iter()
                .map(|u| (u.name.clone(), Arc::new(u)))
                .collect(),
            dummy_hash,
        }
    }

    /// Checks a user name and password; `None` for either being wrong. CPU-heavy: call it from a
    /// blocking thread.
    pub fn verify(&self, name: &str, password: &str) -> Option<Arc<User>> {
        let user = self.by_name.get(name);
        let hash = user.map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let ok = PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        if ok { user.cloned() } else { None }
    }

    /// All users.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<User>> {
        self.by_name.values()
    }
}

/// Hashes a password as an argon2id PHC string with the default (OWASP) parameters.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    hash_with(&Argon2::default(), password.as_bytes())
}

fn hash_with(hasher: &Argon2<'_>, password: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher.hash_password(password, &salt)?.to_string())
}

/// One console login.
pub struct LoginSession {
    /// A random id for this login, not the cookie token: what uploads and downloads belong to.
    pub id: String,
    pub user: Arc<User>,
    pub expires_at: Instant,
    /// The kiosk token this login came from, for a kiosk login.
    pub kiosk: Option<KioskToken>,
    /// Set before `ended` when the kiosk token was revoked (the sockets close with 4003).
    pub revoked: Arc<AtomicBool>,
    ended: watch::Sender<bool>,
}

impl LoginSession {
    /// Resolves to true once the session is logged out.
    pub fn ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    /// True for an operator's own login; a kiosk login is always a viewer.
    pub fn is_operator(&self) -> bool {
        self.user.role == Role::Operator && self.kiosk.is_none()
    }

    /// The body `/api/login` and `/api/session` answer with, given the relay's upload limit.
    pub fn body(&self, max_upload_bytes: u64) -> SessionInfo {
        SessionInfo {
            user: self.user.name.clone(),
            role: self.user.role,
            identity: self.user.identity.clone(),
            study: self.user.study.clone(),
            max_upload_bytes,
            kiosk: self.kiosk.is_some(),
        }
    }
}

/// The server-side session store.
pub struct Sessions {
    ttl: Duration,
    by_token: Mutex<HashMap<String, Arc<LoginSession>>>,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            by_token: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `user`; returns its token (256 random bits, hex).
    pub fn create(&self, user: Arc<User>) -> Result<(String, Arc<LoginSession>), getrandom::Error> {
        self.start(user, None)
    }

    /// Starts a kiosk session (`user` is the kiosk's viewer); it ends when the token expires, or
    /// with the usual lifetime if that comes first.
    pub fn create_kiosk(
        &self,
        user: Arc<User>,
        token: KioskToken,
    ) -> Result<(String, Arc<LoginSession>), getrandom::Error> {
        self.start(user, Some(token))
    }

    fn start(
        &self,
        user: Arc<User>,
        kiosk: Option<KioskToken>,
    ) -> Result<(String, Arc<LoginSession>), getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = crate::transfers::random_id()?;
        let (ended, _) = watch::channel(false);
        let mut lifetime = self.ttl;
        if let Some(kiosk) = &kiosk {
            let left = kiosk.expires_at_ms.saturating_sub(crate::clock::now_ms());
            lifetime = lifetime.min(Duration::from_millis(left));
        }
        let session = Arc::new(LoginSession {
            id,
            user,
            expires_at: Instant::now() + lifetime,
            kiosk,
            revoked: Arc::new(AtomicBool::new(false)),
            ended,
        });
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, s| s.expires_at > now);
        map.insert(token.clone(), session.clone());
        Ok((token, session))
    }

    /// The live session of a token.
    pub fn get(&self, token: &str) -> Option<Arc<LoginSession>> {
        let mut map = self.lock();
        let session = map.get(token)?.clone();
        if session.expires_at <= Instant::now() {
            map.remove(token);
            let _ = session.ended.send(true);
            return None;
        }
        Some(session)
    }

    /// The live session named by the request's cookie.
    pub fn from_headers(&self, headers: &HeaderMap) -> Option<Arc<LoginSession>> {
        self.get(&session_cookie(headers)?)
    }

    /// Ends a session; its sockets close.
    pub fn remove(&self, token: &str) {
        if let Some(session) = self.lock().remove(token) {
            let _ = session.ended.send(true);
        }
    }

    /// Ends every session of a kiosk token; their sockets close with 4003. Returns how many.
    pub fn revoke_kiosk(&self, token_id: &str) -> usize {
        let mut map = self.lock();
        let mut ended = 0;
        map.retain(|_, session| {
            let of_token = session.kiosk.as_ref().is_some_and(|k| k.id == token_id);
            if of_token {
                session.revoked.store(true, Ordering::SeqCst);
                let _ = session.ended.send(true);
                ended += 1;
            }
            !of_token
        });
        ended
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<LoginSession>>> {
        lock(&self.by_token)
    }
}

/// The `flare_session` cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(token: &str, secure: bool, ttl: Duration) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        ttl.as_secs()
    )
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// Login attempts per client address: a token bucket each.
pub struct LoginLimiter {
    per_min: f64,
    buckets: Mutex<HashMap<IpAddr, TokenBucket>>,
}

impl LoginLimiter {
    pub fn new(per_min: f64) -> Self {
        LoginLimiter {
            per_min,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `ip`; `Err(wait)` when the client must wait.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), Duration> {
        let mut buckets = lock(&self.buckets);
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| !b.is_full());
        }
        buckets
            .entry(ip)
            .or_insert_with(|| TokenBucket::new(self.per_min / 60.0, self.per_min))
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn cheap_hash(password: &str) -> String {
        let params = argon2::Params::new(256, 1, 1, None).expect("params");
        let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        hash_with(&hasher, password.as_bytes()).expect("hash")
    }

    fn user(name: &str, password: &str) -> User {
        User::new(
            name.into(),
            Role::Viewer,
            "admin@nvidia.com".into(),
            PathBuf::from("kit"),
            "default".into(),
            cheap_hash(password),
        )
    }

    #[test]
    fn verify_accepts_the_right_password_only() {
        let users = Users::new(vec![user("ann", "secret")]);
        assert_eq!(
            users.verify("ann", "secret").map(|u| u.name.clone()),
            Some("ann".into())
        );
        assert!(users.verify("ann", "Secret").is_none());
        assert!(users.verify("bob", "secret").is_none());
    }

    #[test]
    fn the_dummy_hash_uses_the_users_parameters() {
        let users = Users::new(vec![user("ann", "secret")]);
        let dummy = PasswordHash::new(&users.dummy_hash).expect("phc");
        assert_eq!(dummy.params.get_decimal("m"), Some(256));
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; flare_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        headers.insert(COOKIE, HeaderValue::from_static("flare_sessionx=abc"));
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn set_cookie_has_the_required_attributes() {
        let c = set_cookie("t", false, Duration::from_secs(60));
        assert!(
            c.starts_with("flare_session=t; HttpOnly; SameSite=Strict; Path=/"),
            "{c}"
        );
        assert!(!c.contains("Secure"));
        assert!(set_cookie("t", true, Duration::from_secs(60)).ends_with("; Secure"));
    }

    #[tokio::test]
    async fn sessions_expire_and_end_on_logout() {
        let sessions = Sessions::new(Duration::from_secs(3600));
        let u = Arc::new(user("ann", "x"));
        let (token, session) = sessions.create(u.clone()).expect("token");
        assert_eq!(token.len(), 64);
        assert!(sessions.get(&token).is_some());
        let ended = session.ended();
        sessions.remove(&token);
        assert!(*ended.borrow());
        assert!(sessions.get(&token).is_none());

        let short = Sessions::new(Duration::ZERO);
        let (token, _) = short.create(u).expect("token");
        assert!(short.get(&token).is_none());
    }

    #[test]
    fn login_limiter_refuses_after_the_burst() {
        let limiter = LoginLimiter::new(3.0);
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..3 {
            assert!(limiter.attempt(ip).is_ok());
        }
        assert!(limiter.attempt(ip).is_err());
        assert!(limiter.attempt("127.0.0.2".parse().expect("ip")).is_ok());
    }
}
