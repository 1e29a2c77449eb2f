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
            let session = HouseholdSession::new(
                paths,
                app.package_info().version.to_string(),
                started,
                Arc::new(WindowShell(app.handle().clone())),
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
                .build()?;
            if let Some(window) = app.get_webview_window("main") {
                tracing::debug!(label = window.label(), "window open");
                if tray::install(app.handle()).is_some() {
                    // With a tray, closing the window only hides it: popups keep coming.
                    let hide = window.clone();
                    window.on_window_event(move |event| {
                        if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                            api.prevent_close();
                            let _ = hide.hide();
                        }
                    });
                }
            }
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
struct WindowShell(AppHandle);

impl Shell for WindowShell {
    fn feed(&self, message: FeedMessage) {
        let _ = self.0.emit(doorstep_core::ipc::FEED_EVENT, message);
    }

    fn navigate(&self, to: Navigate) {
        tray::show_window(&self.0);
        let _ = self.0.emit(doorstep_core::ipc::INTENT_EVENT, to);
    }

    fn deliveries_changed(&self, deliveries: &[doorstep_api::Delivery]) {
        tray::update(&self.0, deliveries);
    }

    fn autostart(&self) -> Option<bool> {
        use tauri_plugin_autostart::ManagerExt;
        self.0.autolaunch().is_enabled().ok()
    }

    fn set_autostart(&self, enabled: bool) -> Result<(), String> {
        use tauri_plugin_autostart::ManagerExt;
        let manager = self.0.autolaunch();
        let done = if enabled {
            manager.enable()
        } else {
            manager.disable()
        };
        done.map_err(|e| e.to_string())
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
        None => tracing_subscriber::fmt().with_env_filter(filter).try_init(),
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
