//! Time-driven changes: "approaching" when the ETA comes within the household's
//! lead time, and "expired" when the window has passed without a delivery.

use std::time::Duration;

use sqlx::Row;

use crate::AppState;
use crate::access::system_transition;
use crate::audit::Actor;
use crate::delivery_state::Action;

/// How often the timers look; "approaching" is thus at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// Runs until the server stops.
pub async fn run(state: AppState) {
    let mut stopping = state.stopping.clone();
    loop {
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e, "delivery timers failed a pass");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopping.changed() => return,
        }
    }
}

async fn tick(state: &AppState) -> anyhow::Result<()> {
    let now = state.now().0;
    let approaching = sqlx::query(
        "SELECT d.id, d.household_id, d.eta FROM deliveries d JOIN households h ON h.id = d.household_id \
         WHERE d.state = 'announced' AND d.eta IS NOT NULL AND d.eta - h.lead_time_minutes * 60000 <= $1 LIMIT 200",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for row in approaching {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        let eta: i64 = row.try_get("eta")?;
        let minutes = ((eta - now).max(0) + 59_999) / 60_000;
        let data = serde_json::json!({ "eta": eta, "minutes": minutes });
        if let Err(e) = system_transition(
            state,
            &household,
            &id,
            Action::Approach,
            "delivery.approaching",
            data,
            &Actor::System,
        )
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not mark approaching");
        }
    }
    let expired = sqlx::query(
        "SELECT id, household_id FROM deliveries WHERE state IN ('announced', 'approaching') AND window_end < $1 LIMIT 200",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for row in expired {
        let id: String = row.try_get("id")?;
        let household: String = row.try_get("household_id")?;
        if let Err(e) = system_transition(
            state,
            &household,
            &id,
            Action::Expire,
            "delivery.expired",
            serde_json::json!({}),
            &Actor::System,
        )
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not expire");
        }
    }
    Ok(())
}
