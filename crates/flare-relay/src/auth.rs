//! Console logins: configured users with argon2 password hashes (OWASP's minimum parameters, checked
//! by [`check_hash_strength`]), the server-side session store behind the `flare_session` cookie
//! with its absolute and idle lifetimes, and the login rate limits per client address and per
//! account.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
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

/// OWASP's minimum argon2id parameters (Password Storage Cheat Sheet): each pair of memory (KiB)
/// and iterations is one of its equivalent choices, all with at least one lane.
pub const OWASP_ARGON2ID: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// Why a password hash is refused: it is no argon2id PHC string, or weaker than
/// [`OWASP_ARGON2ID`].
pub fn check_hash_strength(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc).map_err(|e| format!("is not an argon2 PHC string: {e}"))?;
    if hash.algorithm != argon2::Algorithm::Argon2id.ident() {
        return Err(format!(
            "uses {} where argon2id is required: hash the password again with `flare-relay hash-password`",
            hash.algorithm
        ));
    }
    let params = argon2::Params::try_from(&hash)
        .map_err(|e| format!("has unreadable argon2 parameters: {e}"))?;
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    let strong = p >= 1
        && OWASP_ARGON2ID
            .iter()
            .any(|&(min_m, min_t)| m >= min_m && t >= min_t);
    if strong {
        return Ok(());
    }
    Err(format!(
        "is too weak (argon2id m={m} KiB, t={t}, p={p}): OWASP's minimum is m=19456 KiB, t=2, p=1 \
         (or m=47104 with t=1, m=12288 with t=3, m=9216 with t=4, m=7168 with t=5); hash the \
         password again with `flare-relay hash-password`"
    ))
}

/// The configured users.
pub struct Users {
    by_name: HashMap<String, Arc<User>>,
    /// One hash of no one's password per parameter set in use: an unknown name is verified
    /// against one of them, so it costs what a known name costs.
    dummies: Vec<String>,
    /// For each user (in name order), the index of the dummy with that user's parameters: an
    /// unknown name picks one entry by a keyed hash of the name, so the costs of unknown names
    /// are spread like those of the users, and a name always costs the same.
    dummy_of_user: Vec<usize>,
    pick: RandomState,
}

impl Users {
    pub fn new(users: Vec<User>) -> Self {
        let mut sorted: Vec<&User> = users.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut params_in_use: Vec<argon2::Params> = Vec::new();
        let mut dummies = Vec::new();
        let mut dummy_of_user = Vec::new();
        for user in sorted {
            let params = PasswordHash::new(&user.password_hash)
                .ok()
                .and_then(|h| argon2::Params::try_from(&h).ok())
                .unwrap_or_default();
            let index = match params_in_use.iter().position(|p| *p == params) {
                Some(index) => index,
                None => {
                    let hasher = Argon2::new(
                        argon2::Algorithm::Argon2id,
                        argon2::Version::V0x13,
                        params.clone(),
                    );
                    let dummy = hash_with(&hasher, b"not a password of anyone")
                        .unwrap_or_else(|_| user.password_hash.clone());
                    params_in_use.push(params);
                    dummies.push(dummy);
                    dummies.len() - 1
                }
            };
            dummy_of_user.push(index);
        }
        if dummies.is_empty() {
            dummies.extend(hash_password("not a password of anyone").ok());
            dummy_of_user.push(0);
        }
        Users {
            by_name: users
                .into_iter()
                .map(|u| (u.name.clone(), Arc::new(u)))
                .collect(),
            dummies,
            dummy_of_user,
            pick: RandomState::new(),
        }
    }

    /// The dummy hash an unknown `name` is verified against.
    fn dummy_for(&self, name: &str) -> &str {
        let slot = self.pick.hash_one(name) as usize % self.dummy_of_user.len().max(1);
        let index = self.dummy_of_user.get(slot).copied().unwrap_or(0);
        self.dummies.get(index).map_or("", String::as_str)
    }

