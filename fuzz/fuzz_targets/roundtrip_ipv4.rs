//! IPv4 and its options: bytes that parse re-emit byte-identically (the header, and a valid
//! option list option by option), and headers built from arbitrary field values and typed
//! options emit (IHL, total length, padding and checksum computed) and parse back equal.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::ipv4::option::{
    Ipv4Option, Ipv4Options, OptionType, RouteData, SecurityData, TimestampData, TimestampFlag,
};
use wirecheck_codec::ipv4::{self, Ecn, IpProtocol, Ipv4Header};
use wirecheck_codec::ChecksumStatus;
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, capped, emit_checked, hex};

/// Types that parse as a typed variant; an `Unknown` of one of these would read back as that
/// variant (or fail), so built `Unknown` options take other types.
const TYPED_KINDS: [u8; 9] = [0, 1, 7, 68, 130, 131, 136, 137, 148];

#[derive(Debug, Arbitrary)]
enum OptionSpec {
    NoOperation,
    RecordRoute(u8, Vec<u8>),
    LooseSourceRoute(u8, Vec<u8>),
    StrictSourceRoute(u8, Vec<u8>),
    Timestamp(u8, u8, u8, Vec<u8>),
    RouterAlert(u16),
    Security(Vec<u8>),
    StreamId(u16),
    Unknown(u8, Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct HeaderSpec {
    dscp: u8,
    ecn: u8,
    identification: u16,
    reserved_flag: bool,
    dont_fragment: bool,
    more_fragments: bool,
    fragment_offset: u16,
    ttl: u8,
    protocol: u8,
    source: [u8; 4],
    destination: [u8; 4],
    options: Vec<OptionSpec>,
    end_of_list: bool,
    payload: Vec<u8>,
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    options_oracle(data.get(..40).unwrap_or(data));
    if let Ok(spec) = HeaderSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let Ok((header, rest, option_error)) = Ipv4Header::parse_header_lax(data) else {
        assert!(Ipv4Header::parse(data).is_err());
        return;
    };
    let header_len = header.header_len();
    if let Some(e) = option_error.filter(|e| e.is_truncation()) {
        // Options cut by the end of the bytes: the lax parse keeps what is there.
        assert_eq!(e.field, "options");
        assert_eq!(
            20 + header.options.len(),
            data.len(),
            "options run to the end"
        );
        assert!(rest.is_empty());
        assert!(Ipv4Header::parse(data).is_err());
        return;
    }
    assert_eq!(
        20 + header.options.len(),
        header_len,
        "options fill the IHL"
    );
    assert_eq!(header_len + rest.len(), data.len());
    let on_wire = &data[..header_len];
    let exact = emit_checked("ipv4 emit_exact", header_len, |out| header.emit_exact(out))
        .expect("a parsed header re-emits");
    assert_same_bytes("ipv4 emit_exact", &exact, on_wire);
    assert_eq!(header.checksum_status(), ipv4::verify_checksum(on_wire));
    let fixed = Ipv4Header {
        header_checksum: header.compute_checksum(),
        ..header
    };
    assert_eq!(
        fixed.checksum_status(),
        ChecksumStatus::Good,
        "computed checksum is good"
    );
    let _ = header.to_string();
    let _ = (
        header.payload_len(),
        header.fragment_offset_bytes(),
        header.is_fragment(),
    );

    let strict = Ipv4Header::parse_header(data);
    assert_eq!(
        strict.is_ok(),
        option_error.is_none(),
        "strict and lax agree on the options"
    );
    if option_error.is_none() {
        options_oracle(header.options.as_bytes());
        // emit computes the same bytes, but for total length and checksum.
        let payload_len = rest.len().min(65535 - header_len);
        let emitted = emit_checked("ipv4 emit", header_len, |out| header.emit(payload_len, out))
            .expect("a parsed header emits");
        let mut expected = on_wire.to_vec();
        expected[2..4].copy_from_slice(&((header_len + payload_len) as u16).to_be_bytes());
        expected[10..12].copy_from_slice(&emitted[10..12]);
        assert_same_bytes("ipv4 emit", &emitted, &expected);
        assert_eq!(ipv4::verify_checksum(&emitted), ChecksumStatus::Good);
    }
    if let Ok((h, payload)) = Ipv4Header::parse(data) {
        assert_eq!(h, header);
        assert_eq!(header_len + payload.len(), usize::from(h.total_length));
    }
}

/// A valid option list is its options written one after the other, then the padding.
fn options_oracle(area: &[u8]) {
    let Ok(options) = Ipv4Options::parse(area) else {
        // Unchecked, the list still iterates (stopping at the first bad option).
        let raw = Ipv4Options::raw(area);
        let _ = raw.iter().count();
        let _ = raw.padding();
        return;
    };
    let list: Vec<Ipv4Option<'_>> = options.iter().collect();
    let mut out = vec![0u8; area.len()];
    let at = Ipv4Option::write_all(&list, &mut out)
        .unwrap_or_else(|e| panic!("parsed options {list:?} re-write: {e}"));
    let padding = options.padding();
    assert_eq!(at + padding.len(), area.len(), "options + padding = area");
    out[at..].copy_from_slice(padding);
    assert_same_bytes("ipv4 options", &out, area);
    for option in &list {
        let _ = (
            option.kind().name(),
            option.kind().copied(),
            option.is_source_route(),
        );
        if let Some(entries) = option.timestamps() {
            let _ = entries.count();
        }
        match option {
            Ipv4Option::RecordRoute { pointer, route }
            | Ipv4Option::LooseSourceRoute { pointer, route }
            | Ipv4Option::StrictSourceRoute { pointer, route } => {
                let _ = (
                    route.iter().count(),
                    route.trailing(),
                    route.at_pointer(*pointer),
                );
            }
            Ipv4Option::Security { data } => {
                let _ = (
                    data.rfc791(),
                    data.classification_level(),
                    data.protection_authority(),
                );
            }
            _ => {}
        }
    }
    let mut copied = [0u8; 40];
    let n = options
        .write_copied(&mut copied)
        .expect("copied options fit in 40 bytes");
    let again = Ipv4Options::raw(&copied[..n]);
    assert!(
        again.iter().all(|o| o.kind().copied()),
        "only copied options are copied"
    );
}

fn built_oracle(spec: &HeaderSpec) {
    let mut options = Vec::new();
    for o in capped(spec.options.iter().collect(), 10) {
        options.push(match o {
            OptionSpec::NoOperation => Ipv4Option::NoOperation,
            OptionSpec::RecordRoute(pointer, route) => Ipv4Option::RecordRoute {
                pointer: *pointer,
                route: RouteData(route),
            },
            OptionSpec::LooseSourceRoute(pointer, route) => Ipv4Option::LooseSourceRoute {
                pointer: *pointer,
                route: RouteData(route),
            },
            OptionSpec::StrictSourceRoute(pointer, route) => Ipv4Option::StrictSourceRoute {
                pointer: *pointer,
                route: RouteData(route),
            },
            OptionSpec::Timestamp(pointer, overflow, flag, data) => Ipv4Option::Timestamp {
                pointer: *pointer,
                overflow: overflow & 0x0f,
                flag: TimestampFlag(flag & 0x0f),
                data: TimestampData(data),
            },
            OptionSpec::RouterAlert(value) => Ipv4Option::RouterAlert { value: *value },
            OptionSpec::Security(data) => Ipv4Option::Security {
                data: SecurityData(data),
            },
            OptionSpec::StreamId(id) => Ipv4Option::StreamId { id: *id },
            OptionSpec::Unknown(kind, data) => {
                if TYPED_KINDS.contains(kind) {
                    continue;
                }
                Ipv4Option::Unknown {
                    kind: OptionType(*kind),
                    data,
                }
            }
        });
    }
    if spec.end_of_list {
        options.push(Ipv4Option::EndOfList);
    }
    let total: usize = options.iter().map(Ipv4Option::len).sum();
    if total > Ipv4Options::MAX_LEN {
        return;
    }
    let mut buffer = [0u8; 40];
    let n = Ipv4Option::write_all(&options, &mut buffer)
        .unwrap_or_else(|e| panic!("options {options:?} of {total} bytes write: {e}"));
    assert_eq!(n, total);
    let Ok(checked) = Ipv4Options::parse(&buffer[..n]) else {
        return; // a bad pointer or length: such options are for crafting bad packets
    };
    let read: Vec<Ipv4Option<'_>> = checked.iter().collect();
    assert_round_trip("ipv4 options", &options, &read, &buffer[..n]);

    let header = Ipv4Header {
        version: 4,
        ihl: 0,
        dscp: spec.dscp & 0x3f,
        ecn: Ecn::from_bits(spec.ecn),
        total_length: 0,
        identification: spec.identification,
        reserved_flag: spec.reserved_flag,
        dont_fragment: spec.dont_fragment,
        more_fragments: spec.more_fragments,
        fragment_offset: spec.fragment_offset & 0x1fff,
        ttl: spec.ttl,
        protocol: IpProtocol(spec.protocol),
        header_checksum: 0,
        source: Ipv4Addr::from(spec.source),
        destination: Ipv4Addr::from(spec.destination),
        options: checked,
    };
    let header_len = header.len();
    assert_eq!(header_len % 4, 0);
    let mut bytes = emit_checked("ipv4 emit", header_len, |out| {
        header.emit(spec.payload.len(), out)
    })
    .expect("a header with ≤ 40 option bytes emits");
    bytes.extend_from_slice(&spec.payload);
    let (parsed, payload) = Ipv4Header::parse(&bytes)
        .unwrap_or_else(|e| panic!("emitted datagram parses: {e} ({})", hex(&bytes)));
    assert_eq!(payload, &spec.payload[..]);
    // Options come back padded with zeros (End of Option List) to a multiple of 4.
    let padded = &bytes[20..header_len];
    assert_eq!(&padded[..n], &buffer[..n]);
    assert!(padded[n..].iter().all(|&b| b == 0), "padding is zeros");
    let expected = Ipv4Header {
        ihl: (header_len / 4) as u8,
        total_length: bytes.len() as u16,
        header_checksum: parsed.header_checksum,
        options: Ipv4Options::raw(padded),
        ..header
    };
    assert_round_trip("ipv4", &expected, &parsed, &bytes);
    assert_eq!(parsed.checksum_status(), ChecksumStatus::Good);
    assert_eq!(
        ipv4::verify_checksum(&bytes[..header_len]),
        ChecksumStatus::Good
    );
}
