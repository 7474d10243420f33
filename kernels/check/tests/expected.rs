//! `hostfns/expected.json` names exactly the cases the `hostfns` kernel
//! records (the `CASES` list that the kernel's `Case` enum is built from).

include!("../../hostfns/src/cases.rs");

fn expected() -> serde_json::Map<String, serde_json::Value> {
    let path = check::kernels_dir().join("hostfns/expected.json");
    let text = std::fs::read_to_string(&path).expect("expected.json");
    match serde_json::from_str(&text).expect("valid JSON") {
        serde_json::Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

#[test]
fn expected_json_names_exactly_the_recorded_cases() {
    let json = expected();
    let mut names: Vec<&str> = CASES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "duplicate case names");
    let mut keys: Vec<&str> = json.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, names);
}

#[test]
fn expected_codes_are_integers() {
    for (name, value) in expected() {
        assert!(value.as_i64().is_some(), "{name}: {value}");
    }
}

#[test]
fn case_names_are_valid_durable_key_steps() {
    for name in CASES {
        assert!(name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{name}");
        assert!("/hostfns/".len() + name.len() <= 240);
    }
}
