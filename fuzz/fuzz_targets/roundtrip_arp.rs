//! ARP/RARP, generic and Ethernet/IPv4: bytes that parse re-emit byte-identically, and packets
//! built from arbitrary field values emit and parse back equal.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation, ArpPacket, HardwareType};
use wirecheck_codec::ethernet::{EtherType, MacAddr};
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, emit_checked};

#[derive(Debug, Arbitrary)]
struct PacketSpec {
    hardware_type: u16,
    protocol_type: u16,
    operation: u16,
    /// Lengths of the address pairs (the target addresses take the same length, so that `new`
    /// accepts them, unless `mismatch`).
    hardware_len: u8,
    protocol_len: u8,
    mismatch: bool,
    fill: u8,
    typed: TypedSpec,
}

#[derive(Debug, Arbitrary)]
struct TypedSpec {
    operation: u16,
    sender_mac: [u8; 6],
    sender_ip: [u8; 4],
    target_mac: [u8; 6],
    target_ip: [u8; 4],
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = PacketSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    if let Ok((packet, rest)) = ArpPacket::parse(data) {
        let len = packet.len();
        assert_eq!(len + rest.len(), data.len(), "packet + rest = input");
        let exact = emit_checked("arp emit_exact", len, |out| packet.emit_exact(out))
            .expect("a parsed packet re-emits");
        assert_same_bytes("arp emit_exact", &exact, &data[..len]);
        // The lengths were read from the packet, so computing them gives the same bytes.
        let emitted =
            emit_checked("arp emit", len, |out| packet.emit(out)).expect("parsed lengths agree");
        assert_same_bytes("arp emit", &emitted, &data[..len]);
        let _ = packet.to_string();
        let _ = (packet.is_gratuitous(), packet.operation.is_rarp());

        // The Ethernet/IPv4 view exists exactly when the typed parser accepts the bytes, and
        // they agree.
        let view = packet.as_ethernet_ipv4();
        match ArpEthernetIpv4::parse(data) {
            Ok((typed, typed_rest)) => {
                assert_eq!(
                    view,
                    Some(typed),
                    "typed parse agrees with the generic view"
                );
                assert_eq!(typed_rest, rest);
                let bytes = emit_checked("arp typed", ArpEthernetIpv4::LEN, |out| {
                    typed.emit_exact(out)
                })
                .expect("re-emits");
                assert_same_bytes(
                    "arp typed emit_exact",
                    &bytes,
                    &data[..ArpEthernetIpv4::LEN],
                );
                let _ = typed.to_string();
                let _ = (
                    typed.is_probe(),
                    typed.is_announcement(),
                    typed.is_gratuitous(),
                );
            }
            Err(_) => assert_eq!(view, None, "typed parse refuses what the view has"),
        }
    } else {
        assert!(
            ArpEthernetIpv4::parse(data).is_err(),
            "typed parse accepts less"
        );
    }
}

fn built_oracle(spec: &PacketSpec) {
    let fill = |len: u8, salt: u8| -> Vec<u8> {
        (0..len)
            .map(|i| i.wrapping_mul(31) ^ spec.fill ^ salt)
            .collect()
    };
    let sha = fill(spec.hardware_len, 1);
    let spa = fill(spec.protocol_len, 2);
    let tha = fill(spec.hardware_len.wrapping_add(u8::from(spec.mismatch)), 3);
    let tpa = fill(spec.protocol_len, 4);
    let built = ArpPacket::new(
        HardwareType(spec.hardware_type),
        EtherType(spec.protocol_type),
        ArpOperation(spec.operation),
        &sha,
        &spa,
        &tha,
        &tpa,
    );
    if tha.len() != sha.len() {
        assert!(built.is_err(), "new refuses addresses of different lengths");
    } else {
        let packet = built.expect("addresses of equal lengths");
        let bytes = emit_checked("arp emit", packet.len(), |out| packet.emit(out)).expect("emits");
        let (parsed, rest) = ArpPacket::parse(&bytes).expect("emitted packet parses");
        assert!(rest.is_empty());
        assert_round_trip("arp", &packet, &parsed, &bytes);
    }

    let t = &spec.typed;
    let typed = ArpEthernetIpv4 {
        operation: ArpOperation(t.operation),
        sender_mac: MacAddr(t.sender_mac),
        sender_ip: Ipv4Addr::from(t.sender_ip),
        target_mac: MacAddr(t.target_mac),
        target_ip: Ipv4Addr::from(t.target_ip),
    };
    let bytes = emit_checked("arp typed emit", ArpEthernetIpv4::LEN, |out| {
        typed.emit(out)
    })
    .expect("emits");
    let (parsed, rest) = ArpEthernetIpv4::parse(&bytes).expect("emitted packet parses");
    assert!(rest.is_empty());
    assert_round_trip("arp typed", &typed, &parsed, &bytes);
    let (generic, _) = ArpPacket::parse(&bytes).expect("generic parse");
    assert_eq!(generic.as_ethernet_ipv4(), Some(typed));
}
