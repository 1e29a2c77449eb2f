//! An empty Tauri window that prints `first paint` once its page has painted.
//! `doorstep-bench` starts it beside Doorstep to measure what Tauri itself costs.

#[tauri::command]
fn painted() {
    #[allow(clippy::print_stdout, reason = "the bench reads this line")]
    {
        println!("first paint");
    }
}

fn main() {
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
