//! The update and disk-usage routes over the fake backend (which serves
//! neither update nor df, so the trait defaults answer): routing, body
//! checks before the backend is called, and the 501 answers with their
//! messages.

use super::*;

#[tokio::test]
async fn update_checks_the_body_before_the_backend() {
    let (fake, app) = app();
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/containers/web/update",
            r#"{"Memory":"lots"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json_of(&body)["message"].as_str().unwrap().to_string();
    assert!(message.contains("Memory"), "{message}");
    // A well-formed body reaches the backend, whose default is a 501.
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/containers/web/update",
            r#"{"Memory":67108864,"RestartPolicy":{"Name":"always"}}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        json_of(&body)["message"],
        "container update is not implemented by this backend"
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn system_df_checks_the_types() {
    let (_, app) = app();
    let (status, _, body) = send(&app, req(Method::GET, "/system/df?type=disk")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json_of(&body)["message"], "unknown object type: disk");
    let (status, _, _) = send(&app, req(Method::GET, "/system/df?type=image")).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
}
