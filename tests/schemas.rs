//! Keeps `schemas/*.schema.json` (the contract as documented for producers) and
//! `quality_engine::contract::decode` (the contract as enforced) in step.
//!
//! Every schema must compile offline, every example in it must be valid and decode to its
//! type, and the ways an event can be broken (a required field removed, emptied or null, a
//! value out of range) must be refused by both, with the reason and field the decoder names.

use jsonschema::{Resource, Validator};
use quality_engine::contract::{decode, EventType, RejectReason, Rejection};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const BASE: &str = "https://quality-pipeline.dev/schemas/";
const ENVELOPE: &str = "envelope.schema.json";
const SUFFIX: &str = ".schema.json";

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn load(file: &str) -> Value {
    let path = schema_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn envelope() -> Value {
    load(ENVELOPE)
}

/// The per-type schemas, by the wire type their file is named after.
fn type_schemas() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(schema_dir()).expect("schemas/ exists") {
        let name = entry.unwrap().file_name().into_string().expect("UTF-8 file name");
        if name == ENVELOPE {
            continue;
        }
        let Some(wire) = name.strip_suffix(SUFFIX) else {
            panic!("schemas/{name}: every file in schemas/ must be a <type>{SUFFIX}");
        };
        out.insert(wire.to_owned(), load(&name));
    }
    out
}

/// Compiles a schema with the envelope registered under its `$id`, so that the relative
/// `$ref: envelope.schema.json` resolves without any network, and with `format` asserted.
fn compile(schema: &Value) -> Validator {
    let env = Resource::from_contents(envelope()).expect("envelope is a resource");
    jsonschema::options()
        .should_validate_formats(true)
        .with_resource(format!("{BASE}{ENVELOPE}"), env)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema {} does not compile: {e}", schema["$id"]))
}

fn schema_errors(v: &Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

fn decoded(instance: &Value) -> Result<EventType, Rejection> {
    let bytes = serde_json::to_vec(instance).unwrap();
    decode(&bytes).map(|e| e.body.event_type())
}

fn strings<'a>(v: &'a Value, what: &str) -> Vec<&'a str> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} must be an array"))
        .iter()
        .map(|s| s.as_str().unwrap_or_else(|| panic!("{what} must hold strings")))
        .collect()
}

fn properties(schema: &Value) -> &Map<String, Value> {
    schema["properties"].as_object().unwrap_or_else(|| panic!("{}: properties must be an object", schema["$id"]))
}

/// Required fields of a type: the envelope's, then the type's own.
fn required_fields(envelope: &Value, schema: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in strings(&envelope["required"], "envelope required").into_iter().chain(strings(&schema["required"], "required")) {
        if !out.iter().any(|x| x == f) {
            out.push(f.to_owned());
        }
    }
    out
}

fn examples(wire: &str, schema: &Value) -> Vec<Map<String, Value>> {
    let list = schema["examples"].as_array().unwrap_or_else(|| panic!("{wire}: examples must be an array"));
    assert!(!list.is_empty(), "{wire}: needs at least one example");
    list.iter().map(|e| e.as_object().unwrap_or_else(|| panic!("{wire}: examples must be objects")).clone()).collect()
}

#[test]
fn schema_files_are_exactly_the_contract_types() {
    let files: BTreeSet<String> = type_schemas().into_keys().collect();
    let contract: BTreeSet<String> = EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(files, contract, "schemas/<type>{SUFFIX} files vs EventType::ALL");

    let env = envelope();
    assert_eq!(env["$id"], json!(format!("{BASE}{ENVELOPE}")));
    let listed = strings(&env["properties"]["type"]["enum"], "envelope type enum");
    let all: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(listed, all, "envelope.properties.type.enum vs EventType::ALL (in contract order)");

    for (wire, schema) in type_schemas() {
        assert_eq!(schema["$schema"], json!("https://json-schema.org/draft/2020-12/schema"), "{wire}");
        assert_eq!(schema["$id"], json!(format!("{BASE}{wire}{SUFFIX}")), "{wire}: $id");
        assert_eq!(schema["properties"]["type"]["const"], json!(wire), "{wire}: properties.type.const");
        assert_eq!(schema["allOf"], json!([{ "$ref": ENVELOPE }]), "{wire}: must extend the envelope");
    }
}

