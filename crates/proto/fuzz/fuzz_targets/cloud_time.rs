#![no_main]
//! Decodes arbitrary bytes (binary and base64 text) as a signed CloudTime: must never panic,
//! and whatever decodes must re-encode to the same bytes.
use doorstep_proto::{CloudTime, Signed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = Signed::<CloudTime>::from_bytes(data) {
        assert_eq!(signed.to_bytes(), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Signed::<CloudTime>::from_base64(text);
    }
});
