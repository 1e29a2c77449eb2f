//! The trust model, attacked: each way to get in without the household's
//! consent must be refused, with the right reason.

use std::time::Duration;

use crate::common::*;
use doorstep_proto::*;

#[test]
fn a_genuine_courier_with_an_approved_grant_gets_in() {
    let world = World::new();
    let entry = world.verify(&world.genuine()).unwrap();
    assert_eq!(entry.grant.grant, GrantId::from("grant-1"));
}

#[test]
fn the_clouds_own_key_cannot_open_a_door_the_household_never_approved() {
    let world = World::new();
    // A breached cloud signs the approval itself.
    let forged = Signed::sign(&world.approval(), &world.cloud_key);
    let presented = world.presenting(world.grant_with(Authorization::Approval(forged)));
    assert_eq!(
        world.verify(&presented),
        Err(Refusal::BadSignature(SignedPart::Authorization))
    );
}

#[test]
fn an_approval_for_another_delivery_does_not_cover_this_one() {
    let world = World::new();
    let mut approval = world.approval();
    approval.delivery = DeliveryId::from("delivery-other");
    let signed = Signed::sign(&approval, &world.household_key);
    let presented = world.presenting(world.grant_with(Authorization::Approval(signed)));
    assert_eq!(world.verify(&presented), Err(Refusal::NotApproved));
}

#[test]
fn a_grant_is_refused_when_replayed() {
    let world = World::new();
    let presented = world.genuine();
    let entry = world.verify(&presented).unwrap();
    world.ledger.used.borrow_mut().insert(entry.key);
    assert_eq!(world.verify(&presented), Err(Refusal::Replayed));
}

#[test]
fn one_approval_opens_once_whatever_grant_ids_the_cloud_mints() {
    let world = World::new();
    let entry = world.verify(&world.genuine()).unwrap();
    assert_eq!(
        entry.key,
        EntryKey::Approval(DeliveryId::from("delivery-1"))
    );
    world.ledger.used.borrow_mut().insert(entry.key);
    // A breached cloud (its key, the courier's key) mints a fresh grant for a fresh challenge.
    let mut again = world.grant();
    again.grant = GrantId::from("grant-2");
    again.challenge = [8; 32];
    let mut presented = world.presenting(again);
    presented.challenge.nonce = [8; 32];
    presented.response = Signed::sign(
        &world.response_to(
            &presented.challenge,
            presented.grant.peek().unwrap().subject,
        ),
        &world.courier_key,
    );
    assert_eq!(world.verify(&presented), Err(Refusal::Replayed));
}

#[test]
fn a_grant_for_another_challenge_is_refused_even_with_a_fresh_answer() {
    let world = World::new();
    let mut presented = world.genuine();
    // The lock's new challenge, answered afresh by the courier, with the old grant.
    presented.challenge.nonce = [9; 32];
    presented.response = Signed::sign(
        &world.response_to(
            &presented.challenge,
            GrantSubject::Delivery("delivery-1".into()),
        ),
        &world.courier_key,
    );
    assert_eq!(world.verify(&presented), Err(Refusal::Replayed));
}

#[test]
fn a_captured_challenge_answer_does_not_answer_a_new_challenge() {
    let world = World::new();
    let mut presented = world.genuine();
    presented.challenge.nonce = [9; 32]; // the lock's new challenge
    assert_eq!(world.verify(&presented), Err(Refusal::Replayed));
}

#[test]
fn an_old_challenge_answer_is_refused() {
    let world = World::new();
    let mut presented = world.genuine();
    // Measured by the lock's monotonic clock: the wall clock plays no part.
    presented.challenge_age = CHALLENGE_MAX_AGE + Duration::from_millis(1);
    assert_eq!(world.verify(&presented), Err(Refusal::Replayed));
    world.clock.advance(Duration::from_secs(3600));
    presented.challenge_age = Duration::from_secs(1);
    assert_ne!(world.verify(&presented), Err(Refusal::Replayed));
}

