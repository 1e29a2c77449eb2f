//! The `doorstep-cloud` binary as an operator runs it: no configuration needed,
//! settings in layers, clear errors, and no secret in its logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::Household;

fn cloud_command(home: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doorstep-cloud"));
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

fn stop(mut child: Child) -> String {
    // SAFETY-free: ask nicely with SIGTERM via the kill command, then collect the log.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the server did not stop cleanly on SIGTERM: {status}"
    );
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    log
}

#[test]
fn serve_starts_with_no_configuration_and_names_its_address_first() {
    let home = tempfile::tempdir().unwrap();
    let mut child = cloud_command(home.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(
        home.path()
            .join(".local/share/doorstep-cloud/doorstep-cloud.sqlite3")
            .is_file()
    );
    stop(child);
}

#[test]
fn settings_come_from_a_file_then_the_environment_and_bad_ones_are_named() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("cloud.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\ncolour = \"blue\"\n").unwrap();
    // The environment beats the file.
    let mut child = cloud_command(home.path())
        .args(["serve", "--config"])
        .arg(&file)
        .env("DOORSTEP_LISTEN", "127.0.0.1:0")
        .spawn()
        .unwrap();
    assert!(first_line(&mut child).starts_with("listening on http://127.0.0.1:"));
    let log = stop(child);
    assert!(
        log.contains("unknown setting ignored") && log.contains("colour"),
        "{log}"
    );

    // A secret from a *_FILE variable, and a wrong one named in the error.
    let secret = home.path().join("db-url");
    std::fs::write(&secret, "mysql://root@localhost/doorstep\n").unwrap();
    let output = cloud_command(home.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DOORSTEP_DATABASE_URL_FILE", &secret)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("database_url must be a postgres:// URL"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("root@localhost"),
        "the URL itself (a secret) is not echoed: {stderr}"
    );
}

#[tokio::test]
async fn tokens_and_keys_never_reach_the_log() {
    let home = tempfile::tempdir().unwrap();
    let mut child = cloud_command(home.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DOORSTEP_LOG", "trace")
        .spawn()
        .unwrap();
    let url = first_line(&mut child)
        .trim_start_matches("listening on ")
        .to_owned();
    let http = reqwest::Client::new();
    let household = Household::new("secret@example.org");
    let create = household.create_body("Laptop");
    let created: serde_json::Value = http
        .post(format!("{url}/v1/accounts"))
        .json(&create)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signed_in: serde_json::Value = http
        .post(format!("{url}/v1/sessions"))
        .json(&household.sign_in_body("Desktop"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refreshed: serde_json::Value = http
        .post(format!("{url}/v1/sessions/refresh"))
        .json(&json!({ "refresh_token": signed_in["session"]["refresh_token"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = stop(child);
    assert!(log.len() > 200, "trace logging produced output");
    let secrets = [
        created["session"]["access_token"].as_str().unwrap(),
        created["session"]["refresh_token"].as_str().unwrap(),
        signed_in["session"]["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        household.auth_key.as_str(),
        create["wrapped_household_key"].as_str().unwrap(),
    ];
    for secret in secrets {
        assert!(!log.contains(secret), "a secret appeared in the log");
    }
}
