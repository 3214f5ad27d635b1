//! The result views as plain JavaScript values: a serde serializer of
//! our own, for the bundle's size. It builds what `serde-wasm-bindgen`'s
//! `Serializer::new().serialize_missing_as_null(true)` built (that crate
//! is no longer linked): structs are plain objects with their fields in
//! order, sequences and tuples arrays, `None` and `()` null, unit
//! variants their name, other variants `{name: value}`, maps `Map`s,
//! bytes a `Uint8Array` copy, and 64-bit integers numbers when they are
//! safe integers (else an error). Property names are cached as JS strings
//! in a small direct-mapped table keyed by the name's address (that crate's
//! hash map and hashing were ~3 KB of wasm), so a view does not copy its
//! field names across the boundary on every call.

use js_sys::{Array, Map, Object, Uint8Array};
use serde::ser::{self, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// A plain object whose properties are set by `obj[key] = value`.
    #[wasm_bindgen(extends = Object)]
    type Target;

    #[wasm_bindgen(method, indexing_setter)]
    fn set(this: &Target, key: &JsValue, value: JsValue);
}

/// Slots of the property-name cache (a power of two; views have ~100
/// distinct field names).
const SLOTS: usize = 256;

thread_local! {
    /// (address, length, JS string) of recently used property names.
    static NAMES: std::cell::RefCell<Vec<(usize, usize, JsValue)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `target[key] = value` (one copy for every field of every view).
#[inline(never)]
fn put(target: &Target, key: &'static str, value: JsValue) {
    target.set(&name(key), value);
}

/// `name` as a JS string, from the cache when it holds it.
fn name(name: &'static str) -> JsValue {
    let (at, len) = (name.as_ptr() as usize, name.len());
    NAMES.with(|names| {
        let Ok(mut names) = names.try_borrow_mut() else {
            return JsValue::from_str(name);
        };
        if names.is_empty() {
            names.extend((0..SLOTS).map(|_| (0, 0, JsValue::UNDEFINED)));
        }
        let Some(slot) = names.get_mut((at ^ (at >> 8)) % SLOTS) else {
            return JsValue::from_str(name);
        };
        if slot.0 != at || slot.1 != len {
            *slot = (at, len, JsValue::from_str(name));
        }
        slot.2.clone()
    })
}

/// A value that cannot be given to JavaScript (an integer outside the
/// safe range, or a `Serialize` impl's own refusal).
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ser::StdError for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type Result<T = JsValue> = std::result::Result<T, Error>;

/// Converts `value` into a JavaScript value.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result {
    value.serialize(Ser)
}

/// A number beyond `Number.MAX_SAFE_INTEGER` in magnitude.
#[inline(never)]
fn too_large(v: &dyn std::fmt::Display) -> Error {
    Error(format!("{v} can't be represented as a JavaScript number"))
}

/// 2^53 - 1.
const MAX_SAFE: u64 = (1 << 53) - 1;

#[derive(Clone, Copy)]
struct Ser;

/// An object under construction; `variant` wraps it as `{variant: object}`.
pub struct Fields {
    target: Target,
    variant: Option<&'static str>,
}

/// An array under construction; `variant` wraps it as `{variant: array}`.
pub struct Items {
    target: Array,
    variant: Option<&'static str>,
}

/// A `Map` under construction and the key of the entry being written.
pub struct Entries {
    target: Map,
    key: JsValue,
}

/// `{variant: value}`.
#[inline(never)]
fn wrap(variant: Option<&'static str>, value: JsValue) -> JsValue {
    match variant {
        None => value,
        Some(name) => {
            let out: Target = Object::new().unchecked_into();
            put(&out, name, value);
            out.into()
        }
    }
}

#[inline(never)]
fn fields(variant: Option<&'static str>) -> Fields {
    Fields {
        target: Object::new().unchecked_into(),
        variant,
    }
}

#[inline(never)]
fn items(variant: Option<&'static str>) -> Items {
    Items {
        target: Array::new(),
        variant,
    }
}

impl ser::Serializer for Ser {
    type Ok = JsValue;
    type Error = Error;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Items;
    type SerializeMap = Entries;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    fn serialize_bool(self, v: bool) -> Result {
        Ok(v.into())
    }
    fn serialize_i8(self, v: i8) -> Result {
        Ok(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        Ok(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        Ok(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        if v.unsigned_abs() <= MAX_SAFE {
            Ok(JsValue::from_f64(v as f64))
        } else {
            Err(too_large(&v))
        }
    }
    fn serialize_u8(self, v: u8) -> Result {
        Ok(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        Ok(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        Ok(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        if v <= MAX_SAFE {
            Ok(JsValue::from_f64(v as f64))
        } else {
            Err(too_large(&v))
        }
    }
    fn serialize_i128(self, v: i128) -> Result {
        Ok(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result {
        Ok(v.into())
    }
    fn serialize_f32(self, v: f32) -> Result {
        Ok(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        Ok(v.into())
    }
    fn serialize_char(self, v: char) -> Result {
        Ok(JsValue::from_str(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        Ok(Uint8Array::from(v).into())
    }
    fn serialize_none(self) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        Ok(name(variant))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        Ok(wrap(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Items> {
        Ok(items(None))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Items> {
        Ok(items(None))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Items> {
        Ok(items(None))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Items> {
        Ok(items(Some(variant)))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Entries> {
        Ok(Entries {
            target: Map::new(),
            key: JsValue::UNDEFINED,
        })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Fields> {
        Ok(fields(None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Fields> {
        Ok(fields(Some(variant)))
    }
}

impl ser::SerializeStruct for Fields {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        put(&self.target, key, value.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> Result {
        Ok(wrap(self.variant, self.target.into()))
    }
}

impl ser::SerializeStructVariant for Fields {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result {
        ser::SerializeStruct::end(self)
    }
}

impl ser::SerializeSeq for Items {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.target.push(&value.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> Result {
        Ok(wrap(self.variant, self.target.into()))
    }
}

impl ser::SerializeTuple for Items {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Items {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for Items {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for Entries {
    type Ok = JsValue;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.key = key.serialize(Ser)?;
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = std::mem::replace(&mut self.key, JsValue::UNDEFINED);
        self.target.set(&key, &value.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> Result {
        Ok(self.target.into())
    }
}
