//! Deliveries from announcement to completion: carriers announce, the household
//! approves (signed), blocks (signed revocation) or reroutes. Every change is
//! idempotent and safe when two devices press the same button at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
pub use doorstep_api::{Announce, Approve, Block, Delivery, Eta, Reroute, ShipmentStatus};
use doorstep_proto::{DeliveryApproval, Revocation, RevocationTarget, Signed};

use crate::AppState;
use crate::audit::{self, Actor, AuditLine, Owned};
use crate::auth::{CarrierAuth, DeviceSession};
use crate::carriers;
use crate::delivery_state::{self, Action, State as DeliveryState};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::json::ApiJson;
use crate::race::{self, Attempt};
use crate::store::deliveries as store;
use crate::validate;
use doorstep_api::{DeliverySnapshot, EventData};

/// The longest delivery window a carrier may announce.
pub const MAX_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// How far ahead a carrier may announce.
pub const MAX_ANNOUNCE_AHEAD_MS: i64 = 90 * 24 * 3600 * 1000;

/// Announces a shipment. Announcing the same one again is harmless.
#[utoipa::path(post, path = "/v1/carrier/shipments", request_body = Announce,
    responses((status = 201, body = Delivery), (status = 200, body = Delivery), (status = 409, body = crate::error::ErrorBody)), tag = "carriers")]
pub async fn announce(
    State(state): State<AppState>,
    carrier: CarrierAuth,
    ApiJson(request): ApiJson<Announce>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let tracking_id = validate::tracking_id(&request.tracking_id)?;
    let courier_key = validate::public_key("courier_key", &request.courier_key)?;
    let now = state.now().0;
    let window = request.window;
    if window.not_after <= window.not_before {
        return Err(ApiError::invalid(
            "field `window`: not_after must be after not_before",
        ));
    }
    if window.not_after <= now {
        return Err(ApiError::invalid(
            "field `window`: the window is already over",
        ));
    }
    if window.not_after - window.not_before > MAX_WINDOW_MS {
        return Err(ApiError::invalid("field `window`: at most 24 hours long"));
    }
    if window.not_before > now.saturating_add(MAX_ANNOUNCE_AHEAD_MS) {
        return Err(ApiError::invalid(
            "field `window`: starts more than 90 days from now",
        ));
    }
    if let Some(eta) = request.eta {
        validate::eta(eta, &window)?;
    }
    let mut tx = state.db.pool.begin().await?;
    let shipment = match &request.shipment {
        Some(text) => Some(
            check_shipment(
                &mut tx,
                &carrier,
                &request,
                &tracking_id,
                &courier_key,
                text,
            )
            .await?,
        ),
        None => None,
    };
    if !crate::store::households::exists(&mut tx, &request.household_id).await? {
        return Err(ApiError::not_found("household"));
    }
    let existing = store::shipment(&mut tx, &carrier.carrier_id, &tracking_id).await?;
    if let Some(known) = existing {
        let same = known.household_id == request.household_id
            && known.courier_key == courier_key.to_base64()
            && known.window == window;
        if !same {
            return Err(ApiError::conflict(format!(
                "shipment {tracking_id} was already announced with other details"
            )));
        }
        let id = known.id;
        if let Some(shipment) = &shipment {
            // A carrier that signs only now (or signs again) adds its signature.
            store::add_shipment_signature(&mut tx, &id, shipment).await?;
        }
        let loaded = store::load(&mut tx, &request.household_id, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery"))?;
        state.db.commit(tx).await?;
        return Ok((StatusCode::OK, Json(loaded.delivery)));
    }
    let id = uuid::Uuid::now_v7().to_string();
    store::insert(
        &mut tx,
        &store::Announced {
            id: &id,
            household_id: &request.household_id,
            carrier_id: &carrier.carrier_id,
            tracking_id: &tracking_id,
            courier_key: &courier_key.to_base64(),
            window,
            eta: request.eta,
            shipment: shipment.as_deref(),
            at: now,
        },
    )
    .await?;
    let loaded = store::load(&mut tx, &request.household_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    audit::record(
        &mut tx,
        &request.household_id,
        &Actor::Carrier(&carrier.carrier_id),
        crate::audit::AuditVerb::DeliveryAnnounce,
        Some(&id),
        &format!("{} {tracking_id}", carrier.name),
        now,
    )
    .await?;
    let event = events::append(
        &mut tx,
        &request.household_id,
        EventData::DeliveryAnnounced(loaded.delivery.clone().into()),
        None,
        now,
    )
    .await?;
    state.commit_and_publish(tx, [event]).await?;
    Ok((StatusCode::CREATED, Json(loaded.delivery)))
}

/// Checks a carrier's `shipment` envelope against its announcement and its
/// registered keys; returns the envelope as stored.
async fn check_shipment(
    conn: &mut sqlx::AnyConnection,
    carrier: &CarrierAuth,
    request: &Announce,
    tracking_id: &str,
    courier_key: &doorstep_proto::PublicKey,
    text: &str,
) -> ApiResult<String> {
    let signed = Signed::<doorstep_proto::Shipment>::from_base64(text)
        .map_err(|e| ApiError::invalid(format!("field `shipment`: {e}")))?;
    let keys = carriers::keys(conn, &carrier.carrier_id).await?;
    if !keys.contains(&signed.signer()) {
        return Err(ApiError::invalid(
            "field `shipment`: not signed with a key registered for this carrier",
        ));
    }
    let shipment = signed
        .verify(&signed.signer())
        .ok_or_else(|| ApiError::invalid("field `shipment`: the signature does not verify"))?;
    let matches = shipment.carrier == carrier.name
        && shipment.household.as_str() == request.household_id
        && shipment.tracking == tracking_id
        && shipment.courier == *courier_key
        && shipment.window.not_before.0 == request.window.not_before
        && shipment.window.not_after.0 == request.window.not_after;
    if !matches {
        return Err(ApiError::invalid(
            "field `shipment`: its carrier, household, tracking id, courier key or window differ from the announcement",
        ));
    }
    Ok(signed.to_base64())
}

/// The household's deliveries, newest window first.
#[utoipa::path(get, path = "/v1/deliveries", responses((status = 200, body = Vec<Delivery>)), tag = "deliveries")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
) -> ApiResult<Json<Vec<Delivery>>> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(
        store::list(&mut conn, &session.household_id, 200).await?,
    ))
}