#[test]
fn a_grant_for_another_lock_is_refused() {
    let world = World::new();
    let mut grant = world.grant();
    grant.lock = LockId::from("lock-of-another-household");
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::WrongLock)
    );
}

#[test]
fn a_grant_for_another_household_is_refused() {
    let world = World::new();
    let mut grant = world.grant();
    grant.household = HouseholdId::from("house-2");
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::WrongLock)
    );
}

#[test]
fn the_window_is_judged_by_the_locks_clock_with_skew() {
    let world = World::new();
    let presented = world.genuine();
    // Just inside the skew after the end: still fine (the challenge is fresh).
    world.clock.set(world.window().not_after.plus(CLOCK_SKEW));
    let mut fresh = world.genuine();
    fresh.challenge.issued_at = world.window().not_after;
    fresh.heartbeat = Signed::sign(
        &CameraHeartbeat {
            captured_at: world.window().not_after.plus(CLOCK_SKEW),
            ..world.heartbeat()
        },
        &world.camera_key,
    );
    assert!(world.verify(&fresh).is_ok());
    world
        .clock
        .set(world.window().not_after.plus(CLOCK_SKEW).plus_millis(1));
    assert_eq!(world.verify(&presented), Err(Refusal::Expired));
    world
        .clock
        .set(world.window().not_before.minus(CLOCK_SKEW).plus_millis(-1));
    assert_eq!(world.verify(&presented), Err(Refusal::NotYetValid));
}

#[test]
fn another_courier_cannot_use_the_grant() {
    let world = World::new();
    let mut presented = world.genuine();
    let thief = key(66);
    presented.response = Signed::sign(
        &world.response_to(
            &presented.challenge,
            GrantSubject::Delivery("delivery-1".into()),
        ),
        &thief,
    );
    assert_eq!(world.verify(&presented), Err(Refusal::WrongCourier));
}

#[test]
fn a_grant_issued_to_another_courier_than_the_household_approved_is_refused() {
    let world = World::new();
    let mut grant = world.grant();
    let accomplice = key(67);
    grant.holder = accomplice.public_key();
    let challenge = world.challenge();
    let presented = Presented {
        response: Signed::sign(
            &world.response_to(&challenge, grant.subject.clone()),
            &accomplice,
        ),
        grant: Signed::sign(&grant, &world.cloud_key),
        heartbeat: Signed::sign(&world.heartbeat(), &world.camera_key),
        challenge,
        challenge_age: Duration::from_secs(1),
    };
    assert_eq!(world.verify(&presented), Err(Refusal::WrongCourier));
}

#[test]
fn a_revoked_delivery_opens_nothing() {
    let world = World::new();
    world
        .ledger
        .revoked
        .borrow_mut()
        .push(RevocationTarget::Delivery("delivery-1".into()));
    assert_eq!(world.verify(&world.genuine()), Err(Refusal::Revoked));
}

/// Re-assembles an envelope with a different body but the original signature.
fn with_body<T: SignedObject>(signed: &Signed<T>, body: &T) -> Signed<T> {
    use ciborium::Value;
    let mut body_bytes = Vec::new();
    ciborium::into_writer(body, &mut body_bytes).unwrap();
    let Value::Array(mut fields) =
        ciborium::from_reader::<Value, _>(signed.to_bytes().as_slice()).unwrap()
    else {
        unreachable!()
    };
    fields[3] = Value::Bytes(body_bytes);
    let mut bytes = Vec::new();
    ciborium::into_writer(&Value::Array(fields), &mut bytes).unwrap();
    Signed::from_bytes(&bytes).unwrap()
}

#[test]
fn a_tampered_grant_fails_its_signature() {
    let world = World::new();
    let mut presented = world.genuine();
    let mut longer = world.grant();
    longer.window.not_after = longer.window.not_after.plus_millis(86_400_000);
    presented.grant = with_body(&presented.grant, &longer);
    assert_eq!(
        world.verify(&presented),
        Err(Refusal::BadSignature(SignedPart::Grant))
    );
}

