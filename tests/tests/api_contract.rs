//! The OpenAPI document is what the cloud does: schemathesis, with its default
//! checks, against a running cloud, holding a household's, a carrier's and a
//! lock's credentials. `tests/schemathesis/schemathesis.toml` says what it is
//! told and why.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]

use std::path::PathBuf;
use std::process::Command;

use doorstep_proto::SigningKey;
use serde_json::json;
use testkit::system::{CloudProcess, create_account, pairing_code};

/// Where `scripts/bootstrap.sh test` installs schemathesis.
fn schemathesis() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let st = cache.join("doorstep/schemathesis/bin/st");
    st.is_file().then_some(st)
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::test]
async fn schemathesis_finds_nothing_the_openapi_document_does_not_say() {
    let Some(st) = schemathesis() else {
        #[allow(clippy::print_stderr, reason = "a skipped test says why")]
        {
            eprintln!(
                "SKIPPED: schemathesis is not installed; `scripts/bootstrap.sh test` (run by `make test`) installs it"
            );
        }
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cloud = CloudProcess::start(&dir.path().join("cloud")).unwrap();
    let http = reqwest::Client::new();

    let household_key = SigningKey::generate();
    let account = create_account(&http, &cloud.url, "contract@example.org", &household_key).await;
    let device_token = account["session"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {account}"))
        .to_owned();
    let carrier = cloud.add_carrier("Contract Parcel Co.", None).unwrap();
    let (_, code) = pairing_code(&http, &cloud.url, &device_token).await;
    let paired: serde_json::Value = http
        .post(format!("{}/v1/locks/pair", cloud.url))
        .json(&json!({
            "code": code["code"],
            "lock_key": SigningKey::generate().public_key().to_base64(),
            "camera_key": SigningKey::generate().public_key().to_base64(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lock_token = paired["lock_token"]
        .as_str()
        .unwrap_or_else(|| panic!("not paired: {paired}"))
        .to_owned();

    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis");
    let output = Command::new(&st)
        // Its cache of past failures stays with this run, not in the checkout.
        .current_dir(dir.path())
        .arg("--no-color")
        .arg("--config-file")
        .arg(here.join("schemathesis.toml"))
        .args(["run", &format!("{}/openapi.json", cloud.url)])
        // Bounded (under a minute on two cores, every phase) and repeatable: one
        // seed by default; `make fuzz` runs it longer with a new seed each time.
        .args(["--workers", "2", "--max-failures", "20"])
        .args([
            "--max-examples",
            &setting("DOORSTEP_SCHEMATHESIS_EXAMPLES", "50"),
        ])
        .args(["--seed", &setting("DOORSTEP_SCHEMATHESIS_SEED", "20261202")])
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &here)
        .env("DOORSTEP_DEVICE_TOKEN", &device_token)
        .env("DOORSTEP_CARRIER_KEY", &carrier.api_key)
        .env("DOORSTEP_LOCK_TOKEN", &lock_token)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("Tested:"), "{said}");
}
