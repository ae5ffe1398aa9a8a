//! Helpers for tests of the pages: logging in through the login form like a browser,
//! and reading cookies and form fields.

use reqwest::header::{COOKIE, SET_COOKIE};

use super::TestServer;

/// The `name=value` of the cookie `name` among a response's `Set-Cookie` headers, and the
/// whole header.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(|header| (header.split(';').next().unwrap().to_owned(), header))
}

/// The value of the first `name="..."` input's value in `html`.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Logs in through the login page like a browser; returns the session cookie pair.
pub async fn log_in(server: &TestServer, email: &str, password: &str) -> reqwest::Response {
    let client = &server.anonymous;
    let form = client.get(server.url("/login?next=%2F")).send().await.unwrap();
    let (form_cookie, _) = set_cookie(&form, "pairline_form").expect("a form cookie");
    let token = hidden_field(&form.text().await.unwrap(), "form_token");
    client
        .post(server.url("/login"))
        .header(COOKIE, form_cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/"),
            ("form_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

/// A logged-in browser: the session cookie and the session's CSRF token.
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
}

impl BrowserSession {
    /// Logs in through the login page and reads the CSRF token off the home page.
    pub async fn log_in(server: &TestServer, email: &str, password: &str) -> Self {
        let done = log_in(server, email, password).await;
        assert_eq!(
            done.status(),
            reqwest::StatusCode::SEE_OTHER,
            "logging in as {email}"
        );
        let (cookie, _) = set_cookie(&done, "pairline_session").expect("a session cookie");
        let home = server
            .anonymous
            .get(server.url("/"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let csrf = hidden_field(&home.text().await.unwrap(), "csrf");
        Self { cookie, csrf }
    }

    pub async fn get(&self, server: &TestServer, path: &str) -> reqwest::Response {
        let request = server.anonymous.get(server.url(path));
        request.header(COOKIE, &self.cookie).send().await.unwrap()
    }

    /// Posts a form with `fields` and this session's CSRF token.
    pub async fn post(&self, server: &TestServer, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = fields.to_vec();
        form.push(("csrf", &self.csrf));
        self.post_raw(server, path, &form).await
    }

    /// Posts a form with exactly `fields` (no CSRF token unless given).
    pub async fn post_raw(
        &self,
        server: &TestServer,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let request = server
            .anonymous
            .post(server.url(path))
            .header(COOKIE, &self.cookie);
        request.form(fields).send().await.unwrap()
    }
}
