//! What is on the screen: one popup per visit, and one per kind of alarm per lock,
//! each updated in place as things move on and taken down when they are over.
//!
//! A household should never find a stack of "Courier at the door" popups for one
//! courier, or a question left up that another device already answered. So every
//! popup has a [`PopupKey`]; showing under a key that is up replaces that popup
//! (the freedesktop `replaces_id`), an unchanged popup is not sent again, and
//! withdrawing closes it. A thread waits for the clicks of each version sent, but
//! only the newest version's acts on one (a popup updated in place keeps its id, so
//! every waiting thread hears its clicks): one click, one intent, meaning what the
//! popup on the screen says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::alerts::{Alert, Intent};
use crate::popup::{Notifier, Popup, PopupError};

/// What a popup is about; one popup per key is on the screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PopupKey {
    /// A delivery's visit, from the question to its outcome.
    Visit(String),
    /// An alarm of one kind (`kind` is the event kind) from one lock, or from the
    /// household when no lock is named.
    Alarm {
        /// The lock, if one raised it.
        lock_id: Option<String>,
        /// The event kind.
        kind: String,
    },
}

/// The popups this device has up, by what they are about.
#[derive(Debug, Clone)]
pub struct PopupBoard {
    notifier: Notifier,
    intents: mpsc::UnboundedSender<Intent>,
    shown: Arc<Mutex<HashMap<PopupKey, OnScreen>>>,
}

#[derive(Debug)]
struct OnScreen {
    id: u32,
    popup: Popup,
    /// Where a click on the popup itself goes.
    default: Intent,
    /// Clicked: no picture is added to it any more.
    acted_on: bool,
    /// Which version is on the screen; the threads of older ones ignore clicks.
    version: Arc<AtomicU64>,
}

/// A popup's picture is kept in later versions of it: a still of the courier stays
/// when "at the door" becomes "inside now".
fn keep_picture(popup: &mut Popup, up: Option<&OnScreen>) {
    if popup.image.is_none() {
        popup.image = up.and_then(|up| up.popup.image.clone());
    }
}

impl PopupBoard {
    /// A board that shows through `notifier` and sends clicks to `intents`.
    pub fn new(notifier: Notifier, intents: mpsc::UnboundedSender<Intent>) -> Self {
        Self {
            notifier,
            intents,
            shown: Arc::default(),
        }
    }

    /// Shows `alert` as the popup for `key`: in the place of the one up for it, if
    /// any; nothing is sent when that one already says exactly this.
    pub fn show(&self, key: PopupKey, alert: Alert) -> Result<(), PopupError> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        self.show_locked(shown, key, alert, false)
    }

    /// Adds `image` to the popup up for `key`, in its place (the first popup never
    /// waits for a picture); with none up, nothing. Later versions keep it.
    pub fn add_picture(&self, key: PopupKey, image: std::path::PathBuf) -> Result<(), PopupError> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let Some(up) = shown.get(&key).filter(|up| !up.acted_on) else {
            return Ok(());
        };
        let mut popup = up.popup.clone();
        popup.image = Some(image);
        let alert = Alert {
            popup,
            default: up.default.clone(),
        };
        self.show_locked(shown, key, alert, true)
    }

    fn show_locked(
        &self,
        mut shown: std::sync::MutexGuard<'_, HashMap<PopupKey, OnScreen>>,
        key: PopupKey,
        mut alert: Alert,
        only_in_place: bool,
    ) -> Result<(), PopupError> {
        let current = shown.get(&key);
        keep_picture(&mut alert.popup, current);
        if current.is_some_and(|up| up.popup == alert.popup) || (only_in_place && current.is_none())
        {
            return Ok(());
        }
        let replaces = current.map(|up| up.id);
        let version = current.map_or_else(Arc::default, |up| up.version.clone());
        let mine = version.fetch_add(1, Ordering::SeqCst) + 1;
        let on_action = {
            let intents = self.intents.clone();
            let version = version.clone();
            let default = alert.default.clone();
            let board = self.shown.clone();
            let key = key.clone();
            move |action: &str| {
                if version.load(Ordering::SeqCst) != mine {
                    return;
                }
                // Dismissed or expired, it has left the screen: forgotten, so the next
                // step of its visit is a new popup. Clicked, it may have (servers
                // differ): it keeps its place for what comes next, but nothing late
                // (a picture) is sent for it, which could bring it back.
                let mut shown = board.lock().unwrap_or_else(|e| e.into_inner());
                let this_one = shown
                    .get(&key)
                    .is_some_and(|up| Arc::ptr_eq(&up.version, &version));
                if this_one && action == crate::popup::CLOSED {
                    shown.remove(&key);
                } else if this_one && let Some(up) = shown.get_mut(&key) {
                    up.acted_on = true;
                }
                drop(shown);
                if action == crate::popup::CLOSED {
                    return;
                }
                if let Some(intent) = Intent::from_action(action, Some(&default)) {
                    let _ = intents.send(intent);
                }
            }
        };
        let id = match self
            .notifier
            .show_in_place(&alert.popup, replaces, on_action)
        {
            Ok(shown) => shown.id,
            Err(e) => {
                // The version up before stays the one that answers its clicks.
                let _ =
                    version.compare_exchange(mine, mine - 1, Ordering::SeqCst, Ordering::SeqCst);
                return Err(e);
            }
        };
        shown.insert(
            key,
            OnScreen {
                id,
                popup: alert.popup,
                default: alert.default,
                acted_on: false,
                version,
            },
        );
        Ok(())
    }

    /// Takes the popup for `key` down, if one is up.
    pub fn withdraw(&self, key: &PopupKey) -> Result<(), PopupError> {
        let removed = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        match removed {
            Some(up) => self.notifier.close(up.id),
            None => Ok(()),
        }
    }

    /// Takes every popup of this board down (sign-out: nothing of this household
    /// stays on the screen).
    pub fn withdraw_all(&self) -> Result<(), PopupError> {
        let all: Vec<OnScreen> = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, up)| up)
            .collect();
        let mut first_error = None;
        for up in all {
            if let Err(e) = self.notifier.close(up.id) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Shows `alert` only in the place of a popup up for `key` (the answer to what
    /// it said); with none up, nothing.
    pub fn update(&self, key: PopupKey, alert: Alert) -> Result<(), PopupError> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        self.show_locked(shown, key, alert, true)
    }
}
