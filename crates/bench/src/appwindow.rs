//! Live video in the real app window: the demo home's courier goes in, the delivery
//! page is opened again and again, and the page's own probe (`window.__doorstepLive`,
//! kept by the live view) says how long after opening the first frame was drawn on
//! the canvas and how old each frame was when drawn (capture stamp → drawn).

use std::time::Duration;

use anyhow::Context;
use testkit::{AppUnderTest, DesktopSession};

/// How long each opened view is watched.
const WATCH: Duration = Duration::from_secs(4);

/// What the window measured.
#[derive(Debug, Default)]
pub struct WindowVideo {
    pub first_drawn_ms: Vec<f64>,
    /// Per drawn frame, its age when the app's shell sent it to the page, when the
    /// page had it, and when it was on the canvas.
    pub sent_age_ms: Vec<f64>,
    pub arrived_age_ms: Vec<f64>,
    pub drawn_age_ms: Vec<f64>,
    /// Frames passed over because a newer one came while one was being drawn.
    pub skipped: u64,
    /// Each view's first frame's age when drawn (the cloud's latest, sent on opening,
    /// up to a frame interval old before it is sent).
    pub first_age_ms: Vec<f64>,
}

/// Opens the delivery page `opens` times while the demo courier is inside.
pub async fn measure(desktop: &DesktopSession, opens: usize) -> anyhow::Result<WindowVideo> {
    // The courier comes 2 s after announcing and stays two minutes.
    let app = AppUnderTest::launch_with_env(
        desktop,
        &[
            ("DOORSTEP_DEMO_PACE", "2,120,600"),
            ("DOORSTEP_LOG", "warn"),
        ],
    )
    .await?;
    let result = async {
        app.click("[data-testid=try-demo]").await?;
        let inside = "[data-testid=delivery-row][data-state=door_open]";
        let mut waited = 0;
        while app.wait_for(inside).await.is_err() {
            waited += 1;
            anyhow::ensure!(waited < 3, "the demo courier never went in");
        }
        let mut video = WindowVideo::default();
        for _ in 0..opens {
            app.click(inside).await?;
            app.wait_for("[data-testid=live]").await?;
            // Enough frames drawn (~60 a view) for a p99 that is not the third-worst
            // of a few hundred, then read the probe.
            tokio::time::sleep(WATCH).await;
            let stats = app.script("return window.__doorstepLive || null;").await?;
            let first = stats["firstDrawnMs"]
                .as_f64()
                .context("the page drew no frame")?;
            video.first_drawn_ms.push(first);
            let ages = |key: &str| -> Vec<f64> {
                stats[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(serde_json::Value::as_f64)
                    .collect()
            };
            video.sent_age_ms.extend(ages("sentAgesMs"));
            video.arrived_age_ms.extend(ages("arrivedAgesMs"));
            let drawn = ages("drawnAgesMs");
            video.first_age_ms.extend(drawn.first());
            video.drawn_age_ms.extend(drawn);
            video.skipped += stats["skipped"].as_u64().unwrap_or(0);
            app.click("[data-testid=nav-home]").await?;
        }
        anyhow::Ok(video)
    }
    .await;
    let _ = app.close().await;
    result
}
