//! `pairline user add`: creates a staff account from the shell.

use std::io::{BufRead, IsTerminal, Write};

use super::Role;
use crate::clock::now_millis;
use crate::config::Config;

/// Creates an account with the password typed at a prompt (not echoed) or, when stdin is
/// not a terminal, read from its first line.
pub async fn add_user(config: &Config, email: &str, role: &str) -> Result<(), String> {
    let role: Role = role.parse()?;
    let email = super::normalise_email(email).map_err(|err| err.to_string())?;
    let password = read_password(&format!("Password for {email}: "))?;
    let store = crate::store::connect(config)
        .await
        .map_err(|err| format!("cannot open the database {}: {err}", config.database_url()))?;
    let created = async {
        store.migrate().await.map_err(|err| err.to_string())?;
        super::create_account(store.as_ref(), &email, role, password, now_millis())
            .await
            .map_err(|err| err.to_string())
    }
    .await;
    store.close().await;
    let user = created?;
    println!("created the {role} account {} (id {})", user.email, user.id);
    Ok(())
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
