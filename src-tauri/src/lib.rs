//! The desktop shell: opens the window and forwards the UI's commands to
//! `doorstep-core`. Logic belongs in the core, not here.

mod invoke;
mod tray;

use std::sync::Arc;

use doorstep_core::AppPaths;
use doorstep_core::ipc::{FeedMessage, Navigate};
use doorstep_core::session::{DemoHomes, HouseholdSession, Shell};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

/// Runs the app with the given Tauri context until the user quits.
pub fn run(context: tauri::Context<tauri::Wry>) {
    let started = std::time::Instant::now();
    paint_on_the_cpu();
    init_logging();
    let app_id = context.config().identifier.clone();
    let paths = match AppPaths::resolve(&app_id) {
        Ok(paths) => paths,
        Err(e) => fail(&format!("Doorstep cannot start: {e}")),
    };
    if let Err(e) = paths.create_all() {
        fail(&format!(
            "Doorstep cannot create its folders under {}: {e}",
            paths.data_dir().display()
        ));
    }
    tracing::info!(app_id, data_dir = %paths.data_dir().display(), "starting");

    let webview_dir = paths.webview_dir();
    let result = tauri::Builder::default()
        // First of all: a second launch hands its arguments (a `doorstep://` link)
        // to this one and exits, and this one comes to the front.
        .plugin(tauri_plugin_single_instance::init(|app, arguments, _| {
            let opened = app
                .try_state::<Arc<HouseholdSession>>()
                .is_some_and(|session| arguments.iter().any(|link| session.open_link(link)));
            if !opened {
                tray::show_window(app);
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .invoke_handler(invoke::handle)
        .setup(move |app| {
            let shell = WindowShell {
                app: app.handle().clone(),
                tray: Arc::new(std::sync::Once::new()),
                // English until the page says its language.
                tray_view: Arc::new(std::sync::Mutex::new(doorstep_core::alerts::tray_view(
                    doorstep_core::alerts::Language::English,
                    &[],
                ))),
            };
            // A computer with no sign-in saved opens on the welcome screen: the page
            // knows it before it loads rather than asking and waiting.
            let signed_out = !doorstep_core::Client::has_saved_sign_in(&paths);
            let session = HouseholdSession::new(
                paths,
                app.package_info().version.to_string(),
                started,
                Arc::new(shell.clone()),
                demo_homes(),
            );
            // Started from a link (a popup's, the CLI's, a browser's).
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                if let Ok(Some(links)) = app.deep_link().get_current() {
                    for link in links {
                        session.open_link(link.as_str());
                    }
                }
            }
            app.manage(Arc::new(session));
            WebviewWindowBuilder::new(app, "main", WebviewUrl::default())
                .title("Doorstep")
                .inner_size(1100.0, 720.0)
                .min_inner_size(720.0, 520.0)
                .data_directory(webview_dir)
                .initialization_script(format!(
                    "window.{} = {signed_out};",
                    doorstep_core::ipc::SIGNED_OUT_AT_START
                ))
                .build()?;
            tracing::info!(
                since_start_ms = started.elapsed().as_millis(),
                "window created"
            );
            // The tray comes once the first screen is up (it would hold up the
            // page's loading on this thread), or after a while should the page
            // never say so.
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                shell.install_tray();
            });
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        fail(&format!("Doorstep stopped with an error: {e}"));
    }
}

/// The demo home, in a build with the `demo` feature (the default).
fn demo_homes() -> Option<Arc<dyn DemoHomes>> {
    #[cfg(feature = "demo")]
    {
        Some(Arc::new(doorstep_demo::DemoHomes))
    }
    #[cfg(not(feature = "demo"))]
    {
        None
    }
}

/// The window and tray, as the household session reaches them.
#[derive(Clone)]
struct WindowShell {
    app: AppHandle,
    tray: Arc<std::sync::Once>,
    /// What the tray shows, as last reported, for a tray installed after it came.
    tray_view: Arc<std::sync::Mutex<doorstep_core::alerts::TrayView>>,
}

impl WindowShell {
    /// Installs the tray on the main thread, once.
    fn install_tray(&self) {
        self.tray.call_once(|| {
            let shell = self.clone();
            let _ = self.app.run_on_main_thread(move || {
                let app = &shell.app;
                let reported = || {
                    shell
                        .tray_view
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone()
                };
                let shown = reported();
                if tray::install(app, &shown).is_none() {
                    return;
                }
                // A change reported while the tray was being built found none to update.
                let now = reported();
                if now != shown {
                    tray::update(app, &now);
                }
                if let Some(window) = app.get_webview_window("main") {
                    // With a tray, closing the window only hides it: popups keep coming.
                    let hide = window.clone();
                    window.on_window_event(move |event| {
                        if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                            api.prevent_close();
                            let _ = hide.hide();
                        }
                    });
                }
            });
        });
    }
}

impl Shell for WindowShell {
    fn feed(&self, message: FeedMessage) {
        let _ = self.app.emit(doorstep_core::ipc::FEED_EVENT, message);
    }

    fn navigate(&self, to: Navigate) {
        tray::show_window(&self.app);
        let _ = self.app.emit(doorstep_core::ipc::INTENT_EVENT, to);
    }

    fn tray_changed(&self, view: &doorstep_core::alerts::TrayView) {
        view.clone_into(&mut self.tray_view.lock().unwrap_or_else(|e| e.into_inner()));
        tray::update(&self.app, view);
    }

    fn first_screen_shown(&self) {
        self.install_tray();
    }

    fn autostart(&self) -> Option<bool> {
        use tauri_plugin_autostart::ManagerExt;
        self.app.autolaunch().is_enabled().ok()
    }

    fn set_autostart(&self, enabled: bool) -> Result<(), String> {
        use tauri_plugin_autostart::ManagerExt;
        let manager = self.app.autolaunch();
        let done = if enabled {
            manager.enable()
        } else {
            manager.disable()
        };
        done.map_err(|e| e.to_string())
    }
}

/// The web view paints the page on the CPU (Skia's CPU renderer) rather than through
/// OpenGL: for this UI (text, a few controls and one 640×480 picture) it is as smooth,
/// and on a computer without a GPU driver (Mesa's llvmpipe) GPU painting compiles a
/// shader for each new kind of drawing — measured here, the first screen came ~100 ms
/// later and the web process held ~13 MiB more. `WEBKIT_SKIA_ENABLE_CPU_RENDERING`
/// already in the environment is left as it is; `DOORSTEP_GPU_PAINTING=1` keeps
/// WebKit's own choice.
#[allow(
    clippy::disallowed_methods,
    reason = "read once, before the web view exists, like the logging's variables"
)]
fn paint_on_the_cpu() {
    const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
    if std::env::var_os(CPU_RENDERING).is_some()
        || std::env::var_os("DOORSTEP_GPU_PAINTING").is_some_and(|v| v == "1")
    {
        return;
    }
    // SAFETY: called first thing in `run`, before Tauri, GTK, WebKit or the async
    // runtime have started a thread: nothing else reads or writes the environment.
    #[allow(
        unsafe_code,
        reason = "the environment is set before any thread exists"
    )]
    unsafe {
        std::env::set_var(CPU_RENDERING, "1");
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "logging is set up before anything else, from its own variables"
)]
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("DOORSTEP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Under WebDriver the app's stderr goes nowhere; tests name a file instead.
    let file = std::env::var_os("DOORSTEP_LOG_FILE").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    // A second call (tests) keeps the first subscriber.
    let _ = match file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init(),
        // Colours only for a person at a terminal, not in a file or a pipe.
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .try_init(),
    };
}

fn fail(message: &str) -> ! {
    tracing::error!("{message}");
    #[allow(
        clippy::print_stderr,
        reason = "the user must see why the app did not open"
    )]
    {
        eprintln!("{message}");
    }
    std::process::exit(1)
}
