//! Recordings: played back in batches, seeked, deleted — and not by another household,
//! nor under the camera while it is still filling one.

use std::time::Duration;

use doorstep_api::{FrameBatch, FrameHeader};
use doorstep_proto::Timestamp;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::deliveries::Scene;
use crate::on_both_databases;
use crate::support::*;

const JPEG: [u8; 6] = [0xFF, 0xD8, 1, 2, 0xFF, 0xD9];

async fn frames(
    cloud: &TestCloud,
    token: &str,
    query: &str,
) -> (u16, Option<bool>, Result<FrameBatch, String>) {
    let answer = cloud
        .http
        .get(cloud.url(&format!("/v1/recordings{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let more = answer
        .headers()
        .get(doorstep_api::MORE_FRAMES_HEADER)
        .map(|v| v == "true");
    let body = answer.bytes().await.unwrap();
    let batch = FrameBatch::decode(&body).map_err(|_| String::from_utf8_lossy(&body).into_owned());
    (status, more, batch)
}

fn captured(message: &[u8]) -> i64 {
    FrameHeader::decode(message).unwrap().0.captured_at
}

on_both_databases! {
    async fn a_recording_plays_in_batches_seeks_and_is_deleted_only_once_the_camera_is_done(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "clips@example.org", 0).await;
        let device = scene.kitchen.access.clone();
        let mut request = cloud.url("/v1/lock/video").replacen("http", "ws", 1).into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {}", scene.lock_token).parse().unwrap());
        // Not filming: no picture "now" to give.
        let snapshot = format!("/v1/locks/{}/snapshot", scene.lock_id);
        let (status, answer) = cloud.get(&snapshot, &device).await;
        assert_eq!(status, 404, "{answer}");
        let (mut camera, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let start = Timestamp::now().0 - 3_000;
        for seq in 1..=30u64 {
            let header = FrameHeader { seq, captured_at: start + seq as i64 * 100 };
            camera.send(Message::binary(header.encode(&JPEG))).await.unwrap();
        }
        let mut recording = serde_json::Value::Null;
        for _ in 0..100 {
            let (status, list) = cloud.get("/v1/recordings", &device).await;
            assert_eq!(status, 200, "{list}");
            if list[0]["frames"] == 30 {
                recording = list[0].clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(recording["frames"], 30, "the camera's 30 frames are recorded: {recording}");
        assert_eq!(recording["lock_name"], "Front door");
        assert_eq!(recording["carrier"], serde_json::Value::Null, "no delivery's visit");
        let id = recording["id"].as_str().unwrap().to_owned();

        // Filming: the newest frame is the picture now, for this household only.
        let still = cloud.http.get(cloud.url(&snapshot)).bearer_auth(&device).send().await.unwrap();
        assert_eq!(still.status(), 200);
        assert_eq!(still.headers()["frame-seq"], "30");
        assert_eq!(&still.bytes().await.unwrap()[..], &JPEG[..]);
        let (_, stranger_first, _) = household_with_two_devices(&cloud, "peeper@example.org").await;
        let (status, _) = cloud.get(&snapshot, &stranger_first.access).await;
        assert_eq!(status, 404, "another household's camera");

        // From the start: every frame, in capture order, and nothing more to come.
        let (status, more, batch) = frames(&cloud, &device, &format!("/{id}/frames")).await;
        assert_eq!(status, 200);
        let batch = batch.unwrap();
        assert_eq!(batch.frames.len(), 30);
        assert_eq!(more, Some(false));
        let times: Vec<i64> = batch.frames.iter().map(|f| captured(f)).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
        assert_eq!(times[0], start + 100);

        // From the middle, a few at a time: the first at or after the time, and more follow.
        let middle = start + 1_550;
        let (status, more, batch) = frames(&cloud, &device, &format!("/{id}/frames?from={middle}&max=5")).await;
        assert_eq!(status, 200);
        let batch = batch.unwrap();
        assert_eq!(batch.frames.iter().map(|f| captured(f)).collect::<Vec<_>>(), (16..=20).map(|n| start + n * 100).collect::<Vec<_>>());
        assert_eq!(more, Some(true));
        // Past the end: nothing, and nothing more.
        let (status, more, batch) = frames(&cloud, &device, &format!("/{id}/frames?from={}", start + 60_000)).await;
        assert_eq!((status, more, batch.unwrap().frames.len()), (200, Some(false), 0));

        // Numbers from outside are checked and named.
        for (query, named) in [("max=0", "max"), ("max=201", "max"), ("max=-1", "max"), ("from=99999999999999999", "from"), ("from=x", "from")] {
            let (status, _, batch) = frames(&cloud, &device, &format!("/{id}/frames?{query}")).await;
            assert_eq!(status, 400, "{query}");
            let error = batch.unwrap_err();
            assert!(error.contains(named), "{query}: {error}");
        }

        // Another household neither plays nor deletes it: it does not exist for them.
        let (_, stranger, _) = household_with_two_devices(&cloud, "stranger@example.org").await;
        let (status, _, _) = frames(&cloud, &stranger.access, &format!("/{id}/frames")).await;
        assert_eq!(status, 404);
        let (status, answer) = cloud.delete(&format!("/v1/recordings/{id}"), &stranger.access).await;
        assert_eq!(status, 404, "{answer}");

        // While the camera is still filling it, it is not deleted under the camera.
        let (status, answer) = cloud.delete(&format!("/v1/recordings/{id}"), &device).await;
        assert_eq!(status, 409, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("still recording"), "{answer}");

        // The camera is done: it goes, frames and all, and is gone for good.
        camera.close(None).await.unwrap();
        drop(camera);
        let mut deleted = None;
        for _ in 0..100 {
            let (status, answer) = cloud.delete(&format!("/v1/recordings/{id}"), &device).await;
            if status != 409 {
                deleted = Some((status, answer));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (status, answer) = deleted.expect("deleted once the camera closed its socket");
        assert_eq!(status, 204, "{answer}");
        let (status, list) = cloud.get("/v1/recordings", &device).await;
        assert_eq!((status, list.as_array().unwrap().len()), (200, 0), "{list}");
        let (status, _, _) = frames(&cloud, &device, &format!("/{id}/frames")).await;
        assert_eq!(status, 404);
        let (status, answer) = cloud.delete(&format!("/v1/recordings/{id}"), &device).await;
        assert_eq!(status, 404, "deleting twice: {answer}");
        let left: Vec<_> = std::fs::read_dir(cloud.settings.data_dir.join("recordings")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "the frames stayed on disk: {left:?}");
        let (status, audit) = cloud.get("/v1/audit?action_prefix=video.", &device).await;
        assert_eq!(status, 200, "{audit}");
        let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(
            ["video.delete", "video.playback", "video.snapshot"].iter().all(|a| actions.contains(a)),
            "{actions:?}"
        );
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn frames_a_crash_left_behind_of_a_deleted_recording_are_removed_at_the_next_start(backend: Backend) {
        let Some(mut cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "leftovers@example.org", 0).await;
        let device = scene.kitchen.access.clone();
        let mut request = cloud.url("/v1/lock/video").replacen("http", "ws", 1).into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {}", scene.lock_token).parse().unwrap());
        let (mut camera, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let start = Timestamp::now().0 - 2_000;
        for seq in 1..=10u64 {
            let header = FrameHeader { seq, captured_at: start + seq as i64 * 100 };
            camera.send(Message::binary(header.encode(&JPEG))).await.unwrap();
        }
        let mut id = String::new();
        for _ in 0..100 {
            let (_, list) = cloud.get("/v1/recordings", &device).await;
            if list[0]["frames"] == 10 {
                id = list[0]["id"].as_str().unwrap().to_owned();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!id.is_empty(), "the recording is listed");
        camera.close(None).await.unwrap();
        drop(camera);

        // A recording the household deleted, whose files stayed because the cloud
        // died between dropping its row and its files; and a file that is not ours.
        let folder = cloud.settings.data_dir.join("recordings");
        let deleted = uuid::Uuid::now_v7().to_string();
        for ext in ["frames", "index"] {
            std::fs::copy(folder.join(format!("{id}.{ext}")), folder.join(format!("{deleted}.{ext}"))).unwrap();
        }
        std::fs::write(folder.join("notes.txt"), b"not a recording").unwrap();

        cloud.restart().await;
        let mut left: Vec<String> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [format!("{id}.frames"), format!("{id}.index"), "notes.txt".to_owned()]);
        // The listed recording still plays, every frame.
        let (status, _, batch) = frames(&cloud, &device, &format!("/{id}/frames")).await;
        assert_eq!(status, 200);
        assert_eq!(batch.unwrap().frames.len(), 10);
        cloud.finish().await;
    }
}
