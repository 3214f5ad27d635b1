//! The bindings' serializer (`ferrisk_wasm::js::to_value`): every shape of
//! serde's data model becomes the JavaScript value the bindings document.
//! Oracle: the values are built here with js-sys and compared by
//! `Object.is` per leaf, `JSON.stringify` for plain objects and arrays
//! (field order included) and `instanceof` for the special classes.

use std::collections::BTreeMap;

use ferrisk_wasm::js::to_value;
use js_sys::{Array, Map, Object, Reflect, Uint8Array, JSON};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn json(v: &JsValue) -> String {
    JSON::stringify(v).unwrap().as_string().unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

#[derive(Serialize)]
enum Shape {
    Plain,
    Wrapped(u8),
    Pair(u8, bool),
    Named { x: i32 },
}

#[derive(Serialize)]
struct Newtype(f64);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct View<'a> {
    name: &'a str,
    missing: Option<f32>,
    present: Option<u32>,
    unit: (),
    list: Vec<i16>,
    pair: (u8, &'a str),
    shapes: Vec<Shape>,
    wrapped: Newtype,
    letter: char,
}

#[wasm_bindgen_test]
fn structs_are_plain_objects_with_their_fields_in_order() {
    let v = to_value(&View {
        name: "a \"quoted\" é",
        missing: None,
        present: Some(7),
        unit: (),
        list: vec![-3, 0, 3],
        pair: (1, "b"),
        shapes: vec![
            Shape::Plain,
            Shape::Wrapped(2),
            Shape::Pair(3, true),
            Shape::Named { x: -4 },
        ],
        wrapped: Newtype(0.5),
        letter: 'z',
    })
    .unwrap();
    assert_eq!(
        Object::get_prototype_of(&v),
        Object::get_prototype_of(&Object::new()),
        "a plain object"
    );
    assert_eq!(
        json(&v),
        r#"{"name":"a \"quoted\" é","missing":null,"present":7,"unit":null,"list":[-3,0,3],"pair":[1,"b"],"shapes":["Plain",{"Wrapped":2},{"Pair":[3,true]},{"Named":{"x":-4}}],"wrapped":0.5,"letter":"z"}"#
    );
    // `null`, not `undefined`: the property exists.
    assert!(get(&v, "missing").is_null());
    assert!(Array::is_array(&get(&v, "list")));
}

#[wasm_bindgen_test]
fn numbers_keep_their_value_and_non_finite_floats_stay_numbers() {
    for (x, want) in [
        (f32::NAN, f64::NAN),
        (f32::INFINITY, f64::INFINITY),
        (-0.0f32, -0.0f64),
        (0.1f32, 0.1f32 as f64),
    ] {
        let v = to_value(&x).unwrap();
        assert!(Object::is(&v, &JsValue::from_f64(want)), "{x}");
    }
    let max = (1u64 << 53) - 1;
    assert!(Object::is(
        &to_value(&max).unwrap(),
        &JsValue::from_f64(max as f64)
    ));
    assert!(Object::is(
        &to_value(&-(max as i64)).unwrap(),
        &JsValue::from_f64(-(max as f64))
    ));
    // Beyond Number.MAX_SAFE_INTEGER a number would silently change: an
    // error instead.
    for e in [to_value(&(max + 1)), to_value(&(-(max as i64) - 1))] {
        let e = e.unwrap_err().to_string();
        assert!(e.contains("can't be represented"), "{e}");
    }
}

#[wasm_bindgen_test]
fn maps_are_maps_and_bytes_are_copied_into_a_uint8array() {
    let m: BTreeMap<&str, u8> = [("b", 2), ("a", 1)].into_iter().collect();
    let v = to_value(&m).unwrap();
    let m = v.dyn_into::<Map>().expect("a Map");
    assert_eq!(m.size(), 2);
    assert!(Object::is(
        &m.get(&JsValue::from_str("a")),
        &JsValue::from_f64(1.0)
    ));
    let keys: Vec<String> = Array::from(&m.keys().into())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b"], "in serialisation order");

    let v = to_value(&Bytes(&[0, 255, 7])).unwrap();
    let a = v.dyn_into::<Uint8Array>().expect("a Uint8Array");
    assert_eq!(a.to_vec(), [0, 255, 7]);
}

/// A value serde serialises with `serialize_bytes`.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[wasm_bindgen_test]
fn a_field_name_used_by_two_views_names_each_correctly() {
    // The name cache is keyed by the name's address: different names that
    // may share a slot, and the same name in another struct, stay right.
    #[derive(Serialize)]
    struct A {
        probability: f32,
        threshold: f32,
    }
    #[derive(Serialize)]
    struct B {
        threshold: u8,
        probability: u8,
    }
    for _ in 0..3 {
        let a = to_value(&A {
            probability: 0.25,
            threshold: 0.5,
        })
        .unwrap();
        let b = to_value(&B {
            threshold: 1,
            probability: 2,
        })
        .unwrap();
        assert_eq!(json(&a), r#"{"probability":0.25,"threshold":0.5}"#);
        assert_eq!(json(&b), r#"{"threshold":1,"probability":2}"#);
    }
}
