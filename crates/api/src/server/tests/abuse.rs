//! Requests a careless or hostile client sends, over the fake backend:
//! wrong methods, bad percent escapes and bad platforms are refused as
//! moby refuses them, before the backend is called.

use super::*;

#[tokio::test]
async fn wrong_methods_are_404_page_not_found_as_moby() {
    let (fake, app) = app();
    for (method, uri) in [
        (Method::GET, "/containers/create"),
        (Method::DELETE, "/_ping"),
        (Method::PUT, "/containers/json"),
        (Method::POST, "/v1.44/containers/web/json"),
        (Method::GET, "/exec/abc/start"),
    ] {
        let (status, r, body) = send(&app, req(method.clone(), uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(header(&r, "Content-Type"), "application/json");
        assert_eq!(json_of(&body), json!({"message": "page not found"}));
    }
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn bad_percent_escapes_are_400_with_gos_message() {
    let (fake, app) = app();
    for (uri, bad) in [
        ("/containers/json?%zz=1", "%zz"),
        ("/containers/json?all=1%", "%"),
        ("/containers/web/json?size=%4", "%4"),
    ] {
        let (status, _, body) = send(&app, req(Method::GET, uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(
            json_of(&body)["message"],
            format!("invalid URL escape \"{bad}\""),
            "{uri}"
        );
    }
    // Valid escapes still decode.
    let (status, _, _) = send(&app, req(Method::GET, "/containers/web%2Dx/json?size=%31")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fake.calls(), ["inspect web-x size=true"]);
}

#[tokio::test]
async fn bad_platforms_are_400_before_create_or_pull() {
    let (fake, app) = app();
    let body = r#"{"Image":"busybox"}"#;
    for (platform, message) in [
        (
            "bogus",
            "\"bogus\": unknown operating system or architecture: invalid argument",
        ),
        (
            "linux/amd 64",
            "\"amd 64\" is an invalid component of \"linux/amd 64\": platform specifier \
             component must match \"^[A-Za-z0-9_-]+$\": invalid argument",
        ),
        (
            "linux//v7",
            "\"\" is an invalid component of \"linux//v7\": platform specifier component \
             must match \"^[A-Za-z0-9_-]+$\": invalid argument",
        ),
        (
            "a/b/c/d",
            "\"a/b/c/d\": cannot parse platform specifier: invalid argument",
        ),
    ] {
        let q = platform.replace(' ', "%20");
        let uri = format!("/containers/create?platform={q}");
        let (status, _, out) = send(&app, json_req(Method::POST, &uri, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(json_of(&out)["message"], message, "{uri}");
        let uri = format!("/images/create?fromImage=busybox&platform={q}");
        let (status, _, out) = send(&app, req(Method::POST, &uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(json_of(&out)["message"], message, "{uri}");
    }
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    for ok in ["linux/amd64", "arm64", "linux", "linux/arm/v7", "x86_64"] {
        let uri = format!("/containers/create?platform={ok}");
        let (status, _, out) = send(&app, json_req(Method::POST, &uri, body)).await;
        assert_eq!(status, StatusCode::CREATED, "{ok}: {:?}", json_of(&out));
    }
}
