//! Bad input gets a 4xx with `{code, message}` naming what was wrong; nothing is
//! written half-way; the server keeps serving.

use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::*;

async fn raw(cloud: &TestCloud, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = cloud
        .http
        .post(cloud.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

on_both_databases! {
    async fn malformed_requests_are_refused_with_the_field_named(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let household = Household::new("input@example.org");

        let (status, body) = raw(&cloud, "/v1/accounts", "application/json", b"{\"email\": ".to_vec()).await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], "invalid_request");
        assert!(body["message"].as_str().unwrap().contains("invalid JSON"), "{body}");

        let mut wrong_type = household.create_body("Laptop");
        wrong_type["time_zone"] = json!(42);
        let (status, body) = cloud.post("/v1/accounts", None, wrong_type).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().starts_with("field `time_zone`"), "{body}");

        let mut unknown = household.create_body("Laptop");
        unknown["is_admin"] = json!(true);
        let (status, body) = cloud.post("/v1/accounts", None, unknown).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("unknown field `is_admin`"), "{body}");

        let mut nested = household.create_body("Laptop");
        nested["device"]["public_key"] = json!("not-a-key");
        let (status, body) = cloud.post("/v1/accounts", None, nested).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().starts_with("field `device.public_key`"), "{body}");

        let mut bad_zone = household.create_body("Laptop");
        bad_zone["time_zone"] = json!("Mars/Olympus");
        let (status, body) = cloud.post("/v1/accounts", None, bad_zone).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("IANA"), "{body}");

        let mut bad_email = household.create_body("Laptop");
        bad_email["email"] = json!("not an address");
        let (status, body) = cloud.post("/v1/accounts", None, bad_email).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().starts_with("field `email`"), "{body}");

        let (status, body) = raw(&cloud, "/v1/accounts", "text/plain", b"hello".to_vec()).await;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap().contains("Content-Type"), "{body}");

        let (status, body) = raw(&cloud, "/v1/accounts", "application/json", vec![b' '; 200 * 1024]).await;
        assert_eq!(status, 413);
        assert_eq!(body["code"], "payload_too_large");

        // Nothing was written by any of them …
        assert_eq!(cloud.count("households").await, 0);
        assert_eq!(cloud.count("devices").await, 0);
        // … and the server still serves a good request.
        assert_eq!(cloud.post("/v1/accounts", None, household.create_body("Laptop")).await.0, 201);
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn unknown_ids_routes_and_tokens_are_clear_errors(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, device, _) = household_with_two_devices(&cloud, "ids@example.org").await;
        let (status, body) = cloud.delete("/v1/devices/no-such-device", &device.access).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        let (status, body) = cloud.get("/v1/nowhere", &device.access).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        let (status, body) = cloud.get("/v1/devices", "dsa_forged").await;
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")));
        let (status, body) = cloud.get("/v1/devices", "dck_a-carrier-key").await;
        assert_eq!(status, 401, "{body}");
        let (status, body) = cloud.get("/v1/events?after=abc", &device.access).await;
        assert_eq!(status, 400, "{body}");
        cloud.finish().await;
    }
}

