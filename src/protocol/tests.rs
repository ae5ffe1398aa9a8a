use super::*;

fn selection(n: u8) -> Selection {
    Selection {
        anchor: format!("{n}@aabbccdd"),
        head: format!("{}@aabbccdd", n + 1),
    }
}

fn peer(id: u64) -> Peer {
    Peer {
        peer_id: id,
        name: format!("Ada {id} ✓"),
        color: "#1f77b4".to_owned(),
        role: if id.is_multiple_of(2) {
            Role::Editor
        } else {
            Role::Observer
        },
    }
}

fn client_messages() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Hello(Hello {
            version: VERSION,
            synced_seq: 123_456,
            heads: vec![[7; 32], [9; 32]],
            name: "Grace Hopper".to_owned(),
            color: "#ff7f0e".to_owned(),
            role: Role::Editor,
        }),
        ClientMessage::Changes(vec![vec![1, 2, 3], Vec::new(), vec![0xff; 300]]),
        ClientMessage::Presence(vec![selection(1), selection(5)]),
        ClientMessage::Presence(Vec::new()),
        ClientMessage::Run {
            stdin: "Ada\nGrace 🌍\n".to_owned(),
        },
        ClientMessage::Media(r#"{"type":"answer","sdp":"v=0\r\n"}"#.to_owned()),
    ]
}

