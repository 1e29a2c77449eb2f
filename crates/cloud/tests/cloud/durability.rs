//! A crash loses no acknowledged write: the real binary is SIGKILLed in the
//! middle of a stream of writes and restarted on the same data folder.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::*;

fn spawn_cloud(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> (std::process::Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doorstep-cloud"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("DOORSTEP_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        command.env("DOORSTEP_DATABASE_URL", url);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line names the address")
        .to_owned();
    (child, url)
}

async fn kill_during_writes(database_url: Option<String>) {
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_cloud(data_dir.path(), database_url.as_deref());
    let http = reqwest::Client::new();

    let writer = {
        let http = http.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0.. {
                let household = Household::new(&format!("crash{n}@example.org"));
                match http
                    .post(format!("{url}/v1/accounts"))
                    .json(&household.create_body("Laptop"))
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 201 => acknowledged.push(household.email),
                    _ => break,
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    child.wait().unwrap();
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() >= 3,
        "too few writes before the crash to prove anything"
    );

    let (mut child, url) = spawn_cloud(data_dir.path(), database_url.as_deref());
    for email in &acknowledged {
        let household = Household {
            email: email.clone(),
            ..Household::new(email)
        };
        let response = http
            .post(format!("{url}/v1/sessions"))
            .json(&household.sign_in_body("After crash"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "acknowledged account {email} lost in the crash"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn sqlite_loses_no_acknowledged_write_when_killed() {
    kill_during_writes(None).await;
}

#[tokio::test]
async fn postgres_loses_no_acknowledged_write_when_killed() {
    let Some(name) = fresh_postgres_database().await else {
        return;
    };
    kill_during_writes(Some(format!("postgres://postgres@127.0.0.1:5432/{name}"))).await;
}
