use std::io::Write;

use super::*;

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = Config::load(None, env(&[])).unwrap().config;
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(config.retention_days, 30);
    assert_eq!(config.log_level, "info");
    assert_eq!(config.database_url().expose(), "sqlite://./data/pairline.db");
    assert_eq!(
        config.public_url_for("127.0.0.1:8080".parse().unwrap()).as_str(),
        "http://localhost:8080/"
    );
}

#[test]
fn the_environment_overrides_the_file_which_overrides_defaults() {
    let toml = file("listen = \"0.0.0.0:9000\"\nretention_days = 7\nlog_level = \"debug\"\n");
    let loaded = Config::load(
        Some(toml.path()),
        env(&[("PAIRLINE_RETENTION_DAYS", "0"), ("HOME", "/root")]),
    )
    .unwrap();
    let config = loaded.config;
    assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(config.retention_days, 0);
    assert_eq!(config.log_level, "debug");
    assert!(loaded.warnings.is_empty());
}

#[test]
fn every_setting_can_be_set_from_the_environment() {
    let config = Config::load(
        None,
        env(&[
            ("PAIRLINE_LISTEN", "[::1]:7000"),
            ("PAIRLINE_PUBLIC_URL", "https://pair.example.com/base"),
            ("PAIRLINE_DATA_DIR", "/var/lib/pairline"),
            ("PAIRLINE_DATABASE_URL", "postgres://app:hunter2@db/pairline"),
            ("PAIRLINE_DATABASE_MAX_CONNECTIONS", "32"),
            ("PAIRLINE_RETENTION_DAYS", "90"),
            ("PAIRLINE_RETENTION_SWEEP_INTERVAL", "15m"),
            ("PAIRLINE_LOG_LEVEL", "pairline=debug,info"),
            ("PAIRLINE_MAX_REQUEST_BYTES", "2MiB"),
            ("PAIRLINE_SHUTDOWN_GRACE", "3s"),
        ]),
    )
    .unwrap()
    .config;
    assert_eq!(config.listen.to_string(), "[::1]:7000");
    assert_eq!(
        config.public_url.unwrap().as_str(),
        "https://pair.example.com/base/"
    );
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/pairline"));
    assert!(config.database_url.unwrap().is_postgres());
    assert_eq!(config.database_max_connections, 32);
    assert_eq!(config.retention_days, 90);
    assert_eq!(config.retention_sweep_interval, Duration::from_secs(900));
    assert_eq!(config.log_level, "pairline=debug,info");
    assert_eq!(config.max_request_bytes, 2 * 1024 * 1024);
    assert_eq!(config.shutdown_grace, Duration::from_secs(3));
}

#[test]
fn bad_values_name_the_setting_its_origin_and_what_is_allowed() {
    let cases = [
        ("PAIRLINE_LISTEN", "localhost", "`listen`", "127.0.0.1:8080"),
        (
            "PAIRLINE_RETENTION_DAYS",
            "-1",
            "`retention_days`",
            "from 0 to 36500",
        ),
        ("PAIRLINE_PUBLIC_URL", "ftp://x", "`public_url`", "http"),
        ("PAIRLINE_LOG_LEVEL", "loud=", "`log_level`", "error, warn, info"),
        (
            "PAIRLINE_MAX_REQUEST_BYTES",
            "lots",
            "`max_request_bytes`",
            "1MiB",
        ),
        (
            "PAIRLINE_RETENTION_SWEEP_INTERVAL",
            "soon",
            "`retention_sweep_interval`",
            "10m",
        ),
        (
            "PAIRLINE_DATABASE_URL",
            "mysql://x",
            "`database_url`",
            "postgres://",
        ),
    ];
    for (var, value, setting, allowed) in cases {
        let message = Config::load(None, env(&[(var, value)])).unwrap_err().to_string();
        assert!(message.contains(setting), "{message}");
        assert!(message.contains(var), "{message}");
        assert!(message.contains(allowed), "{message}");
    }
}

#[test]
fn a_bad_file_names_the_file_and_the_setting() {
    let toml = file("retention_days = \"forever\"\n");
    let message = Config::load(Some(toml.path()), env(&[])).unwrap_err().to_string();
    assert!(
        message.contains("`retention_days`") && message.contains("config file"),
        "{message}"
    );

    let toml = file("listn = \"0.0.0.0:1\"\n");
    let message = Config::load(Some(toml.path()), env(&[])).unwrap_err().to_string();
    assert!(
        message.contains("unknown setting `listn`") && message.contains("listen"),
        "{message}"
    );

    let toml = file("listen = \n");
    let message = Config::load(Some(toml.path()), env(&[])).unwrap_err().to_string();
    assert!(message.contains("not valid TOML"), "{message}");

    let missing = Config::load(Some(Path::new("/nonexistent/pairline.toml")), env(&[])).unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/pairline.toml"));
}

#[test]
fn secrets_never_show_in_debug_output_or_errors() {
    let config = Config::load(
        None,
        env(&[("PAIRLINE_DATABASE_URL", "postgres://app:hunter2@db:5432/pairline")]),
    )
    .unwrap()
    .config;
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(
        debug.contains("postgres://app:REDACTED@db:5432/pairline"),
        "{debug}"
    );
    assert!(!config.database_url().to_string().contains("hunter2"));

    let message = Config::load(None, env(&[("PAIRLINE_DATABASE_URL", "mysql://root:hunter2@db")]))
        .unwrap_err()
        .to_string();
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn unknown_variables_warn_but_tooling_variables_are_quiet() {
    let loaded = Config::load(
        None,
        env(&[
            ("PAIRLINE_LISTEM", "x"),
            ("PAIRLINE_TEST_POSTGRES", "postgres://x"),
            ("PAIRLINE_CONFIG", "/etc/pairline.toml"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("PAIRLINE_LISTEM"));
}

#[test]
fn a_derived_public_url_uses_the_bound_address() {
    let config = Config::default();
    assert_eq!(
        config.public_url_for("0.0.0.0:4000".parse().unwrap()).as_str(),
        "http://localhost:4000/"
    );
    assert_eq!(
        config.public_url_for("10.1.2.3:80".parse().unwrap()).as_str(),
        "http://10.1.2.3/"
    );
}

#[test]
fn the_readme_documents_every_setting() {
    let readme = include_str!("../../README.md");
    for setting in crate::config::all_settings() {
        assert!(
            readme.contains(&format!("| `{}` | `{}` |", setting.name, setting.env_var())),
            "README.md's configuration table lacks {}",
            setting.name
        );
    }
}