#[test]
fn every_schema_and_property_is_documented() {
    let nonempty = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let mut all = vec![(ENVELOPE.to_owned(), envelope())];
    all.extend(type_schemas());
    for (name, schema) in &all {
        assert!(nonempty(&schema["title"]), "{name}: title");
        assert!(nonempty(&schema["description"]), "{name}: description");
        for (prop, def) in properties(schema) {
            assert!(nonempty(&def["description"]), "{name}: property {prop} has no description");
        }
        for f in strings(&schema["required"], "required") {
            assert!(properties(schema).contains_key(f), "{name}: required {f} is not a documented property");
        }
    }
}

#[test]
fn schemas_compile_and_examples_are_valid_and_decode_to_their_type() {
    let env = envelope();
    assert!(!compile(&env).is_valid(&json!({})), "the envelope must not accept an empty object");
    for (wire, schema) in type_schemas() {
        let v = compile(&schema);
        let documented: BTreeSet<&str> = properties(&env).keys().chain(properties(&schema).keys()).map(String::as_str).collect();
        let mut shown = BTreeSet::new();
        for ex in examples(&wire, &schema) {
            let ex = Value::Object(ex);
            let errors = schema_errors(&v, &ex);
            assert!(errors.is_empty(), "{wire}: example {ex} is invalid: {errors:?}");
            assert_eq!(decoded(&ex), Ok(EventType::from_wire(&wire).unwrap()), "{wire}: example {ex}");

            // What the decoder keeps of the example is documented in the schema.
            let bytes = serde_json::to_vec(&ex).unwrap();
            let again: Value = serde_json::from_str(&decode(&bytes).unwrap().to_json()).unwrap();
            for key in again.as_object().unwrap().keys() {
                assert!(documented.contains(key.as_str()), "{wire}: decoder emits undocumented field {key}");
            }
            shown.extend(ex.as_object().unwrap().keys().cloned());
        }
        let shown: BTreeSet<&str> = shown.iter().map(String::as_str).collect();
        assert_eq!(shown, documented, "{wire}: the examples together should show every documented property");
    }
}

#[test]
fn removing_or_nulling_or_emptying_a_required_field_is_refused_by_both() {
    let env = envelope();
    for (wire, schema) in type_schemas() {
        let v = compile(&schema);
        for ex in examples(&wire, &schema) {
            for field in required_fields(&env, &schema) {
                let mut broken = ex.clone();
                let original = broken.remove(&field).unwrap_or_else(|| panic!("{wire}: example lacks required {field}"));
                let removed = Value::Object(broken.clone());
                assert!(!v.is_valid(&removed), "{wire}: schema accepts the example without {field}");
                let r = decoded(&removed).expect_err(&format!("{wire}: decode accepts the example without {field}"));
                assert_eq!((r.reason, r.field), (RejectReason::MissingField, Some(field.as_str())), "{wire} without {field}: {r}");

                // null counts as absent for the decoder; the schema refuses it too.
                broken.insert(field.clone(), Value::Null);
                let null = Value::Object(broken.clone());
                assert!(!v.is_valid(&null), "{wire}: schema accepts {field}: null");
                let r = decoded(&null).expect_err(&format!("{wire}: decode accepts {field}: null"));
                assert_eq!((r.reason, r.field), (RejectReason::MissingField, Some(field.as_str())), "{wire} with {field}: null: {r}");

                // Every required string (ids, timestamps, enums, type) must be non-empty.
                if original.is_string() {
                    broken.insert(field.clone(), json!(""));
                    let empty = Value::Object(broken);
                    assert!(!v.is_valid(&empty), "{wire}: schema accepts {field}: \"\"");
                    let r = decoded(&empty).expect_err(&format!("{wire}: decode accepts {field}: \"\""));
                    assert_eq!((r.reason, r.field), (RejectReason::InvalidField, Some(field.as_str())), "{wire} with {field}: \"\": {r}");
                }
            }
        }
    }
}

