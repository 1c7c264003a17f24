//! The browser: chromedriver and a headless Chromium per test, cleaned up whatever happens, and
//! page helpers that wait for elements, sign in and read the path.

use std::fs;
use std::future::Future;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::{Deadline, Login, POLL, log_dir, poll_blocking, scratch_dir, target_dir};

/// Screenshots for people to look at, in `<target>/e2e-screenshots/`.
pub async fn screenshot(client: &Client, name: &str) {
    let dir = target_dir().join("e2e-screenshots");
    fs::create_dir_all(&dir).expect("create the screenshot dir");
    let png = client.screenshot().await.expect("take a screenshot");
    fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
}

/// chromedriver on a port of its choosing plus the Chromium profile and temp dir it uses; all
/// cleaned up on drop.
struct Driver {
    child: Child,
    url: String,
    /// The scratch folder, with the profile in `profile/`.
    dir: PathBuf,
    profile: PathBuf,
    /// Chromium's TMPDIR, where it keeps its `org.chromium.Chromium.scoped_dir.*` folders.
    tmp: PathBuf,
}

/// A fresh, short TMPDIR for one browser. Chromium puts its singleton socket there, and a Unix
/// socket path holds at most 107 bytes: a short folder beside the scratch folders, or in the
/// system temp dir should the repository's path be too long for that.
fn browser_tmp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let leaf = format!(
        "t{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut dir = target_dir().join("e2e-tmp").join(&leaf);
    if dir.as_os_str().len() > 56 {
        dir = std::env::temp_dir().join(format!("flare-e2e-{leaf}"));
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("clear the browser temp dir");
    }
    fs::create_dir_all(&dir).expect("create the browser temp dir");
    dir
}

