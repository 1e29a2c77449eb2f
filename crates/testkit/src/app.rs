//! The real app window, driven through WebDriver.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::desktop::DesktopSession;
use crate::process::Guarded;

/// The app binary built with the test configuration (`tauri.e2e.conf.json`).
pub const APP_BINARY: &str = "doorstep-app-e2e";
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Cargo's target folder, found from this test executable (`target/<profile>/deps/…`).
pub fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "target"))
        .map(Path::to_path_buf)
        .context("cannot find cargo's target folder from the test executable")
}

/// Where every end-to-end test saves its screenshots: `target/screenshots/`.
pub fn screenshots_dir() -> Result<PathBuf> {
    let dir = target_dir()?.join("screenshots");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The app running in a [`DesktopSession`], with a WebDriver session on its window.
///
/// tauri-driver is started for this app alone and stopped with everything it
/// started when this value drops, whether the test passed, failed or panicked.
#[derive(Debug)]
pub struct AppUnderTest {
    client: Option<Client>,
    // Dropped after the client is closed: kills tauri-driver, WebKitWebDriver and the app.
    driver: Guarded,
}

impl AppUnderTest {
    /// Builds nothing: launches the already built test binary of the running program's
    /// build profile (`make test` builds the debug one, `make bench` the release one).
    pub async fn launch(desktop: &DesktopSession) -> Result<Self> {
        Self::launch_with_env(desktop, &[]).await
    }

    /// Like [`launch`](Self::launch), with extra environment for the app.
    pub async fn launch_with_env(desktop: &DesktopSession, env: &[(&str, &str)]) -> Result<Self> {
        let binary = crate::system::profile_dir()?.join(APP_BINARY);
        if !binary.is_file() {
            bail!(
                "{} is missing; build it with `make test` (or `npm --prefix ui run build && cargo build -p doorstep-app-e2e`)",
                binary.display()
            );
        }
        Self::launch_binary(desktop, &binary, env).await
    }

    /// Launches the app binary at `binary` (an installed one, say) with extra
    /// environment, in `desktop`.
    ///
    /// The driver's two ports are picked free and then bound by tauri-driver and
    /// WebKitWebDriver; another test may take one in between (seen under a full
    /// parallel run as "webdriver server did not respond"), so a launch that
    /// fails to open a session is retried on fresh ports, twice at most.
    pub async fn launch_binary(
        desktop: &DesktopSession,
        binary: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::launch_once(desktop, binary, env).await {
                Ok(app) => return Ok(app),
                Err(e) if attempt < 3 && format!("{e:#}").contains("did not respond") => {
                    eprintln!("the WebDriver session did not open ({e:#}); retrying on new ports");
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn launch_once(
        desktop: &DesktopSession,
        binary: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new(tauri_driver()?);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(desktop.env())
            .env("DOORSTEP_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut driver = Guarded::spawn("tauri-driver", command)?;
        wait_for_port(port, &mut driver).await?;

        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": binary.display().to_string() }),
        );
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("WebDriver could not open the app window")?;
        let app = Self {
            client: Some(client),
            driver,
        };
        app.wait_for("body main").await?;
        Ok(app)
    }

    fn client(&self) -> &Client {
        // Only `close` takes the client, and it consumes self.
        self.client
            .as_ref()
            .unwrap_or_else(|| unreachable!("client used after close"))
    }

    /// Waits for an element matching `css` and returns it.
    pub async fn wait_for(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client()
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element {css:?} appeared within {ELEMENT_TIMEOUT:?}"))
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// The text of the element matching `css`, once it exists.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.wait_for(css).await?.text().await?)
    }

    /// Presses and releases `key` (a character or a WebDriver key code such as
    /// [`TAB`](Self::TAB)) wherever the keyboard focus is.
    pub async fn press(&self, key: char) -> Result<()> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client().perform_actions(keys).await?;
        Ok(())
    }

    /// WebDriver's code for the Tab key.
    pub const TAB: char = '\u{e004}';
    /// WebDriver's code for the Enter key.
    pub const ENTER: char = '\u{e007}';

    /// Presses Tab until the focused element matches `css`; fails after `most`
    /// presses, naming where the focus went.
    pub async fn tab_to(&self, css: &str, most: usize) -> Result<usize> {
        let mut visited = Vec::new();
        for presses in 1..=most {
            self.press(Self::TAB).await?;
            let focused = self
                .script(&format!(
                    "const el = document.activeElement; return [el && el.matches({css:?}), el ? (el.dataset.testid || el.tagName + ' ' + (el.textContent || '').trim().slice(0, 30)) : 'nothing'];"
                ))
                .await?;
            if focused[0] == true {
                return Ok(presses);
            }
            visited.push(focused[1].as_str().unwrap_or_default().to_owned());
        }
        bail!("{most} presses of Tab never reached {css}; the focus went to {visited:?}")
    }

    /// Resizes the app's window to `width`×`height` (its outer size; without a
    /// window manager under Xvfb, also the page's).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.client().set_window_size(width, height).await?;
        Ok(())
    }

    /// Where the element matching `css` is in the viewport, and the viewport's size:
    /// `[top, bottom, viewport width, viewport height]` in CSS pixels.
    pub async fn geometry(&self, css: &str) -> Result<[f64; 4]> {
        self.wait_for(css).await?;
        let found = self
            .script(&format!(
                "const r = document.querySelector({css:?}).getBoundingClientRect(); \
                 return [r.top, r.bottom, window.innerWidth, window.innerHeight];"
            ))
            .await?;
        let number = |i: usize| found[i].as_f64().unwrap_or(f64::NAN);
        Ok([number(0), number(1), number(2), number(3)])
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn script(&self, script: &str) -> Result<serde_json::Value> {
        Ok(self.client().execute(script, Vec::new()).await?)
    }

    /// Controls on the page a screen reader could not name (no label, text,
    /// `aria-label`, `aria-labelledby` or `title`; pictures without `alt`), as HTML
    /// snippets.
    pub async fn unnamed_controls(&self) -> Result<Vec<String>> {
        let found = self
            .script(
                r#"
                const text = (s) => (s || "").trim().length > 0;
                const labelled = (el) =>
                  text(el.getAttribute("aria-label")) ||
                  text(el.getAttribute("title")) ||
                  (el.getAttribute("aria-labelledby") || "").split(" ").some((id) => text(document.getElementById(id)?.textContent)) ||
                  [...(el.labels || [])].some((l) => text(l.textContent));
                const named = (el) => {
                  if (["INPUT", "SELECT", "TEXTAREA", "CANVAS"].includes(el.tagName)) return labelled(el);
                  // alt="" marks a decorative picture, which screen readers skip.
                  if (el.tagName === "IMG") return el.hasAttribute("alt") || labelled(el);
                  return labelled(el) || text(el.textContent);
                };
                return [...document.querySelectorAll("button, input, select, textarea, a[href], canvas, img, [tabindex]")]
                  .filter((el) => !named(el))
                  .map((el) => el.outerHTML.slice(0, 160));
                "#,
            )
            .await?;
        Ok(found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Saves a PNG of the window to `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        // What is in the DOM may not have been painted yet (a screen that appears at
        // once, without waiting for the shell): two frames later it has been.
        self.client()
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
                Vec::new(),
            )
            .await?;
        let png = self.client().screenshot().await?;
        let path = screenshots_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Closes the window through WebDriver, then stops tauri-driver.
    pub async fn close(mut self) -> Result<()> {
        if let Some(client) = self.client.take() {
            client.close().await?;
        }
        self.driver.stop();
        Ok(())
    }
}

fn tauri_driver() -> Result<PathBuf> {
    let candidates = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|cargo| cargo.join("bin").join("tauri-driver"));
    if let Some(path) = candidates.filter(|p| p.is_file()) {
        return Ok(path);
    }
    Ok(PathBuf::from("tauri-driver"))
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_for_port(port: u16, driver: &mut Guarded) -> Result<()> {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        driver.ensure_running()?;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!("tauri-driver did not listen on port {port} within 10 s")
}
