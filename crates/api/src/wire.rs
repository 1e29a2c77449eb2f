//! Reading rules shared by the wire types.

use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A struct read only from a JSON object. serde's derived structs also accept an
/// array of their fields in order, which no schema here documents and no client
/// sends: `"detail": [null, null]` must be refused, not read as empty.
pub fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOnly<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }

    deserializer.deserialize_map(ObjectOnly(PhantomData))
}

/// A fieldless enum whose variants have names on the wire, each written once:
/// serde, ts-rs and the OpenAPI document use them, and `as_str`/`from_name`/`ALL`
/// are generated beside.
#[macro_export]
macro_rules! wire_names {
    (
        $(#[doc = $enum_doc:literal])*
        pub enum $name:ident {
            $( $(#[doc = $doc:literal])* $variant:ident = $text:tt, )*
        }
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema, ts_rs::TS,
        )]
        pub enum $name {
            $( $(#[doc = $doc])* #[serde(rename = $text)] $variant, )*
        }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// Its name on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The variant with this name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Outer {
        #[serde(deserialize_with = "super::object")]
        inner: Inner,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        a: Option<u8>,
    }

    #[test]
    fn an_object_is_read_and_an_array_refused() {
        let read: Outer = serde_json::from_str(r#"{"inner": {"a": 1}}"#).unwrap();
        assert_eq!(read.inner.a, Some(1));
        let refused = serde_json::from_str::<Outer>(r#"{"inner": [1]}"#).unwrap_err();
        assert!(
            refused.to_string().contains("expected an object"),
            "{refused}"
        );
    }
}