/// One delivery.
#[utoipa::path(get, path = "/v1/deliveries/{id}", params(("id" = String, Path)), responses((status = 200, body = Delivery), (status = 404, body = crate::error::ErrorBody)), tag = "deliveries")]
pub async fn get(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    let mut conn = state.db.pool.acquire().await?;
    let Some(loaded) = store::load(&mut conn, &session.household_id, &id).await? else {
        drop(conn);
        return Err(audit::not_in_household(&state, &session, Owned::Delivery, &id).await);
    };
    Ok(Json(loaded.delivery))
}

/// What a state change also writes.
#[derive(Default)]
struct Extra {
    approval: Option<(String, String, String)>,
    revocation: Option<String>,
    reroute_address_id: Option<String>,
}

/// Applies `action` with optimistic concurrency: re-read and retry when another
/// request changed the delivery in between. Returns the delivery after, and
/// whether this request changed it.
async fn transition<'a>(
    state: &AppState,
    household_id: &str,
    id: &str,
    action: Option<Action>,
    actor: &Actor<'a>,
    check: impl Fn(&store::Loaded) -> Result<Extra, ApiError>,
    event_kind: fn(DeliverySnapshot) -> EventData,
) -> ApiResult<(Delivery, bool)> {
    let check = &check;
    race::until_uncontended(move || async move {
        let now = state.now().0;
        let mut tx = state.db.pool.begin().await?;
        let Some(loaded) = store::load(&mut tx, household_id, id).await? else {
            drop(tx);
            return Err(match actor {
                Actor::Device(session) => {
                    audit::not_in_household(state, session, Owned::Delivery, id).await
                }
                _ => ApiError::not_found("delivery"),
            });
        };
        // No action: a change beside the state machine (the approval).
        let step = match action {
            Some(action) => delivery_state::apply(loaded.delivery.state, action)
                .map_err(|e| ApiError::conflict(e.to_string()))?,
            None => delivery_state::Transition {
                to: loaded.delivery.state,
                changed: false,
            },
        };
        let extra = check(&loaded)?;
        let extra_changes = extra.approval.is_some() && !loaded.delivery.approved;
        if !step.changed && !extra_changes {
            return Ok(Attempt::Done((loaded.delivery, false)));
        }
        let (approval, approved_by, lock_id) = extra.approval.clone().unzip3();
        let written = store::Written {
            approval,
            approved_by,
            lock_id,
            revocation: extra.revocation.clone(),
            reroute_address_id: extra.reroute_address_id.clone(),
        };
        let revision = loaded.delivery.revision;
        if !store::update_if_unchanged(&mut tx, id, revision, step.to, &written, now).await? {
            // Someone else changed it first; look again.
            return Ok(Attempt::Raced);
        }
        let after = store::load(&mut tx, household_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery"))?;
        let device = match actor {
            Actor::Device(s) => Some(s.device_id.as_str()),
            _ => None,
        };
        let what = event_kind(after.delivery.clone().into());
        let detail = match action {
            Some(_) => format!("{} → {}", loaded.delivery.state.as_str(), step.to.as_str()),
            None => "approved entry".to_owned(),
        };
        let line = AuditLine {
            object_id: Some(id),
            detail: &detail,
        };
        let event = audit::happened(&mut tx, household_id, actor, what, device, line, now).await?;
        if action == Some(Action::Reroute) && step.changed {
            let notice = doorstep_api::CarrierNotice::Rerouted {
                tracking_id: after.delivery.tracking_id.clone(),
                delivery_id: after.delivery.id.clone(),
                address: after.delivery.rerouted_to.clone(),
            };
            carriers::enqueue(
                &mut tx,
                &after.carrier_id,
                &format!("reroute:{id}"),
                &notice,
                now,
            )
            .await?;
        }
        state.commit_and_publish(tx, [event]).await?;
        Ok(Attempt::Done((after.delivery, true)))
    })
    .await
}

trait Unzip3<A, B, C> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>);
}
impl<A, B, C> Unzip3<A, B, C> for Option<(A, B, C)> {
    fn unzip3(self) -> (Option<A>, Option<B>, Option<C>) {
        match self {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        }
    }
}

