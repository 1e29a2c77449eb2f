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
    /// Taken down by the server after this long (an outcome nobody has to act on);
    /// `None` leaves it to the server (critical popups stay until handled).
    pub expires_after: Option<std::time::Duration>,
    /// A picture shown with it (the `image-path` hint): the camera's still.
    pub image: Option<std::path::PathBuf>,
}

impl Popup {
    /// A popup with no buttons.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            actions: Vec::new(),
            urgency: Urgency::Normal,
            expires_after: None,
            image: None,
        }
    }

    /// Taken down by the server after `after`.
    pub fn expires_after(mut self, after: std::time::Duration) -> Self {
        self.expires_after = Some(after);
        self
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

/// What `on_action` hears when a popup left the screen without a click (the person
/// dismissed it, or it expired).
pub const CLOSED: &str = "__closed";

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
        let handle = self.send(popup, None)?;
        Ok(ShownPopup { id: handle.id() })
    }

    /// Shows `popup` in the place of the popup `replaces` (the server updates that
    /// one, or shows a new one where it is gone). A thread of its own waits for the
    /// click (the server answers whenever the person gets to it, or never) and
    /// calls `on_action` with the button's id, or with [`CLOSED`] when the popup left
    /// the screen without one; it ends with the popup.
    pub fn show_in_place(
        &self,
        popup: &Popup,
        replaces: Option<u32>,
        on_action: impl FnOnce(&str) + Send + 'static,
    ) -> Result<ShownPopup, PopupError> {
        let handle = self.send(popup, replaces)?;
        let id = handle.id();
        if !popup.actions.is_empty() {
            std::thread::Builder::new()
                .name(format!("popup-{id}"))
                .spawn(move || {
                    // notify-rust reports a popup closed without a click as `__closed`.
                    handle.wait_for_action(|action| on_action(action));
                })
                .map_err(|e| PopupError {
                    detail: e.to_string(),
                })?;
        }
        Ok(ShownPopup { id })
    }

    /// Takes the popup `id` down (a server that no longer has it is not an error:
    /// the person or its timeout closed it first).
    pub fn close(&self, id: u32) -> Result<(), PopupError> {
        let closed = zbus::block_on(async {
            let bus = zbus::Connection::session().await?;
            bus.call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.Notifications"),
                "CloseNotification",
                &(id),
            )
            .await
            .map(|_| ())
        });
        match closed {
            Ok(()) | Err(zbus::Error::MethodError(..)) => Ok(()),
            Err(e) => Err(PopupError {
                detail: e.to_string(),
            }),
        }
    }

    fn send(
        &self,
        popup: &Popup,
        replaces: Option<u32>,
    ) -> Result<notify_rust::NotificationHandle, PopupError> {
        let mut notification = notify_rust::Notification::new();
        if let Some(id) = replaces {
            notification.id(id);
        }
        if let Some(after) = popup.expires_after {
            notification.timeout(notify_rust::Timeout::Milliseconds(
                u32::try_from(after.as_millis()).unwrap_or(u32::MAX),
            ));
        }
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
        if let Some(image) = popup.image.as_ref().and_then(|path| path.to_str()) {
            notification.image_path(image);
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
