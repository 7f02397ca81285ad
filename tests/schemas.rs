//! Keeps `schemas/*.schema.json` (the contract as documented for producers) and
//! `quality_engine::contract::decode` (the contract as enforced) in step.
//!
//! Every schema must compile offline, every example in it must be valid and decode to its
//! type, and the ways an event can be broken (a required field removed, emptied or null, a
//! value out of range, a survey answer amiss, no or several ids where exactly one belongs)
//! must be refused by both, with the reason and field the decoder names. Rules that span
//! fields, which JSON Schema cannot express, are enforced by the decoder and documented in
//! the schema; every reason code the pipeline can give is documented somewhere in schemas/.

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
        ("nps.submitted", "request_id", json!(""), InvalidField),
        ("nps.submitted", "request_id", json!(30011), InvalidField),
        ("critic.followed_up", "followed_up_by", json!(""), InvalidField),
        ("critic.followed_up", "followed_up_by", json!(["manager-9"]), InvalidField),
        ("request.created", "due_by", json!("2026-11-17T09:30:00"), InvalidField),
        ("request.created", "due_by", json!("2100-01-01T00:00:00Z"), OutOfRange),
        ("request.created", "category", json!(7), InvalidField),
        ("request.created", "department_id", json!(12), InvalidField),
        ("request.reassigned", "performer_id", json!(78), InvalidField),
        ("request.closed", "closed_in", json!("phone"), OutOfRange),
        ("request.closed", "closed_in", json!("App"), OutOfRange),
        ("request.closed", "closed_in", json!(true), InvalidField),
        ("request.reopened", "reason", json!(["leaks"]), InvalidField),
        ("survey.answered", "channel", json!("desk"), OutOfRange),
        ("survey.answered", "comment", json!(5), InvalidField),
        ("survey.answered", "answers", json!([]), OutOfRange),
        ("survey.answered", "answers", json!("overall"), InvalidField),
        ("survey.answered", "answers", json!({ "question_id": "overall", "score": 5 }), InvalidField),
        ("survey.answered", "answers", json!([["overall", 5]]), InvalidField),
        ("survey.answered", "answers", json!([5]), InvalidField),
        ("survey.answered", "answers", json!([null]), InvalidField),
        ("feedback.excluded", "reason", json!(["dispute"]), InvalidField),
        ("feedback.excluded", "survey_id", json!(""), InvalidField),
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

/// `n` survey answers: `overall` scoring 5, then `n - 1` to other questions.
fn answers(n: usize) -> Value {
    let mut list = vec![json!({ "question_id": "overall", "score": 5 })];
    list.extend((1..n).map(|i| json!({ "question_id": format!("q{i}"), "score": 1 + i % 5 })));
    Value::Array(list)
}

