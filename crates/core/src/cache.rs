//! What this device knows, kept on disk so the app starts instantly and offline:
//! the deliveries, the newest events, and the id of the last event processed — the
//! point the event stream resumes from. Written atomically after every event.

use std::collections::{BTreeMap, VecDeque};

use doorstep_api::{Delivery, Event};
use serde::{Deserialize, Serialize};

use crate::AppPaths;
use crate::error::{CoreError, CoreResult};

const CACHE_FILE: &str = "cache.json";
/// Events kept for the timeline; older ones are in the cloud's log.
const KEPT_EVENTS: usize = 500;

/// The local cache of one signed-in device.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    /// The last event processed; the stream resumes after it.
    pub last_seq: i64,
    /// Whether the first sync finished (until then, the cache is not the truth).
    pub synced: bool,
    /// Deliveries by id.
    pub deliveries: BTreeMap<String, Delivery>,
    /// The newest events, oldest first.
    pub events: VecDeque<Event>,
}

impl Cache {
    /// Reads the cache; a missing or damaged one starts empty (the next sync refills it).
    pub fn load(paths: &AppPaths) -> Self {
        let file = paths.data_dir().join(CACHE_FILE);
        match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %file.display(), error = %e, "the local cache is damaged; syncing again");
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes it (atomically: a crash leaves the previous or the new version).
    pub fn save(&self, paths: &AppPaths) -> CoreResult<()> {
        crate::client::write_json_atomically(&paths.data_dir().join(CACHE_FILE), self)
    }

    /// Deletes it (sign-out, or a new sign-in).
    pub fn remove(paths: &AppPaths) -> CoreResult<()> {
        let file = paths.data_dir().join(CACHE_FILE);
        match std::fs::remove_file(&file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CoreError::local(file.display().to_string(), e)),
        }
    }

    /// Takes in one event (in order); `delivery` is the delivery it is about, if any.
    pub fn apply(&mut self, event: &Event, delivery: Option<Delivery>) {
        self.last_seq = self.last_seq.max(event.seq);
        if let Some(delivery) = delivery {
            let newer = self
                .deliveries
                .get(&delivery.id)
                .is_none_or(|known| known.revision <= delivery.revision);
            if newer {
                self.deliveries.insert(delivery.id.clone(), delivery);
            }
        }
        self.events.push_back(event.clone());
        while self.events.len() > KEPT_EVENTS {
            self.events.pop_front();
        }
    }

    /// Deliveries, newest first.
    pub fn deliveries_newest_first(&self) -> Vec<Delivery> {
        let mut list: Vec<Delivery> = self.deliveries.values().cloned().collect();
        list.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        list
    }
}
