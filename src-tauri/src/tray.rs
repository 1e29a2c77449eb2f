//! The tray icon: the app's status at a glance, a quick **Block access** while a
//! courier can get in, and the way back to the window. With a tray, closing the
//! window keeps the app running so popups keep coming.

use std::sync::Mutex;

use doorstep_core::alerts::TrayView;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

/// What the tray shows and can act on.
pub(crate) struct Tray {
    show: MenuItem<tauri::Wry>,
    block: MenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
    /// The delivery a quick Block would block.
    entry: Mutex<Option<String>>,
}

/// Installs the tray icon; `None` when the desktop has no tray (the window then quits on close).
impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").field("entry", &self.entry).finish()
    }
}

/// Installs the tray icon showing `view`; `None` when the desktop has no tray.
pub(crate) fn install(app: &AppHandle, view: &TrayView) -> Option<()> {
    match build(app, view) {
        Ok(tray) => {
            app.manage(tray);
            tracing::info!("tray icon ready");
            Some(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "no tray icon; closing the window quits");
            None
        }
    }
}

fn build(app: &AppHandle, view: &TrayView) -> tauri::Result<Tray> {
    let show = MenuItem::with_id(app, "show", &view.show, true, None::<&str>)?;
    let block = MenuItem::with_id(
        app,
        "block",
        &view.block,
        view.block_delivery.is_some(),
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", &view.quit, true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&show, &block, &separator, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip(&view.tooltip)
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "show" => show_window(app),
            "block" => block_entry(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(Tray {
        show,
        block,
        quit,
        entry: Mutex::new(view.block_delivery.clone()),
    })
}

pub(crate) fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Shows `view`: the menu's words, the quick Block for the visit it names, the
/// hover text.
pub(crate) fn update(app: &AppHandle, view: &TrayView) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let _ = tray.show.set_text(&view.show);
    let _ = tray.quit.set_text(&view.quit);
    let _ = tray.block.set_text(&view.block);
    let _ = tray.block.set_enabled(view.block_delivery.is_some());
    if let Ok(mut current) = tray.entry.lock() {
        current.clone_from(&view.block_delivery);
    }
    if let Some(icon) = app.tray_by_id("main") {
        let _ = icon.set_tooltip(Some(&view.tooltip));
    }
}

fn block_entry(app: &AppHandle) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let Some(id) = tray.entry.lock().ok().and_then(|e| e.clone()) else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let session = app.state::<std::sync::Arc<doorstep_core::session::HouseholdSession>>();
        if let Ok(client) = session.client().await
            && let Err(e) = client.block(&id).await
        {
            tracing::warn!(error = %e, "Block from the tray failed");
        }
    });
}
