//! ICMPv4: bytes that parse re-emit byte-identically; `emit` of anything parsed gives a good
//! checksum and is stable (emit, parse, emit again gives the same bytes); messages built from
//! arbitrary field values emit and parse back equal (with the computed fields — checksum,
//! RFC 4884 length and quote padding, router count, extension checksum — as emit sets them).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::icmp::{
    self, AddressMask, DestinationUnreachable, Echo, ExtendedEchoReply, ExtendedEchoReplyCode,
    ExtendedEchoRequest, ExtendedEchoState, ExtensionObjects, IcmpBody, IcmpExtensions,
    IcmpMessage, IcmpType, Information, ParameterProblem, ParameterProblemCode, Redirect,
    RedirectCode, RouterAdvertisement, RouterEntry, RouterSolicitation, SourceQuench, TimeExceeded,
    TimeExceededCode, Timestamp, Traceroute, Unknown, UnreachableCode,
};
use wirecheck_codec::ChecksumStatus;
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, capped, emit_checked, hex};

#[derive(Debug, Arbitrary)]
enum BodySpec {
    Echo(bool, u8, u16, u16, Vec<u8>),
    DestinationUnreachable(u8, u8, u16, Vec<u8>, Option<Vec<u8>>),
    SourceQuench(u8, u32, Vec<u8>),
    Redirect(u8, [u8; 4], Vec<u8>),
    RouterAdvertisement(u8, u16, Vec<([u8; 4], i32)>),
    RouterSolicitation(u8, u32),
    TimeExceeded(u8, u8, u16, Vec<u8>, Option<Vec<u8>>),
    ParameterProblem(u8, u8, u16, Vec<u8>, Option<Vec<u8>>),
    Timestamp(bool, u8, u16, u16, u32, u32, u32),
    Information(bool, u8, u16, u16),
    AddressMask(bool, u8, u16, u16, [u8; 4]),
    Traceroute(u8, u16, u16, u16, u16, u32, u32),
    ExtendedEchoRequest(u8, u16, u8, u8, bool, Vec<u8>),
    ExtendedEchoReply(u8, u16, u8, u8, u8, bool, bool, bool, Vec<u8>),
    Unknown(u8, u8, [u8; 4], Vec<u8>),
}

/// Types with a body of their own: built `Unknown` messages take other types.
fn decoded_type(t: u8) -> bool {
    matches!(t, 0 | 3 | 4 | 5 | 8..=18 | 30 | 42 | 43)
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = BodySpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let _ = icmp::verify_checksum(data);
    let Ok((message, rest)) = IcmpMessage::parse(data) else {
        return;
    };
    let consumed = data.len() - rest.len();
    assert_eq!(
        message.exact_len(),
        consumed,
        "exact_len is the bytes parsed"
    );
    let exact = emit_checked("icmp emit_exact", consumed, |out| message.emit_exact(out))
        .expect("a parsed message re-emits");
    assert_same_bytes("icmp emit_exact", &exact, &data[..consumed]);
    let _ = message.to_string();
    let _ = (
        message.is_error(),
        message.is_query(),
        message.icmp_type().name(),
    );
    let _ = message.body.legacy_extensions();
    if let Some(ext) = message.body.extensions() {
        let _ = (ext.iter().count(), ext.compute_checksum());
    }
    match &message.body {
        IcmpBody::RouterAdvertisement(ra) => {
            let _ = ra.entries().count();
        }
        IcmpBody::ExtendedEchoRequest(r) => {
            let _ = r.extension_structure();
        }
        _ => {}
    }

    // emit: checksum good, and stable under parse → emit.
    let Ok(emitted) = emit_checked("icmp emit", message.len(), |out| message.emit(out)) else {
        return; // values emit refuses (a quote too long to pad, …)
    };
    assert_eq!(
        icmp::verify_checksum(&emitted),
        ChecksumStatus::Good,
        "emit computes a good checksum: {}",
        hex(&emitted)
    );
    let (again, again_rest) = IcmpMessage::parse(&emitted)
        .unwrap_or_else(|e| panic!("emitted message parses: {e} ({})", hex(&emitted)));
    assert!(again_rest.is_empty(), "emit writes only the message");
    let twice =
        emit_checked("icmp emit twice", again.len(), |out| again.emit(out)).expect("re-emits");
    assert_same_bytes("icmp emit is stable", &twice, &emitted);
}

