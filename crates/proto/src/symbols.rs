//! Secrets a person writes down or types (an invitation code, a recovery key): bytes
//! as symbols of [`FINGERPRINT_ALPHABET`] — A–Z without I and O, and 2–9, so nothing
//! reads as another — in groups of four.

use crate::keys::FINGERPRINT_ALPHABET;

/// Why typed text is not the symbols expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolError {
    /// This many symbols once dashes and spaces are dropped, not the number expected.
    Length(usize),
    /// A character that is not one of the symbols.
    Symbol(char),
}

fn encoding() -> data_encoding::Encoding {
    let mut spec = data_encoding::Specification::new();
    spec.symbols
        .push_str(std::str::from_utf8(FINGERPRINT_ALPHABET).unwrap_or_default());
    spec.encoding().unwrap_or(data_encoding::BASE32_NOPAD)
}

/// `bytes` as grouped symbols (`ABCD-EFGH-…`); a multiple of 5 bytes writes whole
/// symbols.
pub fn write_symbols(bytes: &[u8]) -> String {
    group(&encoding().encode(bytes))
}

/// Reads `N` bytes as a person typed or pasted them: case, dashes and spaces aside.
/// The letters people confuse with digits (`O`, `I`, `0`, `1`) are not symbols, so
/// they are refused by name rather than guessed.
pub fn read_symbols<const N: usize>(text: &str) -> Result<[u8; N], SymbolError> {
    let symbols = normalize(text);
    if let Some(bad) = symbols
        .chars()
        .find(|c| !c.is_ascii() || !FINGERPRINT_ALPHABET.contains(&(*c as u8)))
    {
        return Err(SymbolError::Symbol(bad));
    }
    let length = SymbolError::Length(symbols.chars().count());
    if symbols.len() != N * 8 / 5 {
        return Err(length);
    }
    encoding()
        .decode(symbols.as_bytes())
        .ok()
        .and_then(|decoded| decoded.as_slice().try_into().ok())
        .ok_or(length)
}

/// `text` without dashes and spaces, in capitals.
pub(crate) fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) fn group(symbols: &str) -> String {
    let mut out = String::with_capacity(symbols.len() + symbols.len() / 4);
    for (index, symbol) in symbols.chars().enumerate() {
        if index > 0 && index % 4 == 0 {
            out.push('-');
        }
        out.push(symbol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_read_back_as_typed_and_mistakes_are_named() {
        let bytes = [0xA5u8; 10];
        let text = write_symbols(&bytes);
        assert_eq!(text.len(), 16 + 3, "{text}");
        let typed = format!(" {} ", text.to_lowercase().replace('-', " "));
        assert_eq!(read_symbols::<10>(&typed), Ok(bytes));
        assert_eq!(read_symbols::<10>("ABCD"), Err(SymbolError::Length(4)));
        assert_eq!(
            read_symbols::<10>("ABCD-EFGH-JKLM-NPQ0"),
            Err(SymbolError::Symbol('0'))
        );
        assert_eq!(read_symbols::<10>("ÄBC"), Err(SymbolError::Symbol('Ä')));
    }
}