#[test]
fn bad_values_are_refused_by_both_with_the_decoders_reason() {
    use RejectReason::{InvalidField, OutOfRange, UnknownType};
    let cases: &[(&str, &str, Value, RejectReason)] = &[
        ("review.submitted", "rating", json!(0), OutOfRange),
        ("review.submitted", "rating", json!(6), OutOfRange),
        ("review.submitted", "rating", json!(-1), OutOfRange),
        ("review.submitted", "rating", json!(4.5), InvalidField),
        ("review.submitted", "rating", json!("5"), InvalidField),
        ("review.submitted", "channel", json!("email"), OutOfRange),
        ("review.submitted", "reasons", json!(["fast", 1]), InvalidField),
        ("nps.submitted", "score", json!(11), OutOfRange),
        ("nps.submitted", "score", json!(-1), OutOfRange),
        ("order.cancelled", "cancelled_by", json!("martians"), OutOfRange),
        ("order.cancelled", "cancelled_by", json!("Seller"), OutOfRange),
        ("order.complaint", "reason", json!("late_delivery"), OutOfRange),
        ("order.complaint", "reason", json!("WRONG_ITEM"), OutOfRange),
        ("order.complaint", "reason", json!(1), InvalidField),
        ("order.complaint", "complaint_id", json!(5501), InvalidField),
        ("inquiry.resolved", "first_contact", json!("true"), InvalidField),
        ("answer.audited", "complete", json!(1), InvalidField),
        ("order.shipped", "order_id", json!(7), InvalidField),
        ("order.shipped", "type", json!("order.teleported"), UnknownType),
        ("order.shipped", "occurred_at", json!("2026-11-16T09:30:00"), InvalidField),
        ("order.shipped", "occurred_at", json!("2026-11-16 09:30"), InvalidField),
        ("order.shipped", "occurred_at", json!("2026-11-16T09:30:00+0300"), InvalidField),
        ("order.shipped", "occurred_at", json!("2026-02-30T09:30:00Z"), InvalidField),
        ("order.shipped", "occurred_at", json!("1999-12-31T12:00:00Z"), OutOfRange),
        ("order.shipped", "occurred_at", json!("2100-01-01T00:00:00Z"), OutOfRange),
        ("order.created", "ship_by", json!("2026-11-17T18:00:00"), InvalidField),
    ];
    let schemas = type_schemas();
    for (wire, field, value, reason) in cases {
        let schema = &schemas[*wire];
        let mut broken = examples(wire, schema).swap_remove(0);
        broken.insert((*field).to_owned(), value.clone());
        let broken = Value::Object(broken);
        assert!(!compile(schema).is_valid(&broken), "{wire}: schema accepts {field}: {value}");
        let r = decoded(&broken).expect_err(&format!("{wire}: decode accepts {field}: {value}"));
        assert_eq!((r.reason, r.field), (*reason, Some(*field)), "{wire} with {field}: {value}: {r}");
    }
}

#[test]
fn unknown_properties_are_allowed_by_both() {
    for (wire, schema) in type_schemas() {
        let mut ex = examples(&wire, &schema).swap_remove(0);
        ex.insert("x_producer_version".to_owned(), json!({ "build": 42 }));
        let ex = Value::Object(ex);
        assert!(compile(&schema).is_valid(&ex), "{wire}: schema refuses an unknown property");
        assert!(decoded(&ex).is_ok(), "{wire}: decode refuses an unknown property");
    }
}
