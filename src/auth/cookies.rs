//! The cookies Pairline sets: the login session and the form token of visitors who are
//! not logged in. Both are HttpOnly and SameSite=Lax (a staff link opened from a mail
//! still finds its session; cross-site form posts are stopped by the CSRF tokens), scoped
//! to the public URL's path, and Secure when the public URL is https.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use crate::app::Links;

/// The login session's token.
pub const SESSION: &str = "pairline_session";
/// The token the login and set-up forms of a visitor without a session must echo.
pub const FORM: &str = "pairline_form";

/// The value of cookie `name` in the request, if it has one.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// A `Set-Cookie` value for `name` (a session cookie: it ends when the browser closes
/// unless `max_age_secs` is given).
pub fn set(links: &Links, name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path={}; HttpOnly; SameSite=Lax", links.path(""));
    if let Some(age) = max_age_secs {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if links.base().scheme() == "https" {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie names, tokens and paths are header-safe")
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(links: &Links, name: &str) -> HeaderValue {
    set(links, name, "", Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use url::Url;

    #[test]
    fn cookies_are_found_among_others() {
        let request = Request::builder()
            .header(COOKIE, "a=1; pairline_session=tok; b=2")
            .header(COOKIE, "pairline_form=\"x\"")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(read(&parts.headers, SESSION), Some("tok"));
        assert_eq!(read(&parts.headers, FORM), Some("x"));
        assert_eq!(read(&parts.headers, "pairline"), None);
    }

    #[test]
    fn cookies_are_secure_behind_https_and_scoped_to_the_base_path() {
        let plain = Links::new(Url::parse("http://localhost:8080/").unwrap());
        assert_eq!(
            set(&plain, SESSION, "t", None),
            "pairline_session=t; Path=/; HttpOnly; SameSite=Lax"
        );
        let tls = Links::new(Url::parse("https://pair.example.com/interviews/").unwrap());
        assert_eq!(
            clear(&tls, SESSION),
            "pairline_session=; Path=/interviews/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }
}
