//! UDP: bytes that parse re-emit byte-identically, and datagrams built from arbitrary field
//! values emit (with length and checksum computed) and parse back equal, with a good checksum.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::udp::UdpHeader;
use wirecheck_codec::ChecksumStatus;
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, emit_checked};

#[derive(Debug, Arbitrary)]
struct DatagramSpec {
    source: [u8; 4],
    destination: [u8; 4],
    source_port: u16,
    destination_port: u16,
    payload: Vec<u8>,
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = DatagramSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let addresses = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 7));
    let status = UdpHeader::verify_checksum(addresses.0, addresses.1, data);
    let Ok((header, payload)) = UdpHeader::parse(data) else {
        return;
    };
    assert_eq!(
        payload.len(),
        header.payload_len(),
        "payload bounded by the length field"
    );
    assert_eq!(payload, &data[8..usize::from(header.length)]);
    let exact = emit_checked("udp emit_exact", 8, |out| header.emit_exact(out))
        .expect("a parsed header re-emits");
    assert_same_bytes("udp emit_exact", &exact, &data[..8]);
    let _ = header.to_string();
    if header.checksum == 0 {
        assert_eq!(status, ChecksumStatus::Absent, "zero checksum is absent");
    }
    // Emitting the same header and payload computes the checksum the verifier expects.
    let mut out = vec![0; 8 + payload.len()];
    let n = header
        .emit(addresses.0, addresses.1, payload, &mut out)
        .expect("a parsed datagram fits in 16 bits");
    assert_eq!(&out[8..n], payload);
    assert_eq!(
        UdpHeader::verify_checksum(addresses.0, addresses.1, &out),
        ChecksumStatus::Good,
        "emit computes a good checksum: {}",
        wirecheck_fuzz::hex(&out)
    );
    if status == ChecksumStatus::Good {
        let (computed, _) = UdpHeader::parse(&out).expect("parses");
        // 0x0000 and 0xffff are the same one's complement number; emit never writes 0.
        if header.checksum != 0 {
            assert_eq!(
                computed.checksum, header.checksum,
                "good checksum recomputed"
            );
        }
    }
}

fn built_oracle(spec: &DatagramSpec) {
    let source = Ipv4Addr::from(spec.source);
    let destination = Ipv4Addr::from(spec.destination);
    let header = UdpHeader::new(spec.source_port, spec.destination_port);
    let len = 8 + spec.payload.len();
    let bytes = emit_checked("udp emit", len, |out| {
        header.emit(source, destination, &spec.payload, out)
    })
    .expect("a datagram under 64 KiB emits");
    let (parsed, payload) = UdpHeader::parse(&bytes).expect("emitted datagram parses");
    assert_eq!(payload, &spec.payload[..]);
    let expected = UdpHeader {
        length: len as u16,
        checksum: parsed.checksum,
        ..header
    };
    assert_round_trip("udp", &expected, &parsed, &bytes);
    assert_ne!(parsed.checksum, 0, "a computed zero is sent as 0xffff");
    assert_eq!(
        UdpHeader::verify_checksum(source, destination, &bytes),
        ChecksumStatus::Good
    );
}