#[test]
fn a_tampered_approval_inside_a_genuine_grant_fails_its_signature() {
    let world = World::new();
    let genuine = Signed::sign(&world.approval(), &world.household_key);
    let mut approval = world.approval();
    approval.lock = LockId::from("lock-garage");
    let tampered = with_body(&genuine, &approval);
    let mut grant = world.grant_with(Authorization::Approval(tampered));
    grant.lock = world.trust.lock.clone();
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::BadSignature(SignedPart::Authorization))
    );
}

#[test]
fn no_fresh_recording_heartbeat_means_no_entry() {
    let world = World::new();
    let mut presented = world.genuine();
    presented.heartbeat = Signed::sign(
        &CameraHeartbeat {
            recording: false,
            ..world.heartbeat()
        },
        &world.camera_key,
    );
    assert_eq!(world.verify(&presented), Err(Refusal::CameraNotRecording));

    let presented = world.genuine();
    world
        .clock
        .advance(CAMERA_HEARTBEAT_MAX_AGE + Duration::from_millis(1));
    assert_eq!(world.verify(&presented), Err(Refusal::CameraNotRecording));
}

#[test]
fn a_heartbeat_not_from_the_paired_camera_is_refused() {
    let world = World::new();
    let mut presented = world.genuine();
    presented.heartbeat = Signed::sign(&world.heartbeat(), &key(99));
    assert_eq!(
        world.verify(&presented),
        Err(Refusal::BadSignature(SignedPart::Heartbeat))
    );
}

#[test]
fn an_unset_clock_opens_nothing() {
    let world = World::new();
    world.clock.set_trusted(false);
    assert_eq!(world.verify(&world.genuine()), Err(Refusal::ClockUntrusted));
}

#[test]
fn a_standing_policy_admits_a_matching_delivery_and_nothing_else() {
    let mut world = World::new();
    let policy = world.policy(3);
    let grant = world.policy_grant(&policy, &world.shipment(), &world.carrier_key);
    let entry = world.verify(&world.presenting(grant.clone())).unwrap();
    assert_eq!(
        entry.key,
        EntryKey::Shipment {
            carrier: "DHL".into(),
            tracking: "JJD0001".into()
        }
    );

    let mut other_carrier = grant.clone();
    other_carrier.carrier = Some("Hermes".into());
    assert_eq!(
        world.verify(&world.presenting(other_carrier)),
        Err(Refusal::NotApproved)
    );

    let mut too_long = grant.clone();
    too_long.window.not_after = too_long.window.not_before.plus_millis(61 * 60_000);
    assert_eq!(
        world.verify(&world.presenting(too_long)),
        Err(Refusal::OutsidePolicy)
    );

    // A newer policy makes the old one void.
    world.ledger.policy_version = 4;
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::Revoked)
    );
}

#[test]
fn under_a_policy_the_clouds_key_alone_opens_nothing() {
    let world = World::new();
    let policy = world.policy(1);
    let attacker = key(66);
    // The shipment signed by the cloud's key, or any key the household did not pin.
    for signer in [&world.cloud_key, &attacker] {
        let grant = world.policy_grant(&policy, &world.shipment(), signer);
        assert_eq!(
            world.verify(&world.presenting(grant)),
            Err(Refusal::BadSignature(SignedPart::Shipment)),
        );
    }
    // A genuine shipment, handed to the attacker's courier key by the grant.
    let mut grant = world.policy_grant(&policy, &world.shipment(), &world.carrier_key);
    grant.holder = attacker.public_key();
    let challenge = world.challenge();
    let presented = Presented {
        response: Signed::sign(
            &world.response_to(&challenge, grant.subject.clone()),
            &attacker,
        ),
        grant: Signed::sign(&grant, &world.cloud_key),
        heartbeat: Signed::sign(&world.heartbeat(), &world.camera_key),
        challenge,
        challenge_age: Duration::from_secs(1),
    };
    assert_eq!(world.verify(&presented), Err(Refusal::WrongCourier));
    // A genuine shipment for another household.
    let mut elsewhere = world.shipment();
    elsewhere.household = HouseholdId::from("house-2");
    let grant = world.policy_grant(&policy, &elsewhere, &world.carrier_key);
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::NotApproved)
    );
    // A grant window outside the shipment's.
    let mut grant = world.policy_grant(&policy, &world.shipment(), &world.carrier_key);
    grant.window = TimeWindow::new(T0.plus_millis(-60_000), T0.plus_millis(25 * 60_000));
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::OutsidePolicy)
    );
}

