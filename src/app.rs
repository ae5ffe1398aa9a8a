//! The state every handler shares, and the links the server hands out.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::setup::SetupLink;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::exec::service::RunService;
use crate::http::observe::Metrics;
use crate::live::Rooms;
use crate::store::Store;

/// Shared by every request through axum's `State`; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// The live rooms: actors, WebSockets, persistence of changes.
    pub rooms: Rooms,
    pub metrics: Arc<Metrics>,
    pub links: Arc<Links>,
    /// Cancelled when the server begins to shut down: long-lived tasks watch it.
    pub shutdown: CancellationToken,
    pub login_throttle: Arc<LoginThrottle>,
    /// The first-admin link, on offer while there are no accounts.
    pub setup: Arc<SetupLink>,
    /// Runs code in the rooms.
    pub runs: RunService,
}

/// Builds the absolute URLs the server hands out, from the public base URL.
#[derive(Debug, Clone)]
pub struct Links {
    base: Url,
}

impl Links {
    /// `base` must be an http(s) URL whose path ends with `/`.
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// An absolute path under the base URL's path, for links inside our own pages
    /// (so that a deployment under a path prefix keeps working).
    pub fn path(&self, relative: &str) -> String {
        format!("{}{relative}", self.base.path())
    }

    /// The staff link: the page where staff open a room (login required).
    pub fn room_page(&self, room_id: &str) -> Url {
        self.join(&format!("r/{room_id}"))
    }

    /// The candidate link: the room's page for someone without an account.
    pub fn candidate_page(&self, room_id: &str, key: &str) -> Url {
        self.join(&format!("join/{room_id}/{key}"))
    }

    /// The page where an invited person chooses their password.
    pub fn invite_page(&self, token: &str) -> Url {
        self.join(&format!("invite/{token}"))
    }

    /// The page that creates the first admin.
    pub fn setup_page(&self, token: &str) -> Url {
        self.join(&format!("setup/{token}"))
    }

    /// The room's WebSocket for a candidate: the candidate key rides in the query.
    pub fn candidate_socket(&self, room_id: &str, key: &str) -> Url {
        let mut url = self.room_socket(room_id);
        url.query_pairs_mut().append_pair("key", key);
        url
    }

    /// The room's WebSocket, on `ws://` or `wss://` to match the base URL.
    pub fn room_socket(&self, room_id: &str) -> Url {
        let mut url = self.join(&format!("v1/rooms/{room_id}/ws"));
        let scheme = if self.base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        url.set_scheme(scheme)
            .expect("ws and wss are valid for an http(s) URL");
        url
    }

    fn join(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("a relative path joins onto the base URL")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_base_url_and_its_scheme() {
        let links = Links::new(Url::parse("https://pair.example.com/interviews/").unwrap());
        assert_eq!(
            links.room_page("abc").as_str(),
            "https://pair.example.com/interviews/r/abc"
        );
        assert_eq!(
            links.room_socket("abc").as_str(),
            "wss://pair.example.com/interviews/v1/rooms/abc/ws"
        );
        let plain = Links::new(Url::parse("http://localhost:8080/").unwrap());
        assert_eq!(
            plain.room_socket("x").as_str(),
            "ws://localhost:8080/v1/rooms/x/ws"
        );
    }
}
