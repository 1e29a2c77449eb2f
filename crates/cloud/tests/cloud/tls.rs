//! HTTPS with rustls, and clients that verify the certificate.

use crate::support::*;

#[tokio::test]
async fn the_cloud_serves_https_that_a_client_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let cloud = TestCloud::start_with(
        Backend::Sqlite,
        |settings| {
            settings.tls_cert = Some(cert.clone());
            settings.tls_key = Some(key.clone());
        },
        false,
    )
    .await
    .unwrap();
    let port = cloud.cloud.as_ref().unwrap().addr.port();
    assert!(cloud.url("/").starts_with("https://"));
    let url = format!("https://localhost:{port}/healthz");

    let trusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert_eq!(trusting.get(&url).send().await.unwrap().status(), 200);

    // A client that does not know the certificate refuses to talk: verification is on.
    let stranger = reqwest::Client::new();
    let refused = stranger.get(&url).send().await;
    assert!(refused.is_err(), "an unverified certificate was accepted");
    cloud.finish().await;
}

#[tokio::test]
async fn a_certificate_without_its_key_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = doorstep_cloud::Settings {
        data_dir: dir.path().to_path_buf(),
        tls_cert: Some(dir.path().join("cert.pem")),
        ..doorstep_cloud::Settings::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = doorstep_cloud::start(listener, settings.clone())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("tls_cert and tls_key must be given together"),
        "{err}"
    );
    settings.tls_key = Some(dir.path().join("key.pem"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = doorstep_cloud::start(listener, settings).await.unwrap_err();
    assert!(err.to_string().contains("tls_cert"), "{err}");
}
