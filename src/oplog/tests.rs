use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT};

use super::*;

/// `count` changes made one after the other by one actor, each depending on the last.
fn chain(actor: u8, count: usize) -> Vec<Bytes> {
    let mut doc = Automerge::new().with_actor(ActorId::from(&[actor; 16][..]));
    let mut changes = Vec::new();
    let mut tx = doc.transaction();
    let text = tx.put_object(ROOT, "code", ObjType::Text).unwrap();
    tx.commit();
    changes.push(Bytes::copy_from_slice(
        doc.get_last_local_change().unwrap().raw_bytes(),
    ));
    for n in 1..count {
        let mut tx = doc.transaction();
        tx.splice_text(&text, 0, 0, &n.to_string()).unwrap();
        tx.commit();
        changes.push(Bytes::copy_from_slice(
            doc.get_last_local_change().unwrap().raw_bytes(),
        ));
    }
    changes
}

fn accepted_seqs(result: Result<Ingested, Refused>) -> Vec<u64> {
    match result {
        Ok(Ingested::Accepted(entries)) => entries.iter().map(|entry| entry.seq).collect(),
        other => panic!("expected acceptance, got {other:?}"),
    }
}

#[test]
fn changes_get_dense_sequence_numbers_and_duplicates_keep_theirs() {
    let changes = chain(1, 3);
    let mut log = OpLog::new(&[], 10);
    for (index, change) in changes.iter().enumerate() {
        assert_eq!(
            accepted_seqs(log.ingest(7, change.clone(), 100)),
            vec![index as u64 + 1]
        );
    }
    assert_eq!(log.max_seq(), 3);
    let hash = change::parse(&changes[1]).unwrap().hash;
    assert_eq!(
        log.ingest(8, changes[1].clone(), 200),
        Ok(Ingested::Duplicate { hash, seq: 2 })
    );
    assert_eq!(log.len(), 3);
}

#[test]
fn a_change_waits_for_its_dependencies_then_comes_in_causal_order() {
    let changes = chain(1, 4);
    let mut log = OpLog::new(&[], 10);
    accepted_seqs(log.ingest(1, changes[0].clone(), 0));
    let third = change::parse(&changes[2]).unwrap();
    let second = change::parse(&changes[1]).unwrap();
    assert_eq!(
        log.ingest(1, changes[3].clone(), 0),
        Ok(Ingested::Held {
            missing: vec![third.hash]
        })
    );
    assert_eq!(
        log.ingest(1, changes[2].clone(), 0),
        Ok(Ingested::Held {
            missing: vec![second.hash]
        })
    );
    assert_eq!(log.ingest(1, changes[2].clone(), 0), Ok(Ingested::AlreadyHeld));
    let Ok(Ingested::Accepted(entries)) = log.ingest(1, changes[1].clone(), 0) else {
        panic!("the missing link releases the rest");
    };
    let released: Vec<_> = entries.iter().map(|e| (e.seq, e.bytes.clone())).collect();
    assert_eq!(
        released,
        vec![
            (2, changes[1].clone()),
            (3, changes[2].clone()),
            (4, changes[3].clone())
        ]
    );
}

#[test]
fn garbage_and_forged_changes_are_refused() {
    let mut log = OpLog::new(&[], 10);
    for garbage in [&b""[..], b"hello", &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 0]] {
        assert!(matches!(
            log.ingest(1, Bytes::copy_from_slice(garbage), 0),
            Err(Refused::Invalid(InvalidChange::Unparsable(_)))
        ));
    }
    let mut corrupted = chain(1, 1)[0].to_vec();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 0xff;
    assert!(
        log.ingest(1, Bytes::from(corrupted), 0).is_err(),
        "a corrupted change"
    );

    // The same actor and sequence number with different content.
    accepted_seqs(log.ingest(1, chain(9, 2)[0].clone(), 0));
    let mut other = Automerge::new().with_actor(ActorId::from(&[9; 16][..]));
    let mut tx = other.transaction();
    tx.put(ROOT, "language", "go").unwrap();
    tx.commit();
    let forged = Bytes::copy_from_slice(other.get_last_local_change().unwrap().raw_bytes());
    assert!(matches!(
        log.ingest(2, forged, 0),
        Err(Refused::Invalid(InvalidChange::ReusedSequenceNumber {
            actor_seq: 1,
            ..
        }))
    ));
}

#[test]
fn held_changes_are_bounded_per_peer_and_expire() {
    let changes = chain(1, 5);
    let mut log = OpLog::new(&[], 2);
    assert!(matches!(
        log.ingest(4, changes[2].clone(), 1_000),
        Ok(Ingested::Held { .. })
    ));
    assert!(matches!(
        log.ingest(4, changes[3].clone(), 2_000),
        Ok(Ingested::Held { .. })
    ));
    assert_eq!(
        log.ingest(4, changes[4].clone(), 3_000),
        Err(Refused::TooManyHeld(2))
    );
    assert!(
        matches!(
            log.ingest(5, changes[4].clone(), 3_000),
            Ok(Ingested::Held { .. })
        ),
        "the limit is per peer"
    );

    assert_eq!(log.peers_held_too_long(5_000, 10_000), Vec::<PeerId>::new());
    assert_eq!(log.peers_held_too_long(11_500, 10_000), vec![4]);
    log.forget_held_from(4);
    assert_eq!(log.peers_held_too_long(20_000, 10_000), vec![5]);
    // Peer 4's changes are gone: the chain now releases only what peer 5 still holds.
    accepted_seqs(log.ingest(1, changes[0].clone(), 0));
    accepted_seqs(log.ingest(1, changes[1].clone(), 0));
    assert_eq!(
        log.ingest(1, changes[2].clone(), 0)
            .map(|i| matches!(i, Ingested::Accepted(e) if e.len() == 1)),
        Ok(true)
    );
}

#[test]
fn the_index_rebuilt_from_storage_knows_hashes_and_actor_sequences() {
    let changes = chain(3, 3);
    let rows: Vec<ChangeIndexRow> = changes[..2]
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            let meta = change::parse(bytes).unwrap();
            ChangeIndexRow {
                seq: index as i64 + 1,
                hash: meta.hash.to_vec(),
                actor: meta.actor,
                actor_seq: meta.actor_seq as i64,
            }
        })
        .collect();
    let mut log = OpLog::new(&rows, 10);
    assert_eq!(log.max_seq(), 2);
    let hash = change::parse(&changes[0]).unwrap().hash;
    assert_eq!(
        log.ingest(1, changes[0].clone(), 0),
        Ok(Ingested::Duplicate { hash, seq: 1 })
    );
    assert_eq!(accepted_seqs(log.ingest(1, changes[2].clone(), 0)), vec![3]);
    let hashes: Vec<Hash> = changes.iter().map(|c| change::parse(c).unwrap().hash).collect();
    assert!(log.unknown(&hashes).is_empty());
    assert_eq!(log.unknown(&[[0; 32]]), vec![[0; 32]]);
}
