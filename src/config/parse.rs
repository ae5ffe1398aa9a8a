//! Parsers from text to setting values. Each returns a reason a person can act on.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

/// Environment variables with our prefix that are not settings: the config file's path
/// (read by the command line) and variables of our test and benchmark tooling.
pub fn is_tooling_var(key: &str) -> bool {
    key == "PAIRLINE_CONFIG"
        || ["PAIRLINE_TEST_", "PAIRLINE_BENCH_"]
            .iter()
            .any(|prefix| key.starts_with(prefix))
}

/// Flattens nested TOML tables into dotted names with text values.
pub fn flatten_toml(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let text = match value {
            toml::Value::Table(inner) => {
                flatten_toml(&name, inner, out);
                continue;
            }
            toml::Value::String(text) => text.clone(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        out.insert(name, text);
    }
}

pub fn optional<T>(value: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

pub fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    SocketAddr::from_str(value)
        .map_err(|_| "expected an IP address and port such as 127.0.0.1:8080 or [::]:8080".to_owned())
}

pub fn base_url(value: &str) -> Result<Url, String> {
    let mut url = Url::parse(value)
        .map_err(|err| format!("expected an absolute URL such as https://pairline.example.com ({err})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("expected an http:// or https:// URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err("expected a base URL with a host and no query or fragment".to_owned());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

pub fn path(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("expected a directory path".to_owned());
    }
    Ok(PathBuf::from(value))
}

pub fn integer_in<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match value.parse::<T>() {
        Ok(number) if number >= min && number <= max => Ok(number),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

/// A duration such as `250ms`, `30s`, `10m`, `1h` within `[min, max]`.
pub fn duration_in(value: &str, min: &str, max: &str) -> Result<Duration, String> {
    let bound = |text: &str| humantime::parse_duration(text).expect("valid bound");
    let (min, max) = (bound(min), bound(max));
    match humantime::parse_duration(value) {
        Ok(duration) if duration >= min && duration <= max => Ok(duration),
        _ => Err(format!(
            "expected a duration such as 30s, 10m or 1h, from {} to {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        )),
    }
}

/// A byte size such as `65536`, `64KiB`, `1MiB` or `1MB` within `[min, max]` bytes.
pub fn byte_size_in(value: &str, min: usize, max: usize) -> Result<usize, String> {
    let digits_end = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(digits_end);
    let multiplier: Option<usize> = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => Some(1),
        "kib" | "k" => Some(1 << 10),
        "mib" | "m" => Some(1 << 20),
        "gib" | "g" => Some(1 << 30),
        "kb" => Some(1_000),
        "mb" => Some(1_000_000),
        "gb" => Some(1_000_000_000),
        _ => None,
    };
    let size = digits
        .parse::<usize>()
        .ok()
        .zip(multiplier)
        .and_then(|(n, m)| n.checked_mul(m));
    match size {
        Some(bytes) if bytes >= min && bytes <= max => Ok(bytes),
        _ => Err(format!(
            "expected a size such as 65536, 64KiB or 1MiB, from {min} to {max} bytes"
        )),
    }
}

/// A `tracing` filter: comma-separated levels or `target=level` directives. Stricter
/// than `EnvFilter`, which reads a mistyped level such as `inof` as a target name and
/// then silently logs nothing.
pub fn log_filter(value: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let expected = "expected error, warn, info, debug, trace, or directives like pairline=debug,info";
    let directives_ok = value.split(',').all(|directive| {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        LEVELS.contains(&level.trim().to_ascii_lowercase().as_str())
    });
    if !directives_ok {
        return Err(expected.to_owned());
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(value)
        .map(|_| value.to_owned())
        .map_err(|err| format!("{expected} ({err})"))
}