#[test]
fn one_shipment_opens_once_under_a_policy() {
    let world = World::new();
    let policy = world.policy(1);
    let grant = world.policy_grant(&policy, &world.shipment(), &world.carrier_key);
    let entry = world.verify(&world.presenting(grant.clone())).unwrap();
    world.ledger.used.borrow_mut().insert(entry.key);
    let mut minted = grant;
    minted.grant = GrantId::from("grant-9");
    minted.subject = GrantSubject::Delivery(DeliveryId::from("delivery-9"));
    assert_eq!(
        world.verify(&world.presenting(minted)),
        Err(Refusal::Replayed)
    );
}

#[test]
fn a_delivery_approval_cannot_let_a_guest_in() {
    let world = World::new();
    let mut grant = world.grant();
    grant.subject = GrantSubject::Guest(GuestId::from("cleaner"));
    assert_eq!(
        world.verify(&world.presenting(grant)),
        Err(Refusal::NotApproved)
    );
}

#[test]
fn a_guest_gets_in_inside_the_schedule_and_not_outside() {
    let world = World::new();
    let guest_key = key(10);
    let invitation = GuestInvitation {
        household: world.trust.household.clone(),
        guest: GuestId::from("cleaner"),
        name: "Ana (cleaner)".into(),
        guest_key: guest_key.public_key(),
        locks: vec![world.trust.lock.clone()],
        schedule: GuestSchedule::Once(TimeWindow::new(
            T0.plus_millis(-3_600_000),
            T0.plus_millis(3_600_000),
        )),
        device: DeviceId::from("laptop-1"),
        issued_at: T0.plus_millis(-86_400_000),
    };
    let mut grant = world.grant_with(Authorization::Guest(Signed::sign(
        &invitation,
        &world.household_key,
    )));
    grant.subject = GrantSubject::Guest(GuestId::from("cleaner"));
    grant.holder = guest_key.public_key();
    grant.carrier = None;
    let challenge = world.challenge();
    let presented = Presented {
        response: Signed::sign(
            &world.response_to(&challenge, grant.subject.clone()),
            &guest_key,
        ),
        grant: Signed::sign(&grant, &world.cloud_key),
        heartbeat: Signed::sign(&world.heartbeat(), &world.camera_key),
        challenge,
        challenge_age: Duration::from_secs(1),
    };
    assert!(world.verify(&presented).is_ok());

    let mut late = grant.clone();
    late.window = TimeWindow::new(T0, T0.plus_millis(2 * 3_600_000));
    let presented = Presented {
        grant: Signed::sign(&late, &world.cloud_key),
        ..presented
    };
    assert_eq!(world.verify(&presented), Err(Refusal::OutsidePolicy));
}

#[test]
fn an_envelope_of_one_kind_is_not_accepted_as_another() {
    let world = World::new();
    let approval = Signed::sign(&world.approval(), &world.household_key);
    let err = Signed::<Revocation>::from_bytes(&approval.to_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a revocation but got a delivery-approval"
    );
}

#[test]
fn signed_objects_round_trip_through_json_text() {
    let world = World::new();
    let grant = world.genuine().grant;
    let json = serde_json::to_string(&grant).unwrap();
    let back: Signed<EntryGrant> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, grant);
}
