//! What the cloud accepts in each request field, written into the OpenAPI
//! document so that a client, or a fuzzer driven by the schema, knows it: the
//! lengths, formats, patterns and ranges that `validate` enforces, with the same
//! numbers (its constants). A schema-valid request is then refused only for what
//! a schema cannot say: a signature, a credential, or a rule across fields.

use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::validate;

/// One field's constraint.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// An e-mail address as `validate::email` reads it.
    Email,
    /// An IANA time zone this build knows: the whole list.
    TimeZone,
    /// `validate::text` of at most this many characters.
    Text(usize),
    /// Base64url without padding of `min..=max` bytes, canonical trailing bits.
    Bytes(usize, usize),
    /// An Ed25519 public key (32 bytes, base64url); a random 32 bytes is not
    /// always a point on the curve, so the custom format names it.
    PublicKey,
    /// `validate::tracking_id`.
    TrackingId,
    /// Exactly this many ASCII digits (an authenticator code).
    Digits(usize),
    /// An integer in `min..=max`.
    Range(i64, i64),
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

/// (schema, property, rule) for the request bodies.
const FIELDS: &[(&str, &str, Rule)] = &[
    ("CreateAccount", "email", Rule::Email),
    (
        "CreateAccount",
        "auth_key",
        Rule::Bytes(validate::AUTH_KEY_BYTES.0, validate::AUTH_KEY_BYTES.1),
    ),
    (
        "CreateAccount",
        "kdf_salt",
        Rule::Bytes(validate::KDF_SALT_BYTES.0, validate::KDF_SALT_BYTES.1),
    ),
    (
        "CreateAccount",
        "wrapped_household_key",
        Rule::Bytes(validate::WRAPPED_KEY_BYTES.0, validate::WRAPPED_KEY_BYTES.1),
    ),
    ("CreateAccount", "household_public_key", Rule::PublicKey),
    ("CreateAccount", "time_zone", Rule::TimeZone),
    ("NewDevice", "name", Rule::Text(validate::NAME_MAX)),
    ("NewDevice", "public_key", Rule::PublicKey),
    ("SignIn", "email", Rule::Email),
    (
        "SignIn",
        "auth_key",
        Rule::Bytes(validate::AUTH_KEY_BYTES.0, validate::AUTH_KEY_BYTES.1),
    ),
    ("SignIn", "totp", Rule::Digits(6)),
    (
        "Confirm",
        "auth_key",
        Rule::Bytes(validate::AUTH_KEY_BYTES.0, validate::AUTH_KEY_BYTES.1),
    ),
    ("Confirm", "totp", Rule::Digits(6)),
    ("TotpCode", "code", Rule::Digits(6)),
    ("HouseholdChange", "time_zone", Rule::TimeZone),
    (
        "HouseholdChange",
        "lead_time_minutes",
        Rule::Range(validate::LEAD_TIME_MINUTES.0, validate::LEAD_TIME_MINUTES.1),
    ),
    ("NewAddress", "label", Rule::Text(validate::LABEL_MAX)),
    ("NewAddress", "address", Rule::Text(validate::ADDRESS_MAX)),
    ("NewPairingCode", "name", Rule::Text(validate::NAME_MAX)),
    ("NewPairingCode", "kind", Rule::OneOf(&["door", "garage"])),
    ("Pair", "lock_key", Rule::PublicKey),
    ("Pair", "camera_key", Rule::PublicKey),
    ("Announce", "tracking_id", Rule::TrackingId),
    ("Announce", "courier_key", Rule::PublicKey),
    ("NewGuestInvitation", "name", Rule::Text(validate::NAME_MAX)),
    (
        "NewGuestInvitation",
        "sealed",
        Rule::Bytes(1, crate::guest_invitations::SEALED_MAX),
    ),
    ("RedeemInvitation", "guest_key", Rule::PublicKey),
    ("RedeemInvitation", "proof", Rule::Bytes(32, 32)),
];

/// Query and path parameters, by name.
const PARAMETERS: &[(&str, Rule)] = &[
    ("email", Rule::Email),
    ("tracking_id", Rule::TrackingId),
    ("after", Rule::Range(0, doorstep_proto::bounded::MAX_COUNT)),
    ("at", Rule::Range(0, doorstep_proto::Timestamp::LATEST.0)),
    ("from", Rule::Range(0, doorstep_proto::Timestamp::LATEST.0)),
    (
        "max",
        Rule::Range(1, doorstep_api::MAX_FRAMES_PER_BATCH as i64),
    ),
];

/// `validate::text`: not only white space, no control characters.
const TEXT_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
const B64: &str = "[A-Za-z0-9_-]";
/// A last character whose unused low bits are zero, after two or three characters.
const TAIL_OF_TWO: &str = "[AQgw]";
const TAIL_OF_THREE: &str = "[AEIMQUYcgkosw048]";