#[test]
fn broken_survey_answers_are_refused_by_both_with_the_decoders_reason_and_field() {
    use RejectReason::{InvalidField, MissingField, OutOfRange};
    let overall = |rest: Value| {
        let mut list = vec![json!({ "question_id": "overall", "score": 4 })];
        list.extend(rest.as_array().unwrap().iter().cloned());
        Value::Array(list)
    };
    let cases: &[(Value, RejectReason, &str)] = &[
        (answers(6), OutOfRange, "answers"),
        (answers(9), OutOfRange, "answers"),
        (json!([{ "score": 5 }]), MissingField, "answers.question_id"),
        (json!([{ "question_id": null, "score": 5 }]), MissingField, "answers.question_id"),
        (overall(json!([{ "question_id": "", "score": 5 }])), InvalidField, "answers.question_id"),
        (overall(json!([{ "question_id": 3, "score": 5 }])), InvalidField, "answers.question_id"),
        (json!([{ "question_id": "overall" }]), MissingField, "answers.score"),
        (json!([{ "question_id": "overall", "score": null }]), MissingField, "answers.score"),
        (json!([{ "question_id": "overall", "score": 0 }]), OutOfRange, "answers.score"),
        (json!([{ "question_id": "overall", "score": 6 }]), OutOfRange, "answers.score"),
        (overall(json!([{ "question_id": "speed", "score": -2 }])), OutOfRange, "answers.score"),
        (overall(json!([{ "question_id": "speed", "score": 4.5 }])), InvalidField, "answers.score"),
        (overall(json!([{ "question_id": "speed", "score": "4" }])), InvalidField, "answers.score"),
        (json!([{ "question_id": "speed", "score": 5 }]), MissingField, "answers.overall"),
        (json!([{ "question_id": "Overall", "score": 5 }, { "question_id": "speed", "score": 4 }]), MissingField, "answers.overall"),
    ];
    let schemas = type_schemas();
    let schema = &schemas["survey.answered"];
    let v = compile(schema);
    for (value, reason, field) in cases {
        let mut broken = examples("survey.answered", schema).swap_remove(0);
        broken.insert("answers".to_owned(), value.clone());
        let broken = Value::Object(broken);
        assert!(!v.is_valid(&broken), "schema accepts answers: {value}");
        let r = decoded(&broken).expect_err(&format!("decode accepts answers: {value}"));
        assert_eq!((r.reason, r.field), (*reason, Some(*field)), "answers: {value}: {r}");
    }
    for n in 1..=5 {
        let mut ok = examples("survey.answered", schema).swap_remove(0);
        ok.insert("answers".to_owned(), answers(n));
        let ok = Value::Object(ok);
        assert!(v.is_valid(&ok), "schema refuses {n} answers");
        assert_eq!(decoded(&ok), Ok(EventType::SurveyAnswered), "{n} answers");
    }
}

#[test]
fn naming_no_item_or_several_is_refused_by_both_with_field_review_id() {
    let ids = |wire: &str| -> &'static [&'static str] {
        match wire {
            "critic.followed_up" => &["review_id", "response_id", "survey_id"],
            "feedback.excluded" => &["review_id", "survey_id", "response_id"],
            _ => unreachable!(),
        }
    };
    let schemas = type_schemas();
    for wire in ["critic.followed_up", "feedback.excluded"] {
        let schema = &schemas[wire];
        let v = compile(schema);
        let documented = properties(schema);
        for id in ids(wire) {
            assert!(documented.contains_key(*id), "{wire}: {id} is documented");
        }
        let mut none = examples(wire, schema).swap_remove(0);
        for id in ids(wire) {
            none.remove(*id);
        }
        let refused = |instance: &Map<String, Value>, reason: RejectReason, what: &str| {
            let instance = Value::Object(instance.clone());
            assert!(!v.is_valid(&instance), "{wire}: schema accepts {what}");
            let r = decoded(&instance).expect_err(&format!("{wire}: decode accepts {what}"));
            assert_eq!((r.reason, r.field), (reason, Some("review_id")), "{wire} with {what}: {r}");
            for id in ids(wire) {
                assert!(r.detail.contains(&format!("`{id}`")), "{wire}: the detail names {id}: {}", r.detail);
            }
        };
        refused(&none, RejectReason::MissingField, "no id");
        for (i, a) in ids(wire).iter().enumerate() {
            let mut one = none.clone();
            one.insert((*a).to_owned(), json!("item-1"));
            let instance = Value::Object(one.clone());
            assert!(v.is_valid(&instance), "{wire}: schema refuses {a} alone");
            assert_eq!(decoded(&instance), Ok(EventType::from_wire(wire).unwrap()), "{wire}: {a} alone");
            for b in &ids(wire)[i + 1..] {
                let mut two = one.clone();
                two.insert((*b).to_owned(), json!("item-2"));
                refused(&two, RejectReason::InvalidField, &format!("{a} and {b}"));
            }
        }
        let mut all = none.clone();
        for id in ids(wire) {
            all.insert((*id).to_owned(), json!("item"));
        }
        refused(&all, RejectReason::InvalidField, "every id");
    }
}

