//! Bad luck against the real binaries: a disk that fills up, a folder that is
//! read-only, a database file that is not one. What a client is told must be
//! true: an acknowledged write is on disk, a refused one says so.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::time::Duration;

use doorstep_proto::SigningKey;
use serde_json::{Value, json};
use testkit::disk::{ReadOnlyView, SmallDisk};
use testkit::system::{CloudProcess, create_account, eventually};

async fn add_address(
    http: &reqwest::Client,
    cloud: &str,
    access: &str,
    label: &str,
) -> (u16, Value) {
    let response = http
        .post(format!("{cloud}/v1/addresses"))
        .bearer_auth(access)
        .json(&json!({
            "label": label,
            "kind": "neighbour",
            // Long enough that a full disk is met within a few hundred writes.
            "address": format!("{label}, {}", "Hauptstraße 1 ".repeat(15)),
        }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn listed_labels(http: &reqwest::Client, cloud: &str, access: &str) -> Vec<String> {
    let listed: Value = http
        .get(format!("{cloud}/v1/addresses"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed
        .as_array()
        .expect("a list of addresses")
        .iter()
        .map(|a| a["label"].as_str().unwrap().to_owned())
        .collect()
}

async fn health(http: &reqwest::Client, cloud: &str) -> (u16, String) {
    let response = http.get(format!("{cloud}/healthz")).send().await.unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_full_disk_at_the_cloud_acknowledges_only_what_reached_the_disk() {
    let Some(disk) = SmallDisk::mount("12m").unwrap() else {
        return;
    };
    let data_dir = disk.path().join("cloud");
    let mut cloud = CloudProcess::start(&data_dir).unwrap();
    let http = reqwest::Client::new();
    let created = create_account(
        &http,
        &cloud.url,
        "full@example.org",
        &SigningKey::generate(),
    )
    .await;
    let access = created["session"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    disk.fill().unwrap();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for n in 0..400 {
        let label = format!("Neighbour {n}");
        let (status, body) = add_address(&http, &cloud.url, &access, &label).await;
        match status {
            201 => acknowledged.push(label),
            503 => {
                assert_eq!(body["code"], "unavailable", "{body}");
                refused += 1;
            }
            other => panic!("a write on a full disk answered {other}: {body}"),
        }
    }
    assert!(
        refused > 0,
        "the disk never filled; the test proves nothing"
    );
    let (status, text) = health(&http, &cloud.url).await;
    assert_eq!(status, 503, "/healthz while writes fail: {text}");
    assert!(text.contains("writes failing"), "{text}");

    // Space again: the cloud recovers by itself, without a restart.
    disk.free().unwrap();
    eventually("/healthz to recover", Duration::from_secs(10), || {
        let http = http.clone();
        let url = cloud.url.clone();
        async move { (health(&http, &url).await.0 == 200).then_some(()) }
    })
    .await
    .unwrap();
    let (status, body) = add_address(&http, &cloud.url, &access, "After the disk was freed").await;
    assert_eq!(status, 201, "{body}");
    acknowledged.push("After the disk was freed".to_owned());

    // What the API lists is what was acknowledged, before and after a crash.
    let listed = listed_labels(&http, &cloud.url, &access).await;
    assert_eq!(listed.len(), acknowledged.len(), "listed {listed:?}");
    cloud.kill();
    let cloud = CloudProcess::start(&data_dir).unwrap();
    let listed = listed_labels(&http, &cloud.url, &access).await;
    for label in &acknowledged {
        assert!(
            listed.contains(label),
            "acknowledged {label:?} is gone after a restart"
        );
    }
    assert_eq!(listed.len(), acknowledged.len(), "listed {listed:?}");
}

#[tokio::test]
async fn a_cloud_on_a_read_only_or_damaged_database_says_so_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("cloud");
    let mut cloud = CloudProcess::start(&data_dir).unwrap();
    cloud.stop();

    if let Some(read_only) = ReadOnlyView::of(&data_dir).unwrap() {
        let started = std::time::Instant::now();
        let (code, said) =
            CloudProcess::start_expecting_refusal(read_only.path(), Duration::from_secs(10))
                .unwrap();
        assert_ne!(code, 0, "{said}");
        assert!(
            said.contains(&read_only.path().display().to_string()) && said.contains("read-only"),
            "the refusal names the folder and the reason: {said}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }

    let damaged = dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    std::fs::copy(data_dir.join("signing-key"), damaged.join("signing-key")).unwrap();
    std::fs::write(
        damaged.join("doorstep-cloud.sqlite3"),
        b"this is not a database, it is a shopping list: milk, eggs, bread, ".repeat(100),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (code, said) =
        CloudProcess::start_expecting_refusal(&damaged, Duration::from_secs(10)).unwrap();
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("doorstep-cloud.sqlite3") && said.contains("not a database"),
        "the refusal names the file and the reason: {said}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_second_cloud_on_the_same_data_folder_refuses_to_start_and_the_first_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("cloud");
    let mut first = CloudProcess::start(&data_dir).unwrap();
    let http = reqwest::Client::new();
    let household_key = SigningKey::generate();
    let account = create_account(&http, &first.url, "one-folder@example.org", &household_key).await;
    assert!(account["session"]["access_token"].is_string(), "{account}");

    let (code, said) =
        CloudProcess::start_expecting_refusal(&data_dir, Duration::from_secs(10)).unwrap();
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("another doorstep-cloud") && said.contains(&data_dir.display().to_string()),
        "the refusal names the folder and the reason: {said}"
    );
    let health = http
        .get(format!("{}/healthz", first.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Once the first has stopped, the folder can be served again, with what it kept.
    first.stop();
    let again = CloudProcess::start(&data_dir).unwrap();
    let (status, _) = {
        let response = http
            .get(format!(
                "{}/v1/accounts/kdf?email=one-folder@example.org",
                again.url
            ))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert_eq!(status, 200);
}
