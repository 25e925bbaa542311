//! `scenarios/schema.json` is generated from the model (`upgrade-harness schema`); this test
//! fails when the committed file is stale.

#[test]
fn committed_schema_is_current() {
    let generated = upgrade_harness::scenario::schema::json();
    let committed = std::fs::read_to_string("scenarios/schema.json").unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .header("scenarios/schema.json (committed)", "generated")
            .to_string();
        panic!(
            "scenarios/schema.json is stale; regenerate it with\n\n    \
             cargo run -q -- schema > scenarios/schema.json\n\n{diff}"
        );
    }
}

#[test]
fn schema_documents_the_format() {
    let schema: serde_json::Value =
        serde_json::from_str(&upgrade_harness::scenario::schema::json()).unwrap();
    // Doc comments are the reference docs: the top-level fields carry descriptions.
    let properties = schema["properties"].as_object().unwrap();
    for field in [
        "format",
        "name",
        "from",
        "to",
        "distribution",
        "topology",
        "order",
        "steps",
        "checks",
    ] {
        let description = properties[field]["description"].as_str().unwrap_or("");
        assert!(
            !description.is_empty(),
            "`{field}` has no description in the schema"
        );
    }
}

/// `module-fixtures/certify.schema.json` is generated from the manifest's model
/// (`upgrade-harness schema --certify`); this test fails when the committed file is stale.
#[test]
fn committed_certify_schema_is_current() {
    let generated = upgrade_harness::certify::manifest::schema_json();
    let committed =
        std::fs::read_to_string("module-fixtures/certify.schema.json").unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .header(
                "module-fixtures/certify.schema.json (committed)",
                "generated",
            )
            .to_string();
        panic!(
            "module-fixtures/certify.schema.json is stale; regenerate it with\n\n    \
             cargo run -q -- schema --certify > module-fixtures/certify.schema.json\n\n{diff}"
        );
    }
}
