//! Users for tests: made like the CLI makes them, then logged in over HTTP.

use hashmarket_api::auth::accounts::create_user;
use hashmarket_api::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;

/// A password that passes the rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh_token: String,
}

/// Creates a user with `role` (verified or not) and logs them in.
pub async fn user(app: &TestApp, role: Role, verified: bool) -> TestUser {
    let email = format!("{}@example.com", Uuid::now_v7().simple());
    let id = create_user(&*app.store, &email, PASSWORD, role, verified)
        .await
        .expect("create a test user");
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200, "log in");
    let body: serde_json::Value = response.json().await.unwrap();
    TestUser {
        id,
        email,
        token: body["access_token"].as_str().unwrap().to_string(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
    }
}

impl TestApp {
    /// A request builder carrying `user`'s bearer token.
    pub fn as_user(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &TestUser,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&user.token)
    }

    /// GET as `user`, decoded as JSON, asserting 200.
    pub async fn get_as(&self, path: &str, user: &TestUser) -> serde_json::Value {
        let response = self
            .as_user(reqwest::Method::GET, path, user)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// POST JSON as `user` with an idempotency key.
    pub async fn post_as(
        &self,
        path: &str,
        user: &TestUser,
        key: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.as_user(reqwest::Method::POST, path, user)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Credits `user` with `amount` BTC as `operator`, asserting 201.
    pub async fn credit(&self, operator: &TestUser, user: &TestUser, amount: &str) {
        let body = json!({"user_id": user.id, "asset": "BTC", "amount": amount, "reference": "test deposit"});
        let response = self
            .post_as(
                "/v1/admin/credits",
                operator,
                &Uuid::now_v7().to_string(),
                &body,
            )
            .await;
        assert_eq!(response.status().as_u16(), 201, "credit");
    }
}
