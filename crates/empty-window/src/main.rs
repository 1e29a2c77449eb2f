//! An empty Tauri window that prints `first paint` once its page has painted.
//! `doorstep-bench` starts it beside Doorstep to measure what Tauri itself costs.
//! It prints what Doorstep's shell logs on the way (`starting`, then the page's own
//! timing with `first paint`), so the bench can set the two starts side by side.

#![allow(clippy::print_stdout, reason = "the bench reads these lines")]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// When `main` began: by the monotonic clock, and by the wall clock the page's
/// `performance.timeOrigin` reads (ms since the epoch).
static STARTED: std::sync::OnceLock<(Instant, f64)> = std::sync::OnceLock::new();

#[tauri::command]
fn painted(time_origin: f64, html_ms: f64, painted_ms: f64) {
    let (since_start_ms, page_began_ms) = STARTED.get().map_or((0, 0.0), |(at, wall_ms)| {
        (at.elapsed().as_millis(), time_origin - wall_ms)
    });
    println!(
        "first paint since_start_ms={since_start_ms} page_began_ms={page_began_ms:.0} html_ms={html_ms:.0} painted_ms={painted_ms:.0}"
    );
}

fn main() {
    STARTED.get_or_init(|| {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        (Instant::now(), wall_ms)
    });
    println!("starting");
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        #[allow(clippy::print_stderr, reason = "why it did not open")]
        {
            eprintln!("the empty window failed: {e}");
        }
        std::process::exit(1);
    }
}
