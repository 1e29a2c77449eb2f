//! Desktop notification popups (freedesktop notifications through notify-rust).
//!
//! A popup is sent the moment it is asked for; failures come back as errors for
//! the caller to show, never swallowed, because a household that silently stops
//! getting "courier at the door" popups is worse off than one that is told.

/// One button on a popup: `id` comes back when it is clicked, `label` is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopupAction {
    /// Stable identifier the click is reported with.
    pub id: String,
    /// Text on the button, already translated.
    pub label: String,
}

/// How insistent a popup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Urgency {
    /// Information ("Delivered").
    #[default]
    Normal,
    /// Needs a decision now ("Courier at the door"): servers keep it up until handled.
    Critical,
}

/// A popup to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    /// First line, bold on most servers.
    pub title: String,
    /// The sentence under it.
    pub body: String,
    /// Buttons, in order. An action with id `default` is a click on the popup itself.
    pub actions: Vec<PopupAction>,
    /// How insistent.
    pub urgency: Urgency,
}

impl Popup {
    /// A popup with no buttons.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            actions: Vec::new(),
            urgency: Urgency::Normal,
        }
    }

    /// Sets the urgency.
    pub fn urgency(mut self, urgency: Urgency) -> Self {
        self.urgency = urgency;
        self
    }

    /// Adds a button.
    pub fn with_action(mut self, id: impl Into<String>, label: impl Into<String>) -> Self {
        self.actions.push(PopupAction {
            id: id.into(),
            label: label.into(),
        });
        self
    }
}

/// Why a popup could not be shown.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot show desktop notifications ({detail}); a notification service must run in your desktop session \
     (on Debian/Ubuntu without a desktop: apt-get install dunst)"
)]
pub struct PopupError {
    detail: String,
}

/// What the notification server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's name, e.g. "dunst".
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Sends popups under one application name.
#[derive(Debug, Clone)]
pub struct Notifier {
    app_name: String,
}

/// A popup that was shown; keeps its id so it can be replaced or closed later.
#[derive(Debug)]
pub struct ShownPopup {
    /// The server's id for the popup.
    pub id: u32,
}

impl Notifier {
    /// A notifier whose popups say they come from `app_name`.
    pub fn new(app_name: impl Into<String>) -> Self {
        Self {
            app_name: app_name.into(),
        }
    }

    /// Shows `popup` now.
    pub fn show(&self, popup: &Popup) -> Result<ShownPopup, PopupError> {
        let handle = self.send(popup)?;
        Ok(ShownPopup { id: handle.id() })
    }

    /// Shows `popup` now and calls `on_action` with the id of the button the person
    /// clicks (on a thread of its own: the notification server answers whenever the
    /// person gets to it, or never).
    pub fn show_with_actions(
        &self,
        popup: &Popup,
        on_action: impl FnOnce(&str) + Send + 'static,
    ) -> Result<ShownPopup, PopupError> {
        let handle = self.send(popup)?;
        let id = handle.id();
        if !popup.actions.is_empty() {
            std::thread::Builder::new()
                .name(format!("popup-{id}"))
                .spawn(move || {
                    handle.wait_for_action(|action| {
                        // notify-rust reports a popup closed without a click as this.
                        if action != "__closed" {
                            on_action(action);
                        }
                    });
                })
                .map_err(|e| PopupError {
                    detail: e.to_string(),
                })?;
        }
        Ok(ShownPopup { id })
    }

    fn send(&self, popup: &Popup) -> Result<notify_rust::NotificationHandle, PopupError> {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(&self.app_name)
            .summary(&popup.title)
            .body(&popup.body)
            .urgency(match popup.urgency {
                Urgency::Normal => notify_rust::Urgency::Normal,
                Urgency::Critical => notify_rust::Urgency::Critical,
            });
        for action in &popup.actions {
            notification.action(&action.id, &action.label);
        }
        notification.show().map_err(|e| PopupError {
            detail: e.to_string(),
        })
    }

    /// Asks the notification server who it is, without showing anything.
    pub fn server_info(&self) -> Result<ServerInfo, PopupError> {
        let info = notify_rust::get_server_information().map_err(|e| PopupError {
            detail: e.to_string(),
        })?;
        Ok(ServerInfo {
            name: info.name,
            version: info.version,
        })
    }
}
