//! The signed-in household of this app: its client, its live feed (which pushes
//! events to the UI and shows popups), the demo home when that is what it is, and
//! the live video view.

use doorstep_core::alerts::Intent;
use doorstep_core::ipc::{ConnectionView, FeedMessage, Navigate, SessionInfo};
use doorstep_core::popup::Notifier;
use doorstep_core::{Client, Feed, FeedOptions, FeedUpdate};
use doorstep_demo::DemoHome;
use tauri::{AppHandle, Emitter, Manager};

/// A signed-in household and what runs for it.
#[derive(Debug)]
pub(crate) struct Household {
    pub(crate) client: Client,
    pub(crate) feed: Feed,
    pub(crate) demo: Option<DemoHome>,
    pub(crate) live: Option<tauri::async_runtime::JoinHandle<()>>,
    forwarder: tauri::async_runtime::JoinHandle<()>,
}

impl Household {
    /// Starts the feed for `client` and forwards it to the UI.
    pub(crate) fn start(
        app: &AppHandle,
        client: Client,
        demo: Option<DemoHome>,
        language: doorstep_core::alerts::SharedLanguage,
    ) -> Self {
        let mut feed = Feed::start(
            &client,
            FeedOptions {
                popups: Some(Notifier::new("Doorstep")),
                auto_approve: true,
                language,
            },
        );
        let mut updates = feed.subscribe();
        let mut intents = feed.take_intents();
        let app = app.clone();
        let acting = client.clone();
        let forwarder = tauri::async_runtime::spawn(async move {
            loop {
                tokio::select! {
                    update = updates.recv() => match update {
                        Ok(FeedUpdate::Event(event)) => {
                            let _ = app.emit(doorstep_core::ipc::FEED_EVENT, FeedMessage::Event { event });
                            crate::tray::update(&app, &cache_deliveries(&app).await);
                        }
                        Ok(FeedUpdate::Connection(state)) => {
                            let _ = app.emit(doorstep_core::ipc::FEED_EVENT, FeedMessage::Connection { connection: ConnectionView::from(&state) });
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    Some(intent) = async { match intents.as_mut() { Some(rx) => rx.recv().await, None => None } } => {
                        on_intent(&app, &acting, &intent).await;
                    }
                }
            }
        });
        Self {
            client,
            feed,
            demo,
            live: None,
            forwarder,
        }
    }

    pub(crate) fn info(&self) -> SessionInfo {
        SessionInfo {
            signed_in: true,
            demo: self.demo.is_some(),
            email: Some(self.client.account().email.clone()),
            device_name: Some(self.client.account().device_name.clone()),
        }
    }

    /// Stops everything that runs for this household.
    pub(crate) async fn stop(mut self) {
        if let Some(live) = self.live.take() {
            live.abort();
        }
        self.forwarder.abort();
        drop(self.feed);
        if let Some(demo) = self.demo.take() {
            demo.stop().await;
        }
    }
}

async fn cache_deliveries(app: &AppHandle) -> Vec<doorstep_api::Delivery> {
    let state = app.state::<crate::AppState>();
    let household = state.household.lock().await;
    match household.as_ref() {
        Some(current) => current.feed.snapshot().await.deliveries_newest_first(),
        None => Vec::new(),
    }
}

/// A popup was clicked: Block acts at once; everything else brings the window up on
/// the right page.
async fn on_intent(app: &AppHandle, client: &Client, intent: &Intent) {
    if let Intent::Block(id) = intent
        && let Err(e) = client.block(id).await
    {
        tracing::warn!(error = %e, "Block from a popup failed");
    }
    crate::tray::show_window(app);
    let _ = app.emit(doorstep_core::ipc::INTENT_EVENT, Navigate::from(intent));
}