/// Approves entry for a delivery with the household's signature.
#[utoipa::path(post, path = "/v1/deliveries/{id}/approve", params(("id" = String, Path)), request_body = Approve,
    responses((status = 200, body = Delivery), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)), tag = "deliveries")]
pub async fn approve(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Approve>,
) -> ApiResult<Json<Delivery>> {
    let signed = Signed::<DeliveryApproval>::from_base64(&request.approval)
        .map_err(|e| ApiError::invalid(format!("field `approval`: {e}")))?;
    let key = crate::household::public_key(&state, &session.household_id).await?;
    let approval = signed.verify(&key).ok_or_else(|| {
        ApiError::invalid("field `approval`: not signed with this household's key")
    })?;
    let locks = crate::household::lock_ids(&state, &session.household_id).await?;
    let text = signed.to_base64();
    let check = |loaded: &store::Loaded| {
        let d = &loaded.delivery;
        let mismatch = |what: &str| {
            Err(ApiError::invalid(format!(
                "field `approval`: {what} does not match the delivery"
            )))
        };
        if approval.household.as_str() != session.household_id || approval.delivery.as_str() != d.id
        {
            return mismatch("household or delivery");
        }
        if approval.carrier != d.carrier {
            return mismatch("carrier");
        }
        if approval.courier.to_base64() != d.courier_key {
            return mismatch("courier");
        }
        if approval.window.not_before.0 < d.window.not_before
            || approval.window.not_after.0 > d.window.not_after
        {
            return mismatch("window");
        }
        if approval.device.as_str() != session.device_id {
            return mismatch("device");
        }
        if !locks.iter().any(|l| l == approval.lock.as_str()) {
            return Err(ApiError::invalid(
                "field `approval`: the lock is not one of this household's locks",
            ));
        }
        if d.state.is_final() || matches!(d.state, DeliveryState::Blocked | DeliveryState::Failed) {
            return Err(ApiError::conflict(format!(
                "cannot approve a delivery that is {}",
                d.state.as_str()
            )));
        }
        Ok(Extra {
            approval: Some((
                text.clone(),
                session.device_id.clone(),
                approval.lock.to_string(),
            )),
            ..Extra::default()
        })
    };
    let (delivery, _) = transition(
        &state,
        &session.household_id,
        &id,
        None,
        &Actor::Device(&session),
        check,
        EventData::DeliveryApproved,
    )
    .await?;
    Ok(Json(delivery))
}

/// Blocks access: the lock refuses or relocks, the courier is told to leave.
/// Pressing it twice, or on two devices at once, blocks once.
#[utoipa::path(post, path = "/v1/deliveries/{id}/block", params(("id" = String, Path)), request_body = Block,
    responses((status = 200, body = Delivery), (status = 409, body = crate::error::ErrorBody)), tag = "deliveries")]
