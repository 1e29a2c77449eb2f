//! The event stream: every device of the household sees every event, in order,
//! and a reconnect resumes from the last id with no gap and no duplicate.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::*;

/// A minimal Server-Sent Events reader for tests.
pub struct EventStream {
    events: tokio::sync::mpsc::Receiver<(i64, String, Value)>,
    _task: tokio::task::JoinHandle<()>,
}

impl EventStream {
    pub async fn connect(cloud: &TestCloud, token: &str, last_event_id: Option<i64>) -> Self {
        let mut request = cloud
            .http
            .get(cloud.url("/v1/events/stream"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let task = tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let message: String = buffer.drain(..end + 2).collect();
                    let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                    for line in message.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().parse().ok();
                        } else if let Some(v) = line.strip_prefix("event:") {
                            kind = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim());
                        }
                    }
                    if let Some(id) = id {
                        let data = serde_json::from_str(&data).unwrap_or(Value::Null);
                        if tx.send((id, kind, data)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Self {
            events: rx,
            _task: task,
        }
    }

    pub async fn next(&mut self) -> (i64, String, Value) {
        // Generous: on a loaded two-core machine a timer's second tick can be late.
        tokio::time::timeout(Duration::from_secs(15), self.events.recv())
            .await
            .expect("no event within 15 s")
            .expect("stream ended")
    }

    pub async fn nothing_more(&mut self) {
        assert!(
            tokio::time::timeout(Duration::from_millis(300), self.events.recv())
                .await
                .is_err(),
            "an unexpected event arrived"
        );
    }
}

on_both_databases! {
    async fn every_device_sees_every_event_and_resumes_without_gaps_or_duplicates(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (household, kitchen, study) = household_with_two_devices(&cloud, "stream@example.org").await;

        // From the beginning: both sign-ins.
        let mut kitchen_stream = EventStream::connect(&cloud, &kitchen.access, None).await;
        let (seq1, kind1, _) = kitchen_stream.next().await;
        let (seq2, kind2, data2) = kitchen_stream.next().await;
        assert_eq!((seq1, kind1.as_str()), (1, "device.signed_in"));
        assert_eq!((seq2, kind2.as_str()), (2, "device.signed_in"));
        assert_eq!(data2["data"]["name"], "Study desktop");

        // Live: a third device signs in; both streams get it.
        let mut study_stream = EventStream::connect(&cloud, &study.access, Some(2)).await;
        cloud.post("/v1/sessions", None, household.sign_in_body("Phone-sized laptop")).await;
        assert_eq!(kitchen_stream.next().await.0, 3);
        assert_eq!(study_stream.next().await.0, 3);

        // The study desktop drops off; events happen meanwhile; it resumes from 3.
        drop(study_stream);
        for n in 0..5 {
            cloud.post("/v1/sessions", None, household.sign_in_body(&format!("Device {n}"))).await;
        }
        let mut resumed = EventStream::connect(&cloud, &study.access, Some(3)).await;
        let seqs: Vec<i64> = {
            let mut seqs = Vec::new();
            for _ in 0..5 {
                seqs.push(resumed.next().await.0);
            }
            seqs
        };
        assert_eq!(seqs, vec![4, 5, 6, 7, 8]);
        resumed.nothing_more().await;
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn concurrent_writers_never_make_a_stream_skip_or_repeat(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (household, kitchen, _) = household_with_two_devices(&cloud, "burst@example.org").await;
        let mut stream = EventStream::connect(&cloud, &kitchen.access, Some(2)).await;
        let sign_ins = (0..20).map(|n| cloud.post("/v1/sessions", None, household.sign_in_body(&format!("D{n}"))));
        for (status, _) in futures_util::future::join_all(sign_ins).await {
            assert_eq!(status, 200);
        }
        for expected in 3..=22 {
            assert_eq!(stream.next().await.0, expected);
        }
        stream.nothing_more().await;
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_stream_survives_a_cloud_restart_by_resuming(backend: Backend) {
        let Some(mut cloud) = TestCloud::start(backend).await else { return };
        let (household, kitchen, _) = household_with_two_devices(&cloud, "restart@example.org").await;
        let mut stream = EventStream::connect(&cloud, &kitchen.access, None).await;
        assert_eq!(stream.next().await.0, 1);
        assert_eq!(stream.next().await.0, 2);
        cloud.restart().await;
        cloud.post("/v1/sessions", None, household.sign_in_body("After restart")).await;
        let mut resumed = EventStream::connect(&cloud, &kitchen.access, Some(2)).await;
        let (seq, _, data) = resumed.next().await;
        assert_eq!(seq, 3);
        assert_eq!(data["data"]["name"], "After restart");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_signed_out_device_stream_ends(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, kitchen, study) = household_with_two_devices(&cloud, "end@example.org").await;
        let mut stream = EventStream::connect(&cloud, &study.access, Some(2)).await;
        cloud.delete(&format!("/v1/devices/{}", study.device_id), &kitchen.access).await;
        let (_, kind, data) = stream.next().await;
        assert_eq!(kind, "device.signed_out");
        assert_eq!(data["data"]["device_id"], study.device_id.as_str());
        let ended = tokio::time::timeout(Duration::from_secs(2), stream.events.recv()).await;
        assert!(matches!(ended, Ok(None)), "the stream should close");
        cloud.finish().await;
    }
}
