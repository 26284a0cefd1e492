//! The OpenAPI document the router builds: the answers every route documents, unique
//! operation ids, and who may call what.

use serde_json::Value;

fn document() -> Value {
    let (_, doc) = crate::http::router::api();
    serde_json::to_value(doc).unwrap()
}

fn each_operation(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

#[test]
fn every_operation_documents_the_answers_any_route_can_give() {
    let doc = document();
    for (method, path, operation) in each_operation(&doc) {
        for status in ["500", "503"] {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} does not document {status}"
            );
        }
        assert!(
            operation["responses"]["503"]["headers"]["Retry-After"].is_object(),
            "{method} {path}: 503 without Retry-After"
        );
    }
    let job = &doc["paths"]["/api/v1/jobs/{id}"]["get"]["responses"];
    assert!(job["400"].is_object() && job["421"].is_object() && job["426"].is_object());
    let health = &doc["paths"]["/api/v1/health"]["get"]["responses"];
    assert!(health["426"].is_null() && health["421"].is_null());
    assert_eq!(
        doc["paths"]["/api/v1/jobs/{id}"]["get"]["responses"]["426"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/ClientMismatch"
    );
    assert!(doc["components"]["schemas"]["ClientMismatch"].is_object());
}

#[test]
fn an_answer_documented_by_the_route_keeps_its_causes_and_gains_the_common_ones() {
    let doc = document();
    let login = &doc["paths"]["/api/v1/session"]["post"]["responses"];
    let busy = login["503"]["description"].as_str().unwrap();
    assert!(
        busy.contains("`busy`") && busy.contains("`server_restarting`"),
        "{busy}"
    );
    let media = login["415"]["description"].as_str().unwrap();
    assert_eq!(
        media.matches("`unsupported_media_type`").count(),
        1,
        "{media}"
    );
    assert_eq!(
        super::codes("x (`a_b`), `[http] c`, `d`").collect::<Vec<_>>(),
        ["a_b", "d"]
    );
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = std::collections::BTreeSet::new();
    for (method, path, operation) in each_operation(&doc) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !id.is_empty() && seen.insert(id.clone()),
            "{method} {path}: operationId `{id}` is missing or used twice"
        );
    }
}

#[test]
fn only_health_and_login_need_no_session_and_state_changes_need_the_client_header() {
    let doc = document();
    for (method, path, operation) in each_operation(&doc) {
        let public = super::PUBLIC.contains(&(method.as_str(), path.as_str()));
        assert_eq!(
            operation["security"].is_null(),
            public,
            "{method} {path}: security"
        );
        if !public {
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} needs a session but does not document 401"
            );
        }
        let header = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["in"] == "header" && p["name"] == "X-SMS-Client");
        assert_eq!(header, method != "get", "{method} {path}: X-SMS-Client");
        if method != "get" {
            assert!(
                operation["responses"]["403"].is_object(),
                "{method} {path} needs X-SMS-Client but does not document 403"
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["session"]["name"],
        "sms_session"
    );
}
