//! The IPv4 reassembler driven by an arbitrary sequence of fragments (of a few datagrams, in any
//! order, overlapping, duplicated, conflicting, oversized), clock steps, expiry polls and buffer
//! recycling, under an arbitrary (small) configuration.
//!
//! Checked after every step:
//! - the memory bound: `held_bytes() <= max_bytes` and `in_flight() <= max_datagrams`;
//! - a completed datagram is consistent with the fragments given: its key is one that was
//!   pushed, its header is a good, unfragmented header for its length, and every payload octet
//!   is the octet some fragment of that key carried at that offset; its length is the end a last
//!   fragment (More Fragments clear) of that key gave;
//! - the deadline only moves forward past polls, and an expired datagram is one that was pushed
//!   at least `timeout` ago.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use wirecheck_codec::fragment::{
    Datagram, FragmentKey, Reassembler, ReassemblerConfig, MAX_DATAGRAM_LEN,
};
use wirecheck_codec::ipv4::{self, IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::time::{Duration, Instant};
use wirecheck_codec::ChecksumStatus;

#[derive(Debug, Arbitrary)]
struct ConfigSpec {
    max_datagrams: u8,
    /// Selects a byte limit from a few interesting sizes.
    max_bytes: u8,
    timeout_ms: u16,
    spare_buffers: u8,
}

#[derive(Debug, Arbitrary)]
enum Step {
    Fragment {
        /// One of four datagram keys.
        key: u8,
        /// In 8-octet units (13 bits).
        offset: u16,
        more: bool,
        len: u16,
        /// Octets differ from the "true" datagram's (a conflicting retransmission).
        corrupt: bool,
        protocol_tcp: bool,
        /// Option octets (a multiple of 4, up to 40) in the first fragment.
        options: u8,
    },
    /// Clock step, in milliseconds.
    Advance(u16),
    /// A big clock step, in seconds.
    Leap(u8),
    PollExpired,
    Recycle,
}

#[derive(Debug, Arbitrary)]
struct Input {
    config: ConfigSpec,
    steps: Vec<Step>,
}

const BYTE_LIMITS: [usize; 6] = [0, 100, 2_000, 70_000, 200_000, 4 << 20];

/// The octet of datagram `key` at payload offset `at`: honest fragments all agree on it.
fn octet(key: u8, at: usize, corrupt: bool) -> u8 {
    let v = (at as u32)
        .wrapping_mul(2_654_435_761)
        .rotate_left(u32::from(key)) as u8;
    if corrupt {
        !v
    } else {
        v
    }
}

fn key_fields(key: u8, tcp: bool) -> (Ipv4Addr, Ipv4Addr, IpProtocol, u16) {
    let k = key % 4;
    (
        Ipv4Addr::new(192, 0, 2, 1 + (k & 1)),
        Ipv4Addr::new(198, 51, 100, 7),
        if tcp {
            IpProtocol::TCP
        } else {
            IpProtocol::UDP
        },
        0x1000 + u16::from(k >> 1),
    )
}

/// Everything pushed for one key: offset → octets, and the ends given by last fragments.
#[derive(Default)]
struct Pushed {
    octets: HashMap<usize, Vec<u8>>,
    ends: Vec<usize>,
    first_pushed: Option<Instant>,
}

fuzz_target!(|input: Input| {
    let config = ReassemblerConfig {
        max_datagrams: usize::from(input.config.max_datagrams % 9),
        max_bytes: BYTE_LIMITS[usize::from(input.config.max_bytes) % BYTE_LIMITS.len()],
        timeout: Duration::from_millis(u64::from(input.config.timeout_ms)),
        spare_buffers: usize::from(input.config.spare_buffers % 5),
    };
    let mut reassembler = Reassembler::new(config);
    let mut now = Instant::from_secs(1_000);
    let mut pushed: HashMap<FragmentKey, Pushed> = HashMap::new();
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    let option_bytes = [1u8; 40]; // No Operation octets

    for step in input.steps.iter().take(200) {
        match *step {
            Step::Fragment {
                key,
                offset,
                more,
                len,
                corrupt,
                protocol_tcp,
                options,
            } => {
                let offset = offset & 0x1fff;
                let len = usize::from(len) % 2_048;
                let start = usize::from(offset) * 8;
                let payload: Vec<u8> = (start..start + len)
                    .map(|i| octet(key % 4, i, corrupt))
                    .collect();
                let (source, destination, protocol, identification) = key_fields(key, protocol_tcp);
                let options_len = usize::from(options % 11) * 4;
                let mut header = Ipv4Header::new(source, destination, protocol);
                header.identification = identification;
                header.more_fragments = more;
                header.fragment_offset = offset;
                header.options = Ipv4Options::raw(&option_bytes[..options_len]);
                header.total_length = (header.len() + len).min(65_535) as u16;
                header.ihl = (header.len() / 4) as u8;
                let fragment_key = FragmentKey::of(&header);
                let record = pushed.entry(fragment_key).or_default();
                record.first_pushed.get_or_insert(now);
                for (i, &b) in payload.iter().enumerate() {
                    record.octets.entry(start + i).or_default().push(b);
                }
                if !more {
                    record.ends.push(start + len);
                }

                let result = reassembler.push(now, &header, &payload);
                for finding in &result.findings {
                    let _ = (finding.to_string(), finding.discards_datagram());
                }
                if let Some(expired) = &result.expired {
                    check_expired(expired.key, expired.since, now, config.timeout, &pushed);
                    if let Some(first) = &expired.first_fragment {
                        check_first_fragment(first.header(), first.as_bytes());
                    }
                }
                match result.datagram {
                    None => {}
                    Some(Datagram::Whole {
                        header: h,
                        payload: p,
                    }) => {
                        assert!(
                            !h.is_fragment(),
                            "only unfragmented packets come back whole"
                        );
                        assert_eq!(p, &payload[..]);
                    }
                    Some(Datagram::Reassembled(r)) => {
                        check_reassembled(
                            fragment_key,
                            r.header(),
                            r.payload(),
                            r.as_bytes(),
                            &pushed[&fragment_key],
                        );
                        assert!(r.fragments() >= 1);
                        buffers.push(r.into_buffer());
                    }
                }
            }
            Step::Advance(ms) => now += Duration::from_millis(u64::from(ms)),
            Step::Leap(s) => now += Duration::from_secs(u64::from(s)),
            Step::PollExpired => {
                let mut polled = 0;
                while let Some(expired) = reassembler.poll_expired(now) {
                    check_expired(expired.key, expired.since, now, config.timeout, &pushed);
                    if let Some(first) = &expired.first_fragment {
                        check_first_fragment(first.header(), first.as_bytes());
                    }
                    polled += 1;
                    assert!(polled <= 200, "poll_expired keeps returning datagrams");
                }
                if let Some(deadline) = reassembler.next_deadline() {
                    assert!(
                        deadline > now,
                        "after polling, the next deadline is in the future"
                    );
                }
            }
            Step::Recycle => {
                if let Some(buffer) = buffers.pop() {
                    reassembler.recycle(buffer);
                }
            }
        }
        assert!(
            reassembler.held_bytes() <= config.max_bytes,
            "held {} bytes, limit {}",
            reassembler.held_bytes(),
            config.max_bytes
        );
        assert!(reassembler.spare_bytes() <= reassembler.held_bytes());
        assert!(
            reassembler.in_flight() <= config.max_datagrams,
            "{} datagrams in flight, limit {}",
            reassembler.in_flight(),
            config.max_datagrams
        );
    }
    reassembler.clear();
    assert_eq!(reassembler.held_bytes(), 0);
    assert_eq!(reassembler.in_flight(), 0);
});

fn check_expired(
    key: FragmentKey,
    since: Instant,
    now: Instant,
    timeout: Duration,
    pushed: &HashMap<FragmentKey, Pushed>,
) {
    let record = pushed.get(&key).expect("an expired datagram was pushed");
    assert!(
        record.first_pushed.is_some_and(|t| t <= since),
        "expired before it was pushed"
    );
    assert!(
        since + timeout <= now,
        "expired before its timeout: since {since}, now {now}"
    );
}

fn check_first_fragment(header: Ipv4Header<'_>, bytes: &[u8]) {
    assert_eq!(header.fragment_offset, 0, "the first fragment has offset 0");
    let (parsed, _) = Ipv4Header::parse_header(bytes).expect("the quoted first fragment parses");
    assert_eq!(parsed.source, header.source);
    assert!(
        bytes.len() <= header.len() + 8,
        "at most 8 octets of data are quoted"
    );
}

fn check_reassembled(
    key: FragmentKey,
    header: Ipv4Header<'_>,
    payload: &[u8],
    bytes: &[u8],
    record: &Pushed,
) {
    assert_eq!(FragmentKey::of(&header), key, "the datagram keeps its key");
    assert!(
        !header.more_fragments && header.fragment_offset == 0,
        "no longer a fragment"
    );
    assert_eq!(
        usize::from(header.total_length),
        header.len() + payload.len()
    );
    assert!(header.len() + payload.len() <= MAX_DATAGRAM_LEN);
    assert_eq!(
        header.checksum_status(),
        ChecksumStatus::Good,
        "header checksum recomputed"
    );
    assert!(
        record.ends.contains(&payload.len()),
        "length {} is not an end any last fragment gave ({:?})",
        payload.len(),
        record.ends
    );
    for (i, b) in payload.iter().enumerate() {
        let given = record.octets.get(&i).map(Vec::as_slice).unwrap_or_default();
        assert!(
            given.contains(b),
            "octet {i} is {b:#04x}, but the fragments carried {given:02x?} there"
        );
    }
    // The datagram as one slice: the header then the payload.
    let (parsed, data) = Ipv4Header::parse(bytes).expect("the reassembled datagram parses");
    assert_eq!(parsed, header);
    assert_eq!(data, payload);
    assert_eq!(
        ipv4::verify_checksum(&bytes[..header.len()]),
        ChecksumStatus::Good
    );
}