impl Driver {
    fn start(name: &str) -> Driver {
        let dir = scratch_dir(&format!("chromium-{name}"));
        let (profile, tmp) = (dir.join("profile"), browser_tmp_dir());
        let log_path = log_dir().join(format!("chromedriver-{name}.log"));
        let log = fs::File::create(&log_path).expect("create the chromedriver log");
        // `--port=0`: chromedriver binds a free port itself and says which on stdout.
        let child = Command::new(chromedriver())
            .arg("--port=0")
            .env("TMPDIR", &tmp)
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn chromedriver");
        let mut driver = Driver {
            child,
            url: String::new(),
            dir,
            profile,
            tmp,
        };
        let port = poll_blocking("chromedriver to listen", Duration::from_secs(30), || {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited ({status})");
            }
            announced_port(&fs::read_to_string(&log_path).ok()?)
        });
        driver.url = format!("http://127.0.0.1:{port}");
        driver
    }

    async fn connect(&self) -> Client {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", self.profile.display())])
        .collect::<Vec<_>>();
        let caps = json!({
            "goog:chromeOptions": {"binary": chromium(), "args": args},
            "pageLoadStrategy": "normal",
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a json object literal")
        };
        // chromedriver has been seen to reset the very first connection of a session request
        // under load; a request that never reached it is sent again, any answer it gave is final.
        let deadline = Deadline::new("a headless Chromium session", Duration::from_secs(60));
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(
                    e @ (NewSessionError::Failed(_)
                    | NewSessionError::FailedC(_)
                    | NewSessionError::Lost(_)),
                ) => deadline.tick(e).await,
                Err(e) => panic!("start a headless Chromium session: {e:?}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Should the session not have been closed, end the browser processes of this profile, and
        // only those.
        kill_processes_mentioning(&self.profile.display().to_string());
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// The port in chromedriver's `ChromeDriver was started successfully on port <n>.` line.
fn announced_port(log: &str) -> Option<u16> {
    log.lines()
        .find_map(|l| l.split_once("started successfully on port "))
        .and_then(|(_, rest)| rest.trim().trim_end_matches('.').parse().ok())
        .filter(|&port| port != 0)
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Kills the processes whose command line contains `needle` (a unique profile path).
fn kill_processes_mentioning(needle: &str) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

/// Runs `body` with a fresh headless Chromium; the WebDriver session is closed and the processes
/// ended whatever happens, and a failing test leaves a screenshot `<name>-failure.png`.
pub async fn with_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()>,
{
    let driver = {
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Driver::start(&name))
            .await
            .expect("start chromedriver")
    };
    let client = driver.connect().await;
    let outcome = AssertUnwindSafe(body(client.clone())).catch_unwind().await;
    if outcome.is_err() {
        let _ = AssertUnwindSafe(screenshot(&client, &format!("{name}-failure")))
            .catch_unwind()
            .await;
    }
    let _ = client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

/// The first element `locator` finds, waiting for it up to `limit`; `what` names it in the panic.
async fn wait_for(client: &Client, locator: Locator<'_>, what: &str, limit: Duration) -> Element {
    client
        .wait()
        .at_most(limit)
        .every(POLL)
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("no element `{what}` within {limit:?}: {e}"))
}

/// The first element matching `css`, waiting for it up to `limit`.
pub async fn wait_css(client: &Client, css: &str, limit: Duration) -> Element {
    wait_for(client, Locator::Css(css), css, limit).await
}

/// The first element matching `xpath`, waiting for it up to `limit`.
pub async fn wait_xpath(client: &Client, xpath: &str, limit: Duration) -> Element {
    wait_for(client, Locator::XPath(xpath), xpath, limit).await
}

/// Waits for the first element matching `css` (up to `limit`) and clicks it.
pub async fn click_css(client: &Client, css: &str, limit: Duration) {
    click(wait_css(client, css, limit).await, css).await;
}

/// Waits for the first element matching `xpath` (up to `limit`) and clicks it.
pub async fn click_xpath(client: &Client, xpath: &str, limit: Duration) {
    click(wait_xpath(client, xpath, limit).await, xpath).await;
}

/// Waits for the button named `name` (its text, up to `limit`) and clicks it.
pub async fn click_button(client: &Client, name: &str, limit: Duration) {
    let xpath = format!("//button[normalize-space(.)='{name}']");
    click_xpath(client, &xpath, limit).await;
}

/// Waits for the navigation link named `name` (its text, up to `limit`) and clicks it.
pub async fn click_nav_link(client: &Client, name: &str, limit: Duration) {
    let xpath = format!("//nav//a[normalize-space(.)='{name}']");
    click_xpath(client, &xpath, limit).await;
}

async fn click(element: Element, what: &str) {
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click `{what}`: {e}"));
}

/// The text input labelled `label` (by `<label for>`, a wrapping `<label>` or `aria-label`).
pub async fn input_labelled(client: &Client, label: &str) -> Element {
    let xpath = format!(
        "//input[@id = //label[normalize-space(.)='{label}']/@for] \
         | //label[starts-with(normalize-space(.), '{label}')]//input \
         | //input[@aria-label='{label}']"
    );
    wait_xpath(client, &xpath, Duration::from_secs(30)).await
}

/// Loads `<base>/login` and signs in through the form.
pub async fn sign_in(client: &Client, base: &str, login: Login) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("open /login");
    input_labelled(client, "User name")
        .await
        .send_keys(login.name)
        .await
        .expect("type the user name");
    input_labelled(client, "Password")
        .await
        .send_keys(login.password)
        .await
        .expect("type the password");
    click_button(client, "Sign in", Duration::from_secs(10)).await;
}

/// Signs in through the form and waits (up to `limit`) for the overview to show a site.
pub async fn sign_in_to_overview(client: &Client, base: &str, login: Login, limit: Duration) {
    sign_in(client, base, login).await;
    wait_css(client, ".site[data-site]", limit).await;
}

/// The page's current path.
pub async fn current_path(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("current url")
        .path()
        .to_owned()
}

/// Polls until the page is at `path`.
pub async fn wait_path(client: &Client, path: &str, limit: Duration) {
    let deadline = Deadline::new("the page path", limit);
    loop {
        let now = current_path(client).await;
        if now == path {
            return;
        }
        deadline.tick((path, now)).await;
    }
}

/// Sets a marker on the page that only survives in-app navigation (see [`not_reloaded`]).
pub async fn mark_page(client: &Client) {
    client
        .execute("window.__marker = 1;", vec![])
        .await
        .expect("mark the page");
}

/// True when the page was not reloaded since [`mark_page`].
pub async fn not_reloaded(client: &Client) -> bool {
    client
        .execute("return window.__marker === 1;", vec![])
        .await
        .expect("read the marker")
        == json!(true)
}

/// The `value` of the first field matching `css`, waiting for it up to `limit`.
pub async fn field_value(client: &Client, css: &str, limit: Duration) -> Option<String> {
    wait_css(client, css, limit)
        .await
        .prop("value")
        .await
        .ok()
        .flatten()
}
