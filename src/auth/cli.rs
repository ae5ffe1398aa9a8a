//! `pairline user add` and `pairline token create`: accounts and API tokens from the shell.

use std::io::{BufRead, IsTerminal, Write};

use super::Role;
use crate::clock::now_millis;
use crate::config::Config;
use crate::store::Store;

/// Creates an account with the password typed at a prompt (not echoed) or, when stdin is
/// not a terminal, read from its first line.
pub async fn add_user(config: &Config, email: &str, role: &str) -> Result<(), String> {
    let role: Role = role.parse()?;
    let email = super::normalise_email(email).map_err(|err| err.to_string())?;
    let password = read_password(&format!("Password for {email}: "))?;
    let user = with_store(config, async |store| {
        super::create_account(store, &email, role, password, now_millis())
            .await
            .map_err(|err| err.to_string())
    })
    .await?;
    println!("created the {role} account {} (id {})", user.email, user.id);
    Ok(())
}

/// Creates an API token for the account `email` and prints it (it cannot be shown again).
pub async fn create_token(config: &Config, email: &str, name: &str) -> Result<(), String> {
    let email = super::normalise_email(email).map_err(|err| err.to_string())?;
    let token = with_store(config, async |store| {
        let user = store
            .user_by_email(&email)
            .await
            .map_err(|err| err.to_string())?
            .ok_or_else(|| format!("there is no account with the address {email}"))?;
        if user.disabled_at != 0 {
            return Err(format!("the account {email} is disabled"));
        }
        let (token, _) = super::issue_api_token(store, &user, name, now_millis())
            .await
            .map_err(|err| err.to_string())?;
        Ok(token)
    })
    .await?;
    eprintln!("API token {name:?} for {email} (keep it secret; it is not shown again):");
    println!("{token}");
    Ok(())
}

/// Runs `work` on the configured (migrated) database, then closes it.
async fn with_store<T>(
    config: &Config,
    work: impl AsyncFnOnce(&dyn Store) -> Result<T, String>,
) -> Result<T, String> {
    let store = crate::store::connect(config)
        .await
        .map_err(|err| format!("cannot open the database {}: {err}", config.database_url()))?;
    let done = match store.migrate().await {
        Ok(_) => work(store.as_ref()).await,
        Err(err) => Err(err.to_string()),
    };
    store.close().await;
    done
}

fn read_password(prompt: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    let typed = stdin.is_terminal();
    if typed {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
    }
    let _echo_off = typed.then(EchoOff::new).flatten();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|err| format!("cannot read the password: {err}"))?;
    if typed {
        eprintln!();
    }
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    super::password::check_new_password(&password)?;
    Ok(password)
}

/// Turns the terminal's echo off until dropped.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn new() -> Option<Self> {
        // SAFETY: tcgetattr/tcsetattr on stdin with a termios we own; failure leaves the
        // terminal as it was.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return None;
            }
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            (libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) == 0).then_some(Self { saved })
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}