/// Rules across fields that JSON Schema cannot state: the schema accepts the event, the decoder
/// refuses it, and the property's description (for `answers.<member>`, that of `answers`)
/// documents the reason code.
#[test]
fn rules_across_fields_are_enforced_by_the_decoder_and_documented_in_the_schema() {
    use RejectReason::{InvalidField, NegativeDuration};
    let cases: &[(&str, &str, Value, RejectReason, &str)] = &[
        ("order.created", "ship_by", json!("2026-11-16T09:29:59+03:00"), NegativeDuration, "ship_by"),
        ("request.created", "due_by", json!("2026-11-16T06:29:59Z"), NegativeDuration, "due_by"),
        ("request.created", "department_id", json!("dept-13"), InvalidField, "department_id"),
        ("request.created", "seller_id", json!("dept-13"), InvalidField, "department_id"),
        (
            "survey.answered",
            "answers",
            json!([{ "question_id": "overall", "score": 4 }, { "question_id": "speed", "score": 2 }, { "question_id": "speed", "score": 5 }]),
            InvalidField,
            "answers.question_id",
        ),
    ];
    let schemas = type_schemas();
    for (wire, key, value, reason, field) in cases {
        let schema = &schemas[*wire];
        let mut broken = examples(wire, schema).swap_remove(0);
        broken.insert((*key).to_owned(), value.clone());
        let broken = Value::Object(broken);
        assert!(compile(schema).is_valid(&broken), "{wire}: the schema now refuses {key}: {value}; move the case to the tests of both");
        let r = decoded(&broken).expect_err(&format!("{wire}: decode accepts {key}: {value}"));
        assert_eq!((r.reason, r.field), (*reason, Some(*field)), "{wire} with {key}: {value}: {r}");
        let documented = field.split('.').next().unwrap();
        let description = properties(schema)[documented]["description"].as_str().unwrap();
        assert!(description.contains(reason.as_str()), "{wire}: the description of {documented} should name {reason}: {description}");
    }
    // The department rule explains itself: the key, and what to do.
    let schema = &schemas["request.created"];
    let mut other = examples("request.created", schema).swap_remove(0);
    other.insert("department_id".to_owned(), json!("dept-13"));
    let r = decoded(&Value::Object(other)).unwrap_err();
    assert!(r.detail.contains("keyed by the department") && r.detail.contains("seller_id"), "{}", r.detail);
}

#[test]
fn service_examples_are_keyed_by_their_department() {
    let schemas = type_schemas();
    for t in EventType::ALL.into_iter().filter(|t| t.is_service()) {
        for ex in examples(t.as_str(), &schemas[t.as_str()]) {
            if let Some(department) = ex.get("department_id") {
                assert_eq!(Some(department), ex.get("seller_id"), "{}: the key is the department", t.as_str());
            }
            assert!(ex["seller_id"].as_str().unwrap().starts_with("dept-"), "{}: examples key service events by a department", t.as_str());
        }
    }
}

#[test]
fn every_reason_code_is_documented() {
    let mut text = String::new();
    for entry in std::fs::read_dir(schema_dir()).expect("schemas/ exists") {
        text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let envelope = envelope()["description"].as_str().unwrap().to_owned();
    for reason in RejectReason::ALL {
        assert!(envelope.contains(reason.as_str()), "the envelope's description should list the reason code {reason}");
        assert!(text.contains(reason.as_str()), "schemas/ should document the reason code {reason}");
    }
    let schemas = type_schemas();
    for reason in [RejectReason::RequestWithoutCreation, RejectReason::WrongProfile] {
        for t in EventType::ALL.into_iter().filter(|t| t.is_service()) {
            let schema = &schemas[t.as_str()];
            let description = schema["description"].as_str().unwrap();
            assert!(description.contains(reason.as_str()), "{}: the description should say when it is {reason}", t.as_str());
        }
    }
}