on_both_databases! {
    async fn an_array_is_not_an_object_and_an_empty_change_writes_nothing(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let (_, device, _) = household_with_two_devices(&cloud, "shapes@example.org").await;
        let (_, before) = cloud.get("/v1/events", &device.access).await;
        for body in [json!(["Europe/Paris", 15]), json!({})] {
            let (status, answer) = cloud
                .call(reqwest::Method::PATCH, "/v1/household", Some(&device.access), Some(body.clone()))
                .await;
            if body.is_array() {
                assert_eq!(status, 400, "{answer}");
                assert!(answer["message"].as_str().unwrap().contains("JSON object"), "{answer}");
            } else {
                assert_eq!(status, 200, "{answer}");
                assert_eq!(answer["time_zone"], "Europe/Berlin");
            }
        }
        let (_, after) = cloud.get("/v1/events", &device.access).await;
        assert_eq!(after["last_seq"], before["last_seq"], "no event for no change");
        cloud.finish().await;
    }
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let cloud = TestCloud::start(Backend::Sqlite).await.unwrap();
    let health = cloud.http.get(cloud.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let openapi: Value = cloud
        .http
        .get(cloud.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/sessions/refresh",
        "/v1/events/stream",
        "/v1/deliveries/{id}/block",
        "/v1/deliveries/{id}/reroute",
        "/v1/courier/deliveries/{id}/access",
        "/v1/guest/{id}/access",
        "/v1/locks/pair",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    // Every route the server answers is described, WebSockets and operations included.
    for path in [
        "/healthz",
        "/metrics",
        "/v1/lock/connect",
        "/v1/lock/video",
        "/v1/locks/{id}/live",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    assert_eq!(
        openapi["paths"]["/v1/locks/{id}/live"]["get"]["parameters"][0]["in"],
        "path"
    );
    // Credentials are declared, and each operation says which it takes.
    for scheme in ["device_token", "carrier_key", "lock_token"] {
        assert_eq!(
            openapi["components"]["securitySchemes"][scheme]["scheme"], "bearer",
            "{scheme}"
        );
    }
    assert_eq!(
        openapi["paths"]["/v1/deliveries"]["get"]["security"][0]["device_token"],
        json!([])
    );
    assert_eq!(
        openapi["paths"]["/v1/carrier/shipments"]["post"]["security"][0]["carrier_key"],
        json!([])
    );
    assert_eq!(
        openapi["paths"]["/v1/lock/reports"]["post"]["security"][0]["lock_token"],
        json!([])
    );
    assert_eq!(
        openapi["paths"]["/v1/sessions"]["post"]["security"][0],
        json!({})
    );
    // The errors a route can answer are documented; query parameters are queries.
    for (path, method, codes) in [
        (
            "/v1/guests",
            "post",
            &["400", "401", "409", "413", "503"][..],
        ),
        (
            "/v1/sessions",
            "post",
            &["400", "401", "413", "429", "503"][..],
        ),
        ("/v1/deliveries/{id}", "get", &["401", "404", "503"][..]),
        ("/v1/locks/pair", "post", &["400", "413", "429", "503"][..]),
    ] {
        let responses = &openapi["paths"][path][method]["responses"];
        for code in codes {
            assert!(
                responses[code].is_object(),
                "{method} {path} does not document {code}: {responses}"
            );
        }
    }
    for (path, name) in [
        ("/v1/events", "after"),
        ("/v1/audit", "limit"),
        ("/v1/recordings/{id}/frame", "at"),
    ] {
        let parameters = openapi["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap();
        let parameter = parameters.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(parameter["in"], "query", "{path} {name}: {parameter}");
    }
    cloud
        .post(
            "/v1/accounts",
            None,
            Household::new("m@example.org").create_body("L"),
        )
        .await;
    let metrics = cloud
        .http
        .get(cloud.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("doorstep_http_requests_total"),
        "{metrics}"
    );
    cloud.finish().await;
}

on_both_databases! {
    async fn a_plain_request_to_a_websocket_route_gets_the_json_error_every_route_gives(backend: Backend) {
        let Some(cloud) = TestCloud::start(backend).await else { return };
        let scene = crate::deliveries::Scene::new(&cloud, "upgrade@example.org", 0).await;
        for (path, token) in [
            (format!("/v1/locks/{}/live", scene.lock_id), &scene.kitchen.access),
            ("/v1/lock/connect".to_owned(), &scene.lock_token),
            ("/v1/lock/video".to_owned(), &scene.lock_token),
        ] {
            let response = cloud.http.get(cloud.url(&path)).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 400, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "invalid_request", "{path}: {body}");
            assert!(body["message"].as_str().unwrap().contains("WebSocket upgrade"), "{path}: {body}");
        }
        cloud.finish().await;
    }
}
