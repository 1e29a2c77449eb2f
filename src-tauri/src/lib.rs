//! The desktop shell: opens the window and forwards the UI's commands to
//! `doorstep-core`. Logic belongs in the core, not here.

mod commands;
mod household;
mod tray;

use doorstep_core::AppPaths;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

/// State every command can read.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) paths: AppPaths,
    pub(crate) household: tokio::sync::Mutex<Option<household::Household>>,
    /// The popups' language, set by the page from its language setting.
    pub(crate) language: doorstep_core::alerts::SharedLanguage,
}

/// When this process started running the app (for the first-screen log line).
pub(crate) static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Runs the app with the given Tauri context until the user quits.
pub fn run(context: tauri::Context<tauri::Wry>) {
    STARTED.get_or_init(std::time::Instant::now);
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
        .manage(AppState {
            paths,
            household: tokio::sync::Mutex::new(None),
            language: doorstep_core::alerts::SharedLanguage::default(),
        })
        .invoke_handler(tauri::generate_handler![
            commands::system_check,
            commands::session,
            commands::start_demo,
            commands::sign_in,
            commands::create_account,
            commands::sign_out,
            commands::home,
            commands::delivery_view,
            commands::block,
            commands::reroute,
            commands::approve,
            commands::activity,
            commands::recordings,
            commands::recording_frame,
            commands::devices,
            commands::sign_out_device,
            commands::confirm_password,
            commands::settings,
            commands::set_lead_time,
            commands::add_address,
            commands::remove_address,
            commands::test_popup,
            commands::policy,
            commands::set_policy,
            commands::set_language,
            commands::guests,
            commands::add_guest,
            commands::revoke_guest,
            commands::watch_live,
            commands::stop_live,
            commands::first_screen_shown,
        ])
        .setup(move |app| {
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