fn server_messages() -> Vec<ServerMessage> {
    vec![
        ServerMessage::Welcome(Welcome {
            version: VERSION,
            peer_id: 3,
            max_seq: 900,
            durable_seq: 899,
            reset: false,
            preview: Preview {
                seq: 880,
                code: "print('héllo 🌍')\n".to_owned(),
                language: "python".to_owned(),
                title: "Round 1".to_owned(),
            },
            snapshot: Some(Snapshot {
                covers_seq: 500,
                document: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
            }),
            peers: vec![peer(1), peer(2)],
            role: Role::Observer,
            ended_at: 1_700_000_000_123,
        }),
        ServerMessage::Changes {
            durable_seq: 10,
            changes: vec![(11, vec![1]), (12, vec![2, 2])],
        },
        ServerMessage::Ack {
            durable_seq: 12,
            acked: vec![([3; 32], 12)],
        },
        ServerMessage::Need(vec![[4; 32]]),
        ServerMessage::PeerJoined(peer(8)),
        ServerMessage::PeerLeft(8),
        ServerMessage::PeerPresence {
            peer_id: 2,
            selections: vec![selection(3)],
        },
        ServerMessage::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".to_owned(),
            fatal: true,
        },
        ServerMessage::Ended {
            ended_at: 1_700_000_000_456,
            role: Role::Observer,
        },
        ServerMessage::Run(r#"{"type":"output","runId":"r1","stream":"stdout","data":"héllo\n"}"#.to_owned()),
        ServerMessage::Media(r#"{"type":"speaker","peer_id":7}"#.to_owned()),
    ]
}

#[test]
fn every_message_round_trips() {
    for message in client_messages() {
        assert_eq!(ClientMessage::decode(&message.encode()), Ok(message));
    }
    for message in server_messages() {
        assert_eq!(ServerMessage::decode(&message.encode()), Ok(message));
    }
}

#[test]
fn every_truncation_and_extension_is_refused() {
    for bytes in client_messages().iter().map(ClientMessage::encode) {
        for len in 0..bytes.len() {
            assert!(
                ClientMessage::decode(&bytes[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(ClientMessage::decode(&longer), Err(DecodeError::TrailingBytes));
    }
    for bytes in server_messages().iter().map(ServerMessage::encode) {
        for len in 0..bytes.len() {
            assert!(
                ServerMessage::decode(&bytes[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
    }
}

#[test]
fn bad_fields_are_refused() {
    assert_eq!(
        ClientMessage::decode(&[0x7f]),
        Err(DecodeError::UnknownType(0x7f))
    );
    assert_eq!(ClientMessage::decode(&[]), Err(DecodeError::Empty));
    // A server message is not a client message.
    assert!(ClientMessage::decode(&ServerMessage::PeerLeft(1).encode()).is_err());
    // Invalid UTF-8 in a name.
    let mut w = Writer::new(0x01);
    w.uint(1)
        .uint(0)
        .list(&[] as &[Hash], |_, _| {})
        .bytes(&[0xff, 0xfe])
        .string("#000000")
        .uint(0);
    assert_eq!(
        ClientMessage::decode(&w.finish()),
        Err(DecodeError::Invalid("name"))
    );
    // An unknown role.
    let mut w = Writer::new(0x01);
    w.uint(1)
        .uint(0)
        .list(&[] as &[Hash], |_, _| {})
        .string("a")
        .string("#000000")
        .uint(7);
    assert_eq!(
        ClientMessage::decode(&w.finish()),
        Err(DecodeError::Invalid("role"))
    );
    // A boolean that is neither 0 nor 1.
    let mut bytes = ServerMessage::Error {
        code: ErrorCode::Internal,
        message: String::new(),
        fatal: false,
    }
    .encode();
    *bytes.last_mut().unwrap() = 2;
    assert_eq!(ServerMessage::decode(&bytes), Err(DecodeError::Invalid("fatal")));
}

#[test]
fn oversized_presence_decodes_but_is_not_valid() {
    let many: Vec<_> = (0..=MAX_SELECTIONS as u8).map(selection).collect();
    let decoded = ClientMessage::decode(&ClientMessage::Presence(many.clone()).encode()).unwrap();
    assert_eq!(decoded, ClientMessage::Presence(many.clone()));
    assert!(!presence_is_valid(&many));
    let long = Selection {
        anchor: "x".repeat(MAX_CURSOR_BYTES + 1),
        head: String::new(),
    };
    assert!(!presence_is_valid(&[long]));
    assert!(presence_is_valid(&many[..MAX_SELECTIONS]));
}

#[test]
fn the_protocol_document_lists_every_message_type() {
    let doc = include_str!("../../docs/protocol.md");
    for (byte, name) in [
        (tag::HELLO, "Hello"),
        (tag::CHANGES, "Changes"),
        (tag::PRESENCE, "Presence"),
        (tag::RUN, "Run"),
        (tag::MEDIA, "Media"),
        (tag::WELCOME, "Welcome"),
        (tag::SERVER_CHANGES, "Changes"),
        (tag::ACK, "Ack"),
        (tag::NEED, "Need"),
        (tag::PEER_JOINED, "PeerJoined"),
        (tag::PEER_LEFT, "PeerLeft"),
        (tag::PEER_PRESENCE, "PeerPresence"),
        (tag::ERROR, "Error"),
        (tag::ENDED, "Ended"),
        (tag::RUN_EVENT, "Run"),
        (tag::MEDIA_SIGNAL, "Media"),
    ] {
        let heading = format!("### `0x{byte:02x} {name}`");
        assert!(doc.contains(&heading), "docs/protocol.md lacks {heading}");
    }
    for code in ErrorCode::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "docs/protocol.md lacks {}",
            code.as_str()
        );
    }
}

/// Golden encodings shared with the TypeScript codec's tests
/// (assets/test/protocol-fixtures.json): both sides must produce and accept these bytes.
/// Regenerate with `PAIRLINE_UPDATE_FIXTURES=1 cargo test --lib protocol`.
#[test]
fn encodings_match_the_shared_fixtures() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/test/protocol-fixtures.json");
    let hex = |bytes: Vec<u8>| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut fixtures = serde_json::Map::new();
    for (index, message) in client_messages().into_iter().enumerate() {
        fixtures.insert(
            format!("client_{index}_{}", variant_name(&format!("{message:?}"))),
            hex(message.encode()).into(),
        );
    }
    for (index, message) in server_messages().into_iter().enumerate() {
        fixtures.insert(
            format!("server_{index}_{}", variant_name(&format!("{message:?}"))),
            hex(message.encode()).into(),
        );
    }
    let expected = serde_json::to_string_pretty(&fixtures).unwrap() + "\n";
    if std::env::var_os("PAIRLINE_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &expected).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        stored, expected,
        "{path} is stale: run with PAIRLINE_UPDATE_FIXTURES=1"
    );
}

fn variant_name(debug: &str) -> String {
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_lowercase()
}
