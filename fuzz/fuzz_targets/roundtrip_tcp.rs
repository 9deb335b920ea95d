//! TCP and its options: bytes that parse re-emit byte-identically (header and every option on
//! its own), and segments built from arbitrary field values and typed options emit and parse
//! back equal, with a good checksum.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::tcp::option::{SackBlock, SackBlocks, TcpOption, TcpOptions};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader};
use wirecheck_codec::ChecksumStatus;
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, capped, emit_checked, hex};

/// Kinds that parse as a typed variant: an `Unknown` built with one of these would read back as
/// that variant (or fail), so the built oracle gives `Unknown` other kinds.
const TYPED_KINDS: [u8; 14] = [0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 253, 254];

#[derive(Debug, Arbitrary)]
enum OptionSpec {
    EndOfList,
    NoOperation,
    MaximumSegmentSize(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamps(u32, u32),
    Md5Signature([u8; 16]),
    UserTimeout(bool, u16),
    Authentication(u8, u8, Vec<u8>),
    Multipath(u8, Vec<u8>),
    FastOpenCookie(Vec<u8>),
    Experimental(bool, u16, Vec<u8>),
    Unknown(u8, Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct SegmentSpec {
    source: [u8; 4],
    destination: [u8; 4],
    source_port: u16,
    destination_port: u16,
    sequence_number: u32,
    acknowledgment_number: u32,
    reserved: u8,
    flags: u16,
    window: u16,
    urgent_pointer: u16,
    options: Vec<OptionSpec>,
    payload: Vec<u8>,
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = SegmentSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let (source, destination) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 7));
    let _ = TcpHeader::verify_checksum(source, destination, data);
    // Any bytes as an options area: valid lists re-emit option by option.
    options_oracle(data.get(..40).unwrap_or(data));

    let Ok((header, payload)) = TcpHeader::parse(data) else {
        return;
    };
    let len = header.len();
    assert_eq!(
        len,
        header.header_len(),
        "parsed: data offset covers the options"
    );
    assert_eq!(len + payload.len(), data.len());
    let exact = emit_checked("tcp emit_exact", len, |out| header.emit_exact(out))
        .expect("a parsed header re-emits");
    assert_same_bytes("tcp emit_exact", &exact, &data[..len]);
    options_oracle(header.options.as_bytes());
    let _ = header.to_string();
    let _ = header.sequence_len(payload.len());

    // emit computes a checksum that verifies.
    let mut out = vec![0; data.len()];
    if let Ok(n) = header.emit(source, destination, payload, &mut out) {
        assert_eq!(n, data.len());
        assert_eq!(
            TcpHeader::verify_checksum(source, destination, &out),
            ChecksumStatus::Good,
            "emit computes a good checksum: {}",
            hex(&out)
        );
        let mut expected = data.to_vec();
        expected[16..18].copy_from_slice(&out[16..18]);
        assert_same_bytes("tcp emit (checksum aside)", &out, &expected);
    }
}

/// A valid options area is its options written one after the other, then padding.
fn options_oracle(area: &[u8]) {
    let Ok(options) = TcpOptions::new(area) else {
        assert!(
            TcpOptions::raw(area).iter_checked().any(|o| o.is_err()),
            "new refuses only lists with a malformed option"
        );
        return;
    };
    let list: Vec<TcpOption<'_>> = options.iter().collect();
    let mut out = vec![0u8; area.len()];
    let mut at = 0;
    for option in &list {
        let n = option
            .write(&mut out[at..])
            .unwrap_or_else(|e| panic!("parsed option {option:?} re-writes: {e}"));
        assert_eq!(n, option.len());
        let _ = option.to_string();
        at += n;
    }
    assert_eq!(
        at + options.padding().len(),
        area.len(),
        "options + padding = area"
    );
    out[at..].copy_from_slice(options.padding());
    assert_same_bytes("tcp options", &out, area);
    // The accessors agree with the list.
    let _ = (
        options.maximum_segment_size(),
        options.window_scale(),
        options.sack_permitted(),
        options.sack().map(|s| s.iter().count()),
        options.timestamps(),
        options.fast_open_cookie(),
    );
}

fn built_oracle(spec: &SegmentSpec) {
    let source = Ipv4Addr::from(spec.source);
    let destination = Ipv4Addr::from(spec.destination);

    // Option value bytes live in these buffers; options borrow them.
    let specs = capped(
        spec.options
            .iter()
            // An early End of List would make everything after it padding.
            .filter(|o| !matches!(o, OptionSpec::EndOfList))
            .collect(),
        12,
    );
    let mut sack_buffers = vec![[0u8; 32]; specs.len()];
    let mut options = Vec::new();
    for (o, buffer) in specs.iter().zip(sack_buffers.iter_mut()) {
        let option = match o {
            OptionSpec::EndOfList => TcpOption::EndOfList,
            OptionSpec::NoOperation => TcpOption::NoOperation,
            OptionSpec::MaximumSegmentSize(v) => TcpOption::MaximumSegmentSize(*v),
            OptionSpec::WindowScale(v) => TcpOption::WindowScale(*v),
            OptionSpec::SackPermitted => TcpOption::SackPermitted,
            OptionSpec::Sack(blocks) => {
                let blocks: Vec<SackBlock> = blocks
                    .iter()
                    .map(|&(left, right)| SackBlock { left, right })
                    .collect();
                let encoded = SackBlocks::encode(&blocks, buffer);
                assert_eq!(encoded.is_ok(), (1..=4).contains(&blocks.len()));
                match encoded {
                    Ok(b) => {
                        assert!(b.iter().eq(blocks.iter().copied()), "SACK blocks encode");
                        TcpOption::Sack(b)
                    }
                    Err(_) => continue,
                }
            }
            OptionSpec::Timestamps(value, echo_reply) => TcpOption::Timestamps {
                value: *value,
                echo_reply: *echo_reply,
            },
            OptionSpec::Md5Signature(digest) => TcpOption::Md5Signature(digest),
            OptionSpec::UserTimeout(g, t) => TcpOption::UserTimeout {
                granularity_minutes: *g,
                timeout: t & 0x7fff,
            },
            OptionSpec::Authentication(key_id, rnext_key_id, mac) => TcpOption::Authentication {
                key_id: *key_id,
                rnext_key_id: *rnext_key_id,
                mac,
            },
            OptionSpec::Multipath(first, rest) => {
                // The subtype is the high nibble of the first data byte.
                let _ = (first, rest);
                continue;
            }
            OptionSpec::FastOpenCookie(cookie) => TcpOption::FastOpenCookie(cookie),
            OptionSpec::Experimental(second, exid, data) => TcpOption::Experimental {
                kind: if *second { 254 } else { 253 },
                exid: *exid,
                data,
            },
            OptionSpec::Unknown(kind, data) => {
                if TYPED_KINDS.contains(kind) {
                    continue;
                }
                TcpOption::Unknown { kind: *kind, data }
            }
        };
        options.push(option);
    }
    // Multipath options borrow their data including the subtype byte.
    let multipath: Vec<Vec<u8>> = specs
        .iter()
        .filter_map(|o| match o {
            OptionSpec::Multipath(first, rest) => {
                let mut d = vec![*first];
                d.extend_from_slice(rest);
                Some(d)
            }
            _ => None,
        })
        .collect();
    for d in &multipath {
        options.push(TcpOption::Multipath {
            subtype: d[0] >> 4,
            data: d,
        });
    }

    let mut area = [0u8; 40];
    let Ok(area_len) = TcpOption::write_all(&options, &mut area) else {
        let total: usize = options.iter().map(|o| o.len()).sum();
        assert!(
            total > 40 || options.iter().any(|o| o.len() > 255),
            "write_all refused {options:?}"
        );
        return;
    };
    let area = &area[..area_len];
    let parsed_options = TcpOptions::new(area)
        .unwrap_or_else(|e| panic!("written options {options:?} parse: {e} ({})", hex(area)));
    let read: Vec<TcpOption<'_>> = parsed_options.iter().collect();
    // Padding, if any, reads as End of List and padding.
    let padded = area_len > options.iter().map(|o| o.len()).sum::<usize>();
    let mut expected = options.clone();
    if padded {
        expected.push(TcpOption::EndOfList);
    }
    assert_round_trip("tcp options", &expected, &read, area);

    let header = TcpHeader {
        source_port: spec.source_port,
        destination_port: spec.destination_port,
        sequence_number: spec.sequence_number,
        acknowledgment_number: spec.acknowledgment_number,
        data_offset: 0,
        reserved: spec.reserved & 0x0f,
        flags: TcpFlags(spec.flags & 0x03ff),
        window: spec.window,
        checksum: 0,
        urgent_pointer: spec.urgent_pointer,
        options: parsed_options,
    };
    let valid = header.reserved <= 7 && header.flags.0 <= TcpFlags::ALL.0;
    let len = header.len() + spec.payload.len();
    let emitted = emit_checked("tcp emit", len, |out| {
        header.emit(source, destination, &spec.payload, out)
    });
    if !valid {
        assert!(
            emitted.is_err(),
            "emit refuses reserved bits or flags that do not fit"
        );
        return;
    }
    let bytes = emitted.expect("a valid segment emits");
    let (parsed, payload) = TcpHeader::parse(&bytes).expect("emitted segment parses");
    assert_eq!(payload, &spec.payload[..]);
    let expected = TcpHeader {
        data_offset: (header.len() / 4) as u8,
        checksum: parsed.checksum,
        ..header
    };
    assert_round_trip("tcp", &expected, &parsed, &bytes);
    assert_eq!(
        TcpHeader::verify_checksum(source, destination, &bytes),
        ChecksumStatus::Good
    );
}