    /// Checks a user name and password; `None` for either being wrong. CPU-heavy: call it from a
    /// blocking thread.
    pub fn verify(&self, name: &str, password: &str) -> Option<Arc<User>> {
        let user = self.by_name.get(name);
        let hash = user.map_or_else(|| self.dummy_for(name), |u| u.password_hash.as_str());
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

/// When a login was last used: any authenticated request, or a command or subscription from one
/// of its sockets. Shared with those sockets ([`crate::session::TabSession::with_activity`]).
#[derive(Clone, Debug)]
pub struct Activity(Arc<Mutex<Instant>>);

impl Activity {
    fn new() -> Self {
        Activity(Arc::new(Mutex::new(Instant::now())))
    }

    /// Records a use now.
    pub fn touch(&self) {
        *lock(&self.0) = Instant::now();
    }

    /// How long since the last use.
    pub fn idle_for(&self) -> Duration {
        Instant::now().saturating_duration_since(*lock(&self.0))
    }
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
    /// The last use; the login ends after `idle` without one.
    activity: Activity,
    idle: Duration,
    ended: watch::Sender<bool>,
}

impl LoginSession {
    /// The login's last use, for its sockets to renew.
    pub fn activity(&self) -> Activity {
        self.activity.clone()
    }

    /// True once the login is past its lifetime or has been idle too long.
    fn is_over(&self) -> bool {
        self.expires_at <= Instant::now() || self.activity.idle_for() >= self.idle
    }

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

/// The server-side session store. A login ends at logout, after its lifetime (`ttl`), or after
/// `idle` without a use; [`Sessions::reap`] ends the idle ones that nobody asks about, so their
/// sockets close.
pub struct Sessions {
    ttl: Duration,
    idle: Duration,
    by_token: Mutex<HashMap<String, Arc<LoginSession>>>,
}

impl Sessions {
    pub fn new(ttl: Duration, idle: Duration) -> Self {
        Sessions {
            ttl,
            idle,
            by_token: Mutex::new(HashMap::new()),
        }
    }

    /// How often [`Sessions::reap`] should run: a tenth of the idle limit, 1 s to 30 s.
    pub fn reap_every(&self) -> Duration {
        (self.idle / 10).clamp(Duration::from_secs(1), Duration::from_secs(30))
    }

    /// Ends every login past its lifetime or idle limit (their sockets close with 4001).
    pub fn reap(&self) {
        let mut map = self.lock();
        map.retain(|_, session| {
            let over = session.is_over();
            if over {
                tracing::info!(target: "audit", user = %session.user.name, "session ended (idle or expired)");
                session.ended.send_replace(true);
            }
            !over
        });
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
            activity: Activity::new(),
            idle: self.idle,
            ended,
        });
        self.reap();
        self.lock().insert(token.clone(), session.clone());
        Ok((token, session))
    }

    /// The live session of a token; asking is a use of it (it renews the idle limit).
    pub fn get(&self, token: &str) -> Option<Arc<LoginSession>> {
        let mut map = self.lock();
        let session = map.get(token)?.clone();
        if session.is_over() {
            map.remove(token);
            session.ended.send_replace(true);
            return None;
        }
        session.activity.touch();
        Some(session)
    }

    /// The live session named by the request's cookie.
    pub fn from_headers(&self, headers: &HeaderMap) -> Option<Arc<LoginSession>> {
        self.get(&session_cookie(headers)?)
    }

    /// Ends a session; its sockets close.
    pub fn remove(&self, token: &str) {
        if let Some(session) = self.lock().remove(token) {
            session.ended.send_replace(true);
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
                session.ended.send_replace(true);
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

/// Token buckets keyed by `K`, each refilling `per_min` attempts a minute (burst: as many).
struct Buckets<K> {
    per_min: f64,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: std::hash::Hash + Eq> Buckets<K> {
    fn new(per_min: f64) -> Self {
        Buckets {
            per_min,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key`; `Err(wait)` when it must wait.
    fn take(&self, key: K) -> Result<(), Duration> {
        let mut buckets = lock(&self.buckets);
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| !b.is_full());
        }
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.per_min / 60.0, self.per_min))
            .take()
    }
}

/// The longest prefix of a user name an account bucket is keyed by (longer names are no user's
/// and share the bucket of their prefix).
const ACCOUNT_KEY_BYTES: usize = 128;

/// Login attempts per client address and per account name: a token bucket each. The address
/// limit stops one client from guessing fast; the account limit, higher than one address's,
/// stops many addresses from guessing one account fast without letting one address lock an
/// account out.
pub struct LoginLimiter {
    by_ip: Buckets<IpAddr>,
    by_account: Buckets<String>,
}

impl LoginLimiter {
    /// `per_min` attempts per address, `per_account_per_min` per account name, a minute each.
    pub fn new(per_min: f64, per_account_per_min: f64) -> Self {
        LoginLimiter {
            by_ip: Buckets::new(per_min),
            by_account: Buckets::new(per_account_per_min),
        }
    }

    /// Takes one attempt for `ip`; `Err(wait)` when the client must wait.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), Duration> {
        self.by_ip.take(ip)
    }

    /// Takes one attempt at the account `name` (known or not, so that a limit reveals nothing);
    /// `Err(wait)` when it must wait.
    pub fn attempt_account(&self, name: &str) -> Result<(), Duration> {
        let mut end = name.len().min(ACCOUNT_KEY_BYTES);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        self.by_account.take(name[..end].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use axum::http::HeaderValue;

    fn cheap_hash(password: &str) -> String {
        hash_m(password, 256)
    }

    /// A hash with `m` KiB (cheap enough for unit tests; strength is checked at config load).
    fn hash_m(password: &str, m: u32) -> String {
        let params = argon2::Params::new(m, 1, 1, None).expect("params");
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
    fn unknown_names_cost_what_the_users_with_each_parameter_set_cost() {
        let mut users = vec![user("ann", "secret"), user("bob", "secret")];
        users.push(User {
            password_hash: hash_m("secret", 512),
            ..user("cat", "secret")
        });
        let users = Users::new(users);
        let m_of = |hash: &str| {
            PasswordHash::new(hash)
                .expect("phc")
                .params
                .get_decimal("m")
        };
        let mut dummies: Vec<_> = users.dummies.iter().map(|d| m_of(d)).collect();
        dummies.sort();
        assert_eq!(
            dummies,
            [Some(256), Some(512)],
            "one dummy per parameter set"
        );
        // Unknown names spread over both parameter sets, each name always on the same one.
        let costs: BTreeSet<_> = (0..64)
            .map(|i| format!("nobody-{i}"))
            .map(|name| {
                let m = m_of(users.dummy_for(&name));
                assert_eq!(m, m_of(users.dummy_for(&name)), "{name}");
                m
            })
            .collect();
        assert_eq!(costs, BTreeSet::from([Some(256), Some(512)]));
        assert!(users.verify("nobody-1", "secret").is_none());
        assert!(users.verify("cat", "secret").is_some());
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
        let sessions = Sessions::new(Duration::from_secs(3600), Duration::from_secs(3600));
        let u = Arc::new(user("ann", "x"));
        let (token, session) = sessions.create(u.clone()).expect("token");
        assert_eq!(token.len(), 64);
        assert!(sessions.get(&token).is_some());
        let ended = session.ended();
        sessions.remove(&token);
        assert!(*ended.borrow());
        assert!(sessions.get(&token).is_none());

        let short = Sessions::new(Duration::ZERO, Duration::from_secs(3600));
        let (token, _) = short.create(u).expect("token");
        assert!(short.get(&token).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_session_ends_and_each_use_renews_it() {
        let idle = Duration::from_secs(10);
        let sessions = Sessions::new(Duration::from_secs(3600), idle);
        let (token, session) = sessions.create(Arc::new(user("ann", "x"))).expect("token");
        let ended = session.ended();
        // A request (get) and a socket frame (activity) each renew the idle limit.
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(sessions.get(&token).is_some(), "a request 6 s in");
        tokio::time::advance(Duration::from_secs(6)).await;
        session.activity().touch();
        tokio::time::advance(Duration::from_secs(6)).await;
        sessions.reap();
        assert!(!*ended.borrow(), "18 s old, 6 s idle");
        tokio::time::advance(Duration::from_secs(4)).await;
        sessions.reap();
        assert!(*ended.borrow(), "10 s idle: ended like a logout");
        assert!(sessions.get(&token).is_none());
        // Asking for an idle session ends it too, reaped or not.
        let (token, session) = sessions.create(Arc::new(user("bob", "x"))).expect("token");
        tokio::time::advance(idle).await;
        assert!(sessions.get(&token).is_none());
        assert!(*session.ended().borrow());
    }

    #[test]
    fn login_limiter_refuses_after_the_burst() {
        let limiter = LoginLimiter::new(3.0, 100.0);
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..3 {
            assert!(limiter.attempt(ip).is_ok());
        }
        assert!(limiter.attempt(ip).is_err());
        assert!(limiter.attempt("127.0.0.2".parse().expect("ip")).is_ok());
    }
}
