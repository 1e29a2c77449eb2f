//! Approving deliveries the household said yes to in advance.
//!
//! The policy is read from the cloud but believed only if the household key signed
//! it: a cloud that forged or widened a policy gets no approval from this device.

use doorstep_api::{Delivery, DeliveryState};
use doorstep_proto::{DeliveryPolicy, TimeWindow, Timestamp};

use crate::client::Client;
use crate::error::CoreResult;

/// Approves `delivery` when the household's signed policy admits it; `false` when it
/// does not (the household decides by hand).
pub async fn approve_by_policy(client: &Client, delivery: &Delivery) -> CoreResult<bool> {
    if delivery.approved || delivery.state != DeliveryState::Announced {
        return Ok(false);
    }
    let Some(policy) = client.policy().await? else {
        return Ok(false);
    };
    let Some((lock, window)) = admits(&policy, delivery) else {
        return Ok(false);
    };
    client
        .send_approval(delivery, lock.as_str().into(), window)
        .await?;
    Ok(true)
}

/// The lock and window the policy admits the delivery for, if it does: only a
/// shipment that a carrier key pinned in the policy signed, for this household,
/// this courier key and this window (what the cloud says is not enough).
pub fn admits(policy: &DeliveryPolicy, delivery: &Delivery) -> Option<(String, TimeWindow)> {
    let pinned = policy.carrier_keys(&delivery.carrier)?;
    let signed = doorstep_proto::Signed::<doorstep_proto::Shipment>::from_base64(
        delivery.shipment.as_deref()?,
    )
    .ok()?;
    let signer = signed.signer();
    let shipment = pinned
        .contains(&signer)
        .then(|| signed.verify(&signer))
        .flatten()?;
    if shipment.carrier != delivery.carrier
        || shipment.household != policy.household
        || shipment.courier.to_base64() != delivery.courier_key
        || shipment.window.not_before.0 != delivery.window.not_before
        || shipment.window.not_after.0 != delivery.window.not_after
    {
        return None;
    }
    let lock = match &delivery.lock_id {
        Some(assigned) => policy
            .locks
            .iter()
            .find(|l| l.as_str() == assigned)?
            .to_string(),
        None => policy.locks.first()?.to_string(),
    };
    let window = TimeWindow::new(
        Timestamp(delivery.window.not_before),
        Timestamp(delivery.window.not_after),
    );
    let longest_ms = i64::from(policy.max_window_minutes) * 60_000;
    if !window.is_valid()
        || window
            .not_after
            .0
            .checked_sub(window.not_before.0)
            .is_none_or(|span| span > longest_ms)
        || !policy.hours.contains_window(&window)
    {
        return None;
    }
    Some((lock, window))
}

#[cfg(test)]
pub(crate) mod tests {
    use doorstep_api::Window;
    use doorstep_proto::{DeviceId, HouseholdId, LockId, WeeklyHours};

    use super::*;

    fn policy() -> DeliveryPolicy {
        DeliveryPolicy {
            household: HouseholdId("h".into()),
            version: 1,
            locks: vec![LockId("front".into())],
            carriers: vec![doorstep_proto::PinnedCarrier {
                name: "DHL".into(),
                keys: vec![carrier_key().public_key()],
            }],
            hours: WeeklyHours {
                time_zone: "UTC".into(),
                days: (1..=7).collect(),
                from_minute: 8 * 60,
                until_minute: 18 * 60,
            },
            max_window_minutes: 120,
            device: DeviceId("d".into()),
            issued_at: Timestamp(0),
        }
    }

    fn carrier_key() -> doorstep_proto::SigningKey {
        doorstep_proto::SigningKey::from_seed(&[6; 32])
    }

    fn courier_key() -> doorstep_proto::SigningKey {
        doorstep_proto::SigningKey::from_seed(&[4; 32])
    }

    /// A delivery announced for `hours` from `from_hour` on a Monday (UTC), with
    /// its carrier's signed shipment; shared by the core's tests.
    pub(crate) fn delivery(carrier: &str, from_hour: i64, hours: i64) -> Delivery {
        // 2026-11-23 is a Monday; times in UTC.
        let day = 1_795_392_000_000;
        let window = Window {
            not_before: day + from_hour * 3_600_000,
            not_after: day + (from_hour + hours) * 3_600_000,
        };
        let shipment = doorstep_proto::Shipment {
            carrier: carrier.into(),
            household: HouseholdId("h".into()),
            tracking: "t".into(),
            courier: courier_key().public_key(),
            window: TimeWindow::new(Timestamp(window.not_before), Timestamp(window.not_after)),
            issued_at: Timestamp(day),
        };
        Delivery {
            id: "d1".into(),
            tracking_id: "t".into(),
            carrier: carrier.into(),
            state: DeliveryState::Announced,
            approved: false,
            approved_by: None,
            lock_id: None,
            window,
            eta: None,
            courier_key: courier_key().public_key().to_base64(),
            shipment: Some(doorstep_proto::Signed::sign(&shipment, &carrier_key()).to_base64()),
            rerouted_to: None,
            door: None,
            revision: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_delivery_inside_the_policy_is_admitted_at_the_policy_lock() {
        let (lock, _) = admits(&policy(), &delivery("DHL", 9, 1)).unwrap();
        assert_eq!(lock, "front");
    }

    #[test]
    fn another_carrier_a_long_window_or_night_hours_are_left_to_the_household() {
        assert!(admits(&policy(), &delivery("UPS", 9, 1)).is_none());
        assert!(admits(&policy(), &delivery("DHL", 9, 3)).is_none());
        assert!(admits(&policy(), &delivery("DHL", 20, 1)).is_none());
    }

    #[test]
    fn what_the_cloud_says_without_a_pinned_carrier_signature_is_not_approved() {
        let mut unsigned = delivery("DHL", 9, 1);
        unsigned.shipment = None;
        assert!(admits(&policy(), &unsigned).is_none());
        // The cloud swaps in its own courier key.
        let mut swapped = delivery("DHL", 9, 1);
        swapped.courier_key = doorstep_proto::SigningKey::from_seed(&[66; 32])
            .public_key()
            .to_base64();
        assert!(admits(&policy(), &swapped).is_none());
        // A shipment signed by a key the household did not pin.
        let mut forged = delivery("DHL", 9, 1);
        let shipment = doorstep_proto::Signed::<doorstep_proto::Shipment>::from_base64(
            forged.shipment.as_deref().unwrap(),
        )
        .unwrap()
        .peek()
        .unwrap();
        let attacker = doorstep_proto::SigningKey::from_seed(&[67; 32]);
        forged.shipment = Some(doorstep_proto::Signed::sign(&shipment, &attacker).to_base64());
        assert!(admits(&policy(), &forged).is_none());
        // A wider window than the carrier signed.
        let mut wider = delivery("DHL", 9, 1);
        wider.window.not_after += 60_000;
        assert!(admits(&policy(), &wider).is_none());
    }
}
