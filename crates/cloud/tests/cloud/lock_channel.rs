//! The lock's channel: revocations and policies are pushed the moment they
//! commit, and replayed in full on every reconnect.

use std::time::Duration;

use doorstep_proto::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::deliveries::Scene;
use crate::on_both_databases;
use crate::support::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    cloud: &TestCloud,
    token: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = cloud.url("/v1/lock/connect").replacen("http", "ws", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("nothing from the cloud within 5 s")
            .expect("channel closed")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

on_both_databases! {
    async fn a_block_reaches_the_lock_at_once_and_again_after_a_reconnect(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "channel@example.org", 0).await;
        let mut socket = connect(&cloud, &scene.lock_token).await.unwrap();
        let hello = next(&mut socket).await;
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["lock_id"], scene.lock_id.as_str());
        assert_eq!(next(&mut socket).await["type"], "synced");

        let delivery = scene.announce(&cloud, "JJD2001").await;
        let signed = Signed::sign(&scene.approval(&delivery, &scene.kitchen), &scene.household.household_key).to_base64();
        let id = delivery["id"].as_str().unwrap();
        cloud.post(&format!("/v1/deliveries/{id}/approve"), Some(&scene.kitchen.access), json!({ "approval": signed })).await;
        let (status, _) = cloud
            .post(&format!("/v1/deliveries/{id}/block"), Some(&scene.study.access), json!({ "revocation": scene.revocation(&delivery, &scene.study) }))
            .await;
        assert_eq!(status, 200);

        let pushed = next(&mut socket).await;
        assert_eq!(pushed["type"], "revocation");
        let revocation = Signed::<Revocation>::from_base64(pushed["revocation"].as_str().unwrap())
            .unwrap()
            .verify(&scene.household.household_key.public_key())
            .expect("signed by the household, checkable by the lock");
        assert_eq!(revocation.target, RevocationTarget::Delivery(DeliveryId(id.into())));

        // A new lock session gets it again before "synced".
        drop(socket);
        let mut socket = connect(&cloud, &scene.lock_token).await.unwrap();
        assert_eq!(next(&mut socket).await["type"], "hello");
        assert_eq!(next(&mut socket).await["type"], "revocation");
        assert_eq!(next(&mut socket).await["type"], "synced");
        socket.close(None).await.unwrap();
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn only_a_paired_lock_may_open_the_channel(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "nochannel@example.org", 0).await;
        assert!(connect(&cloud, "dlk_forged").await.is_err());
        assert!(connect(&cloud, &scene.kitchen.access).await.is_err());
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn an_oversized_channel_message_closes_only_that_connection(backend: Backend) {
        use futures_util::SinkExt;
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "bigmessage@example.org", 0).await;
        let mut socket = connect(&cloud, &scene.lock_token).await.unwrap();
        assert_eq!(next(&mut socket).await["type"], "hello");
        // 1 MiB where the protocol needs a few hundred bytes: the cloud drops the link
        // instead of buffering it (64 MiB per connection by default).
        let _ = socket.send(Message::text("x".repeat(1024 * 1024))).await;
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match socket.next().await {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the cloud kept the connection open");
        // Everyone else is still served, the same lock included.
        let mut again = connect(&cloud, &scene.lock_token).await.unwrap();
        assert_eq!(next(&mut again).await["type"], "hello");
        let (status, _) = cloud.get("/healthz", "").await;
        assert_eq!(status, 200);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn a_lock_speaking_another_protocol_is_refused_naming_the_header(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = Scene::new(&cloud, "protocol@example.org", 0).await;
        for (spoken, accepted) in [("1", true), ("2", false), ("0", false), ("one", false), ("99999999999", false)] {
            let url = cloud.url("/v1/lock/connect").replacen("http", "ws", 1);
            let mut request = url.into_client_request().unwrap();
            let headers = request.headers_mut();
            headers.insert("authorization", format!("Bearer {}", scene.lock_token).parse().unwrap());
            headers.insert(doorstep_api::PROTOCOL_HEADER, spoken.parse().unwrap());
            match tokio_tungstenite::connect_async(request).await {
                Ok((mut socket, _)) => {
                    assert!(accepted, "protocol {spoken:?} was accepted");
                    let hello: doorstep_api::ToLock = serde_json::from_value(next(&mut socket).await).unwrap();
                    let doorstep_api::ToLock::Hello { protocol, keepalive_secs, capabilities, .. } = hello else {
                        panic!("the first message is not a hello");
                    };
                    assert_eq!(protocol, doorstep_api::LOCK_PROTOCOL);
                    assert!(doorstep_api::KEEPALIVE_SECS_RANGE.contains(&keepalive_secs));
                    assert!(capabilities.iter().any(|c| c == "time"), "{capabilities:?}");
                }
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert!(!accepted, "protocol {spoken:?} was refused");
                    assert_eq!(response.status(), 400);
                    let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
                    assert!(body.contains("x-doorstep-protocol") && body.contains("lock protocol 1"), "{body}");
                }
                Err(e) => panic!("{spoken:?}: {e}"),
            }
        }
        cloud.finish().await;
    }
}
