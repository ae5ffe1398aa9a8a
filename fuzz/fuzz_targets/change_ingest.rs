//! Change ingestion as a room does it: the input is split into changes (a length byte,
//! then that many bytes, repeated) and each is fed to the log index from one of a few
//! peers. Nothing may panic, accepted changes get dense sequence numbers, and a change
//! is never accepted twice.
#![no_main]

use std::collections::HashSet;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pairline::oplog::{Ingested, OpLog};

fuzz_target!(|data: &[u8]| {
    let mut log = OpLog::new(&[], 8);
    let mut accepted = HashSet::new();
    let mut rest = data;
    let mut now = 0;
    while let Some((&header, tail)) = rest.split_first() {
        let len = usize::from(header & 0x7f).min(tail.len());
        let peer = u64::from(header >> 7);
        let (change, next) = tail.split_at(len);
        rest = next;
        now += 1_000;
        if let Ok(Ingested::Accepted(entries)) = log.ingest(peer, Bytes::copy_from_slice(change), now) {
            for entry in entries {
                assert!(accepted.insert(entry.meta.hash), "a change was accepted twice");
                assert_eq!(entry.seq, accepted.len() as u64, "sequence numbers are dense");
            }
        }
        log.peers_held_too_long(now, 5_000).into_iter().for_each(|peer| log.forget_held_from(peer));
    }
    assert_eq!(log.max_seq(), accepted.len() as u64);
});