fn built_oracle(spec: &BodySpec) {
    let mut entry_bytes = vec![0u8; 255 * 8];
    let body = match spec {
        BodySpec::Echo(reply, code, identifier, sequence, data) => {
            let echo = Echo {
                code: *code,
                identifier: *identifier,
                sequence: *sequence,
                data,
            };
            if *reply {
                IcmpBody::EchoReply(echo)
            } else {
                IcmpBody::EchoRequest(echo)
            }
        }
        BodySpec::DestinationUnreachable(code, unused, mtu, quoted, objects) => {
            let Some(extensions) = extensions(objects) else {
                return;
            };
            IcmpBody::DestinationUnreachable(DestinationUnreachable {
                code: UnreachableCode(*code),
                unused: *unused,
                length: 0,
                next_hop_mtu: *mtu,
                quoted,
                extensions,
            })
        }
        BodySpec::SourceQuench(code, unused, quoted) => IcmpBody::SourceQuench(SourceQuench {
            code: *code,
            unused: *unused,
            quoted,
        }),
        BodySpec::Redirect(code, gateway, quoted) => IcmpBody::Redirect(Redirect {
            code: RedirectCode(*code),
            gateway: Ipv4Addr::from(*gateway),
            quoted,
        }),
        BodySpec::RouterAdvertisement(code, lifetime, routers) => {
            let entries: Vec<RouterEntry<'_>> = capped(routers.clone(), 255)
                .into_iter()
                .map(|(a, p)| RouterEntry::new(Ipv4Addr::from(a), p))
                .collect();
            let n = RouterEntry::write(&entries, &mut entry_bytes).expect("entries fit");
            IcmpBody::RouterAdvertisement(RouterAdvertisement {
                code: *code,
                num_addrs: entries.len() as u8,
                addr_entry_size: RouterAdvertisement::ENTRY_SIZE,
                lifetime: *lifetime,
                entries: &entry_bytes[..n],
                extensions: &[],
            })
        }
        BodySpec::RouterSolicitation(code, reserved) => {
            IcmpBody::RouterSolicitation(RouterSolicitation {
                code: *code,
                reserved: *reserved,
            })
        }
        BodySpec::TimeExceeded(code, unused, tail, quoted, objects) => {
            let Some(extensions) = extensions(objects) else {
                return;
            };
            IcmpBody::TimeExceeded(TimeExceeded {
                code: TimeExceededCode(*code),
                unused: *unused,
                length: 0,
                unused_tail: *tail,
                quoted,
                extensions,
            })
        }
        BodySpec::ParameterProblem(code, pointer, tail, quoted, objects) => {
            let Some(extensions) = extensions(objects) else {
                return;
            };
            IcmpBody::ParameterProblem(ParameterProblem {
                code: ParameterProblemCode(*code),
                pointer: *pointer,
                length: 0,
                unused_tail: *tail,
                quoted,
                extensions,
            })
        }
        BodySpec::Timestamp(reply, code, identifier, sequence, o, r, t) => {
            let stamp = Timestamp {
                code: *code,
                identifier: *identifier,
                sequence: *sequence,
                originate: *o,
                receive: *r,
                transmit: *t,
            };
            if *reply {
                IcmpBody::TimestampReply(stamp)
            } else {
                IcmpBody::Timestamp(stamp)
            }
        }
        BodySpec::Information(reply, code, identifier, sequence) => {
            let info = Information {
                code: *code,
                identifier: *identifier,
                sequence: *sequence,
            };
            if *reply {
                IcmpBody::InformationReply(info)
            } else {
                IcmpBody::InformationRequest(info)
            }
        }
        BodySpec::AddressMask(reply, code, identifier, sequence, mask) => {
            let m = AddressMask {
                code: *code,
                identifier: *identifier,
                sequence: *sequence,
                mask: Ipv4Addr::from(*mask),
            };
            if *reply {
                IcmpBody::AddressMaskReply(m)
            } else {
                IcmpBody::AddressMaskRequest(m)
            }
        }
        BodySpec::Traceroute(code, identifier, unused, out_hops, ret_hops, speed, mtu) => {
            IcmpBody::Traceroute(Traceroute {
                code: *code,
                identifier: *identifier,
                unused: *unused,
                outbound_hop_count: *out_hops,
                return_hop_count: *ret_hops,
                output_link_speed: *speed,
                output_link_mtu: *mtu,
            })
        }
        BodySpec::ExtendedEchoRequest(code, identifier, sequence, reserved, local, ext) => {
            IcmpBody::ExtendedEchoRequest(ExtendedEchoRequest {
                code: *code,
                identifier: *identifier,
                sequence: *sequence,
                reserved: reserved & 0x7f,
                local: *local,
                extensions: ext,
            })
        }
        BodySpec::ExtendedEchoReply(code, identifier, sequence, state, reserved, a, v4, v6, d) => {
            IcmpBody::ExtendedEchoReply(ExtendedEchoReply {
                code: ExtendedEchoReplyCode(*code),
                identifier: *identifier,
                sequence: *sequence,
                state: ExtendedEchoState(state & 0x07),
                reserved: reserved & 0x03,
                active: *a,
                ipv4: *v4,
                ipv6: *v6,
                data: d,
            })
        }
        BodySpec::Unknown(t, code, rest_of_header, data) => {
            if decoded_type(*t) {
                return;
            }
            IcmpBody::Unknown(Unknown {
                icmp_type: IcmpType(*t),
                code: *code,
                rest_of_header: *rest_of_header,
                data,
            })
        }
    };
    let message = IcmpMessage::new(body);
    let Ok(bytes) = emit_checked("icmp emit", message.len(), |out| message.emit(out)) else {
        // Only an overlong padded quote is refused here.
        assert!(
            body.extensions().is_some() && body.quoted().is_some_and(|q| q.len() > 1020),
            "emit refused {message:?}"
        );
        return;
    };
    assert_eq!(icmp::verify_checksum(&bytes), ChecksumStatus::Good);
    let (parsed, rest) = IcmpMessage::parse(&bytes)
        .unwrap_or_else(|e| panic!("emitted message parses: {e} ({})", hex(&bytes)));
    assert!(rest.is_empty());

    // What emit computes, applied to the built value: with an extension structure, the quote
    // is padded with zeros to a 32-bit boundary and at least 128 octets, the length field counts
    // its words and the extension checksum is filled [RFC 4884 § 4.1, § 7].
    let padded_quote: Vec<u8> = match (body.quoted(), body.extensions()) {
        (Some(q), Some(_)) => {
            let mut v = q.to_vec();
            v.resize(q.len().div_ceil(4).max(32) * 4, 0);
            v
        }
        _ => Vec::new(),
    };
    let words = (padded_quote.len() / 4) as u8;
    let parsed_ext_checksum = parsed.body.extensions().map(|e| e.checksum);
    let mut expected = IcmpMessage {
        checksum: parsed.checksum,
        body,
    };
    let (q, w, c) = (&padded_quote[..], words, parsed_ext_checksum);
    match &mut expected.body {
        IcmpBody::DestinationUnreachable(b) => {
            fill(&mut b.quoted, &mut b.length, &mut b.extensions, q, w, c)
        }
        IcmpBody::TimeExceeded(b) => fill(&mut b.quoted, &mut b.length, &mut b.extensions, q, w, c),
        IcmpBody::ParameterProblem(b) => {
            fill(&mut b.quoted, &mut b.length, &mut b.extensions, q, w, c)
        }
        _ => {}
    }
    assert_round_trip("icmp", &expected, &parsed, &bytes);
    if let Some(e) = parsed.body.extensions() {
        let at = 8 + parsed.body.quoted().map_or(0, <[u8]>::len);
        assert_eq!(
            IcmpExtensions::verify_checksum(&bytes[at..]),
            ChecksumStatus::Good,
            "extension checksum computed: {e:?}"
        );
    }
}

/// An extension structure over arbitrary object bytes: `Some(None)` for none, `None` when the
/// bytes are not a valid object list.
fn extensions(objects: &Option<Vec<u8>>) -> Option<Option<IcmpExtensions<'_>>> {
    match objects {
        None => Some(None),
        Some(bytes) => ExtensionObjects::parse(bytes)
            .ok()
            .map(|o| Some(IcmpExtensions::new(o))),
    }
}

/// Sets the fields emit computes for an error message with an extension structure.
fn fill<'a>(
    quoted: &mut &'a [u8],
    length: &mut u8,
    ext: &mut Option<IcmpExtensions<'a>>,
    padded: &'a [u8],
    words: u8,
    checksum: Option<u16>,
) {
    if let (Some(e), Some(c)) = (ext.as_mut(), checksum) {
        *quoted = padded;
        *length = words;
        e.checksum = c;
    }
}
