//! The `media.*` settings: the SFU's sockets, the address it advertises, and the TURN
//! servers handed to browsers.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::Setting;
use super::parse;

/// Audio and video (the `media.*` settings).
#[derive(Clone, PartialEq)]
pub struct MediaConfig {
    /// Whether rooms have calls at all.
    pub enabled: bool,
    /// The address the media sockets bind to.
    pub bind: IpAddr,
    /// The one UDP port every participant's media uses (0: any free port).
    pub udp_port: u16,
    /// The ICE-TCP port, for networks that block UDP (0: any free port).
    pub tcp_port: u16,
    /// The address browsers are told to send media to (a public IP behind 1:1 NAT); the
    /// bind address, or this machine's outbound address, when unset.
    pub advertise_ip: Option<IpAddr>,
    /// STUN/TURN URLs handed to browsers (`turn:host:3478`, `turns:host:5349`, ...).
    pub ice_servers: Vec<String>,
    pub turn_username: String,
    pub turn_credential: String,
    /// Most people in one room's call.
    pub max_participants: usize,
    /// A participant whose media connection is silent this long is removed.
    pub ice_timeout: Duration,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: IpAddr::from([0, 0, 0, 0]),
            udp_port: 7882,
            tcp_port: 7882,
            advertise_ip: None,
            ice_servers: Vec::new(),
            turn_username: String::new(),
            turn_credential: String::new(),
            max_participants: 8,
            ice_timeout: Duration::from_secs(15),
        }
    }
}

impl fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaConfig")
            .field("enabled", &self.enabled)
            .field("bind", &self.bind)
            .field("udp_port", &self.udp_port)
            .field("tcp_port", &self.tcp_port)
            .field("advertise_ip", &self.advertise_ip)
            .field("ice_servers", &self.ice_servers)
            .field("turn_username", &self.turn_username)
            .field("turn_credential", &"(hidden)")
            .field("max_participants", &self.max_participants)
            .field("ice_timeout", &self.ice_timeout)
            .finish()
    }
}

fn ip(value: &str) -> Result<IpAddr, String> {
    value
        .parse()
        .map_err(|_| "expected an IP address such as 203.0.113.7 or 0.0.0.0".to_owned())
}

fn ice_server_urls(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            if ["stun:", "turn:", "turns:"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
            {
                Ok(url.to_owned())
            } else {
                Err(format!("{url:?} is not a stun:, turn: or turns: URL"))
            }
        })
        .collect()
}

/// The `media.*` settings.
pub static MEDIA_SETTINGS: &[Setting] = &[
    Setting {
        name: "media.enabled",
        help: "whether rooms have audio and video calls (default true)",
        secret: false,
        apply: |c, v| {
            c.media.enabled = parse::boolean(v)?;
            Ok(())
        },
    },
    Setting {
        name: "media.bind",
        help: "address the media sockets bind to (default 0.0.0.0)",
        secret: false,
        apply: |c, v| {
            c.media.bind = ip(v)?;
            Ok(())
        },
    },
    Setting {
        name: "media.udp_port",
        help: "the UDP port all audio and video uses; 0 picks a free one (default 7882)",
        secret: false,
        apply: |c, v| {
            c.media.udp_port = parse::integer_in(v, 0, 65535)?;
            Ok(())
        },
    },
    Setting {
        name: "media.tcp_port",
        help: "the ICE-TCP port for networks that block UDP; 0 picks a free one (default 7882)",
        secret: false,
        apply: |c, v| {
            c.media.tcp_port = parse::integer_in(v, 0, 65535)?;
            Ok(())
        },
    },
    Setting {
        name: "media.advertise_ip",
        help: "the IP browsers send media to, e.g. the public IP behind 1:1 NAT (default: the bind address, or this machine's outbound address)",
        secret: false,
        apply: |c, v| {
            c.media.advertise_ip = parse::optional(v, ip)?;
            Ok(())
        },
    },
    Setting {
        name: "media.ice_servers",
        help: "STUN/TURN URLs handed to browsers, comma-separated, e.g. turn:turn.example.com:3478 (default none)",
        secret: false,
        apply: |c, v| {
            c.media.ice_servers = ice_server_urls(v)?;
            Ok(())
        },
    },
    Setting {
        name: "media.turn_username",
        help: "the username for the TURN servers (default none)",
        secret: false,
        apply: |c, v| {
            c.media.turn_username = v.to_owned();
            Ok(())
        },
    },
    Setting {
        name: "media.turn_credential",
        help: "the password for the TURN servers (default none)",
        secret: true,
        apply: |c, v| {
            c.media.turn_credential = v.to_owned();
            Ok(())
        },
    },
    Setting {
        name: "media.max_participants",
        help: "most people in one room's call (default 8)",
        secret: false,
        apply: |c, v| {
            c.media.max_participants = parse::integer_in(v, 2, 16)?;
            Ok(())
        },
    },
    Setting {
        name: "media.ice_timeout",
        help: "how long a participant's media may be silent before they leave the call, e.g. 15s (default 15s)",
        secret: false,
        apply: |c, v| {
            c.media.ice_timeout = parse::duration_in(v, "1s", "10m")?;
            Ok(())
        },
    },
];