/// A pattern matching exactly the canonical base64url (no padding) of
/// `min..=max` bytes: whole groups of four characters for three bytes each,
/// then two characters for one more byte or three for two more.
pub(crate) fn base64url_pattern(min: usize, max: usize) -> String {
    let mut alternatives = Vec::new();
    for remainder in 0..3 {
        // Byte counts n in min..=max with n % 3 == remainder, as n = 3q + remainder.
        let lowest = (min..=max).find(|n| n % 3 == remainder);
        let highest = (min..=max).rev().find(|n| n % 3 == remainder);
        let (Some(lowest), Some(highest)) = (lowest, highest) else {
            continue;
        };
        let (q_low, q_high) = (lowest / 3, highest / 3);
        let tail = match remainder {
            0 => String::new(),
            1 => format!("{B64}{TAIL_OF_TWO}"),
            _ => format!("{B64}{{2}}{TAIL_OF_THREE}"),
        };
        alternatives.push(format!("(?:{B64}{{4}}){{{q_low},{q_high}}}{tail}"));
    }
    format!("^(?:{})$", alternatives.join("|"))
}

fn time_zones() -> Vec<serde_json::Value> {
    doorstep_proto::time_zone_names()
        .map(|name| serde_json::Value::String(name.to_owned()))
        .collect()
}

fn apply_rule(rule: Rule, object: &mut utoipa::openapi::schema::Object) {
    let nullable =
        matches!(&object.schema_type, SchemaType::Array(types) if types.contains(&Type::Null));
    let values = |mut values: Vec<serde_json::Value>| {
        if nullable {
            values.push(serde_json::Value::Null);
        }
        Some(values)
    };
    match rule {
        Rule::Email => {
            object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Email));
            object.max_length = Some(validate::EMAIL_MAX);
        }
        Rule::TimeZone => object.enum_values = values(time_zones()),
        Rule::Text(max) => {
            object.min_length = Some(1);
            object.max_length = Some(max);
            object.pattern = Some(TEXT_PATTERN.to_owned());
        }
        Rule::Bytes(min, max) => object.pattern = Some(base64url_pattern(min, max)),
        Rule::PublicKey => {
            object.format = Some(SchemaFormat::Custom("ed25519-public-key".into()));
            object.pattern = Some(base64url_pattern(32, 32));
        }
        Rule::TrackingId => object.pattern = Some(r"^[A-Za-z0-9._-]{1,64}$".into()),
        Rule::Digits(n) => object.pattern = Some(format!("^[0-9]{{{n}}}$")),
        Rule::Range(min, max) => {
            object.minimum = Some(utoipa::Number::Int(isize::try_from(min).unwrap_or(0)));
            object.maximum = Some(utoipa::Number::Int(
                isize::try_from(max).unwrap_or(isize::MAX),
            ));
        }
        Rule::OneOf(names) => {
            object.enum_values = values(names.iter().map(|n| serde_json::json!(n)).collect());
        }
    }
}

/// Writes every rule into `openapi`.
pub(crate) fn apply(openapi: &mut OpenApi) {
    if let Some(components) = openapi.components.as_mut() {
        for (schema, property, rule) in FIELDS {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
                tracing::warn!(schema, "a schema rule names a schema the document lacks");
                continue;
            };
            match object.properties.get_mut(*property) {
                Some(RefOr::T(Schema::Object(field))) => apply_rule(*rule, field),
                _ => tracing::warn!(
                    schema,
                    property,
                    "a schema rule names a property the schema lacks"
                ),
            }
        }
    }
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                let Some((_, rule)) = PARAMETERS.iter().find(|(name, _)| *name == parameter.name)
                else {
                    continue;
                };
                if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() {
                    apply_rule(*rule, object);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn the_base64url_pattern_matches_exactly_what_the_cloud_decodes_to_that_many_bytes() {
        for (min, max) in [(32, 64), (16, 64), (16, 4096), (32, 32), (1, 2)] {
            let pattern = regex::Regex::new(&base64url_pattern(min, max)).unwrap();
            for n in 0..=(max + 4).min(200) {
                for fill in [0u8, 0xff, 0x5a] {
                    let text = URL_SAFE_NO_PAD.encode(vec![fill; n]);
                    assert_eq!(
                        pattern.is_match(&text),
                        (min..=max).contains(&n),
                        "{n} bytes for {min}..={max}: {text}"
                    );
                }
            }
            // Non-canonical trailing bits, and lengths no byte count has, are refused as the decoder refuses them.
            for text in ["AB", "ABCDE", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"] {
                assert_eq!(
                    pattern.is_match(text),
                    URL_SAFE_NO_PAD
                        .decode(text)
                        .is_ok_and(|b| (min..=max).contains(&b.len())),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn the_text_pattern_accepts_what_validate_text_accepts() {
        let pattern = regex::Regex::new(TEXT_PATTERN).unwrap();
        for text in [
            "Front door",
            " x ",
            "Küche",
            "a\u{200b}b",
            "",
            "   ",
            "a\u{0}b",
            "tab\tin",
            "\u{85}",
        ] {
            assert_eq!(
                pattern.is_match(text),
                validate::text("f", text, 100).is_ok(),
                "{text:?}"
            );
        }
    }
}