pub async fn block(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Block>,
) -> ApiResult<Json<Delivery>> {
    let signed = Signed::<Revocation>::from_base64(&request.revocation)
        .map_err(|e| ApiError::invalid(format!("field `revocation`: {e}")))?;
    let key = crate::household::public_key(&state, &session.household_id).await?;
    let revocation = signed.verify(&key).ok_or_else(|| {
        ApiError::invalid("field `revocation`: not signed with this household's key")
    })?;
    let locks = crate::household::lock_ids(&state, &session.household_id).await?;
    let text = signed.to_base64();
    let check = |loaded: &store::Loaded| {
        if revocation.household.as_str() != session.household_id
            || revocation.target != RevocationTarget::Delivery(loaded.delivery.id.as_str().into())
        {
            return Err(ApiError::invalid(
                "field `revocation`: it is not for this delivery",
            ));
        }
        if !locks.iter().any(|l| l == revocation.lock.as_str())
            || loaded
                .delivery
                .lock_id
                .as_deref()
                .is_some_and(|l| l != revocation.lock.as_str())
        {
            return Err(ApiError::invalid(
                "field `revocation`: it names the wrong lock",
            ));
        }
        Ok(Extra {
            revocation: Some(text.clone()),
            ..Extra::default()
        })
    };
    let (delivery, _) = transition(
        &state,
        &session.household_id,
        &id,
        Some(Action::Block),
        &Actor::Device(&session),
        check,
        EventData::DeliveryBlocked,
    )
    .await?;
    Ok(Json(delivery))
}

/// Reroutes the parcel to an alternate address and tells the carrier (webhook).
#[utoipa::path(post, path = "/v1/deliveries/{id}/reroute", params(("id" = String, Path)), request_body = Reroute,
    responses((status = 200, body = Delivery), (status = 409, body = crate::error::ErrorBody)), tag = "deliveries")]
pub async fn reroute(
    State(state): State<AppState>,
    session: DeviceSession,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Reroute>,
) -> ApiResult<Json<Delivery>> {
    let mut conn = state.db.pool.acquire().await?;
    let address =
        crate::store::addresses::find(&mut conn, &session.household_id, &request.address_id)
            .await?;
    drop(conn);
    let Some(address) = address else {
        return Err(
            audit::not_in_household(&state, &session, Owned::Address, &request.address_id).await,
        );
    };
    let check = |loaded: &store::Loaded| {
        if let Some(current) = &loaded.delivery.rerouted_to
            && current.id != address.id
        {
            return Err(ApiError::conflict(format!(
                "already rerouted to {}",
                current.label
            )));
        }
        Ok(Extra {
            reroute_address_id: Some(address.id.clone()),
            ..Extra::default()
        })
    };
    let (delivery, _) = transition(
        &state,
        &session.household_id,
        &id,
        Some(Action::Reroute),
        &Actor::Device(&session),
        check,
        EventData::DeliveryRerouted,
    )
    .await?;
    Ok(Json(delivery))
}

/// Updates the ETA of an announced shipment; "approaching" follows from it.
#[utoipa::path(post, path = "/v1/carrier/shipments/{tracking_id}/eta", params(("tracking_id" = String, Path)), request_body = Eta,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)), tag = "carriers")]
pub async fn update_eta(
    State(state): State<AppState>,
    carrier: CarrierAuth,
    Path(tracking_id): Path<String>,
    ApiJson(request): ApiJson<Eta>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db.pool.acquire().await?;
    let shipment = store::shipment(&mut conn, &carrier.carrier_id, &tracking_id)
        .await?
        .ok_or_else(|| ApiError::not_found("open shipment with this tracking id"))?;
    validate::eta(request.eta, &shipment.window)?;
    let now = state.now().0;
    if !store::set_eta_while_on_the_way(
        &mut conn,
        &carrier.carrier_id,
        &tracking_id,
        request.eta,
        now,
    )
    .await?
    {
        return Err(ApiError::not_found("open shipment with this tracking id"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A shipment's state, for the carrier: blocked or rerouted means "leave".
#[utoipa::path(get, path = "/v1/carrier/shipments/{tracking_id}", params(("tracking_id" = String, Path)),
    responses((status = 200, body = ShipmentStatus), (status = 404, body = crate::error::ErrorBody)), tag = "carriers")]
pub async fn shipment_status(
    State(state): State<AppState>,
    carrier: CarrierAuth,
    Path(tracking_id): Path<String>,
) -> ApiResult<Json<ShipmentStatus>> {
    let mut conn = state.db.pool.acquire().await?;
    let shipment = store::shipment(&mut conn, &carrier.carrier_id, &tracking_id)
        .await?
        .ok_or_else(|| ApiError::not_found("shipment"))?;
    let loaded = store::load(&mut conn, &shipment.household_id, &shipment.id)
        .await?
        .ok_or_else(|| ApiError::not_found("shipment"))?;
    Ok(Json(ShipmentStatus {
        delivery_id: loaded.delivery.id,
        state: loaded.delivery.state,
        rerouted_to: loaded.delivery.rerouted_to,
    }))
}
