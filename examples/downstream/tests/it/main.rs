//! The downstream walk against a local stand-in that answers each operation with the spec's
//! examples and checks the credentials.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
const MESSAGE: &str = "01GMXE90AEV7H3J4DPBDKB1R79";

fn message() -> serde_json::Value {
    json!({
        "text": "Hello, I would like to upgrade my internet plan to GOLD.",
        "sender": {"role": "customer", "externalId": "customer-0001"},
        "messageId": MESSAGE,
        "createdTimestamp": "2021-11-23T12:13:16.853Z",
        "clientTimestamp": "2021-11-23T12:13:14.555Z"
    })
}

#[tokio::test]
async fn every_operation_is_called_once_with_credentials() {
    let server = MockServer::start().await;
    let conversation = json!({"id": CONVERSATION, "externalId": "ext-1", "customer": {"externalId": "customer-0001"}});
    let base = format!("/conversation/v1/conversations/{CONVERSATION}");
    let answers = [
        (
            "POST",
            "/conversation/v1/conversations".to_owned(),
            200,
            json!({"id": CONVERSATION}),
        ),
        (
            "GET",
            "/conversation/v1/conversations".to_owned(),
            200,
            json!({"items": [conversation.clone()]}),
        ),
        ("GET", base.clone(), 200, conversation),
        ("POST", format!("{base}/authenticate"), 204, json!(null)),
        (
            "POST",
            format!("{base}/messages"),
            200,
            json!({"id": MESSAGE}),
        ),
        ("POST", format!("{base}/messages/batch"), 200, json!({})),
        (
            "GET",
            format!("{base}/messages"),
            200,
            json!({"items": [message()]}),
        ),
        ("GET", format!("{base}/messages/{MESSAGE}"), 200, message()),
        (
            "GET",
            "/conversation/v1/conversation/messages".to_owned(),
            200,
            json!({"items": [message()]}),
        ),
    ];
    for (verb, route, status, body) in answers {
        let mut template = ResponseTemplate::new(status);
        if !body.is_null() {
            template = template.set_body_json(body);
        }
        // The two listings by externalId must carry it in the query.
        let query = if verb == "GET" && !route.contains(CONVERSATION) {
            Some("ext-1")
        } else {
            None
        };
        let mut mock = Mock::given(method(verb)).and(path(route));
        if let Some(external_id) = query {
            mock = mock.and(query_param("externalId", external_id));
        }
        mock.and(header("asapp-api-id", "id-1"))
            .and(header("asapp-api-secret", "secret-1"))
            .respond_with(template)
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = downstream_example::client(&server.uri(), "id-1", "secret-1").unwrap();
    let log = downstream_example::run(&client, "ext-1").await.unwrap();
    assert_eq!(log.len(), 9, "{log:#?}");
    assert_eq!(
        log[0],
        format!("createOrUpdateConversation: id {CONVERSATION}")
    );
    assert_eq!(log[8], "getMessagesByExternalId: 1 message(s)");
    assert!(!format!("{client:?}").contains("secret-1"));
}

#[tokio::test]
async fn a_failing_step_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"requestId": "r-1", "code": "401-01", "message": "Unauthorized"}}),
        ))
        .mount(&server)
        .await;
    let client = downstream_example::client(&server.uri(), "id-1", "wrong").unwrap();
    let error = downstream_example::run(&client, "ext-1").await.unwrap_err();
    assert_eq!(error.step, "createOrUpdateConversation");
    assert!(error.to_string().contains("401"), "{error}");
}

#[tokio::test]
async fn typed_httpmock_mocks_answer_the_client() {
    use asapp_conversations::{ClientConfig, types};
    use asapp_conversations_httpmock::{MockServerExt as _, httpmock::MockServer};

    let server = MockServer::start_async().await;
    let id: types::ConversationId = CONVERSATION.parse().unwrap();
    let missing: types::ConversationId = "01BX5ZZKBKACTAV9WEVGEMMVR0".parse().unwrap();
    let conversation: types::Conversation = types::Conversation::builder()
        .id(Some(CONVERSATION.to_owned()))
        .external_id("ext-1")
        .customer(types::Customer::builder().external_id("customer-0001"))
        .metadata([("queue".to_owned(), "billing".to_owned())])
        .try_into()
        .unwrap();
    let found = server.get_conversation(|when, then| {
        // Typed matchers first; `into_inner()` for what the description leaves to the security
        // scheme, the credentials.
        when.conversation_id(&id)
            .into_inner()
            .header("asapp-api-id", "id-1")
            .header("asapp-api-secret", "secret-1");
        then.ok(&conversation);
    });
    let not_found = server.get_conversation(|when, then| {
        when.conversation_id(&missing);
        let details: types::DefaultErrorDetails = types::DefaultErrorDetails::builder()
            .request_id("r-1")
            .code(Some("404-01".to_owned()))
            .message("Not Found")
            .try_into()
            .unwrap();
        let mut envelope = types::ErrorResponse::default();
        envelope.error = Some(details);
        then.not_found(&envelope);
    });

    let client = ClientConfig::new("id-1", "secret-1")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let answer = client
        .get_conversation()
        .conversation_id(CONVERSATION)
        .await
        .unwrap();
    assert_eq!(answer.into_inner(), conversation);
    found.assert_async().await;

    let error = client
        .get_conversation()
        .conversation_id(missing.as_str())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(error.code(), Some("404-01"), "{error}");
    assert_eq!(error.attempts(), 1, "{error}");
    not_found.assert_async().await;
}

#[tokio::test]
async fn the_walk_runs_against_the_local_sandbox() {
    let sandbox = asapp_conversations_sandbox::Sandbox::start().await.unwrap();
    let client =
        downstream_example::client(sandbox.base_url(), sandbox.api_id(), sandbox.api_secret())
            .unwrap();
    let log = downstream_example::run(&client, "downstream-sandbox-1")
        .await
        .unwrap();
    assert_eq!(log.len(), 9, "{log:#?}");
    assert!(
        log[0].starts_with("createOrUpdateConversation: id "),
        "{log:#?}"
    );
    let message_id = log[4].strip_prefix("createMessage: id ").unwrap();
    assert!(
        message_id.len() == 26 && message_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{message_id}"
    );
    // The one message, then the batch of two.
    assert_eq!(log[6], "getMessages: 3 message(s)");
    assert_eq!(log[8], "getMessagesByExternalId: 3 message(s)");
    sandbox.shutdown().await.unwrap();
}
