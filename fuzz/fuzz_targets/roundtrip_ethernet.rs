//! Ethernet II and VLAN tags: bytes that parse re-emit byte-identically, and headers built from
//! arbitrary field values emit and parse back equal.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr, VlanTag, VlanTags};
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, capped, emit_checked};

const TPIDS: [u16; 3] = [0x8100, 0x88a8, 0x9100];

#[derive(Debug, Arbitrary)]
struct TagSpec {
    /// Below 240: one of TPIDS; otherwise `raw_tpid` (mostly not a TPID: must be refused).
    tpid_choice: u8,
    raw_tpid: u16,
    pcp: u8,
    dei: bool,
    vid: u16,
}

#[derive(Debug, Arbitrary)]
struct HeaderSpec {
    destination: [u8; 6],
    source: [u8; 6],
    tags: Vec<TagSpec>,
    ether_type: u16,
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = HeaderSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let Ok((header, payload)) = EthernetHeader::parse(data) else {
        return;
    };
    let len = header.len();
    assert_eq!(len + payload.len(), data.len(), "header + payload = input");
    let exact = emit_checked("ethernet emit_exact", len, |out| header.emit_exact(out))
        .expect("a parsed header re-emits");
    assert_same_bytes("ethernet emit_exact", &exact, &data[..len]);
    // Nothing is computed for Ethernet: emit writes the same bytes.
    let emitted = emit_checked("ethernet emit", len, |out| header.emit(out))
        .expect("a parsed header's innermost type is not a TPID");
    assert_same_bytes("ethernet emit", &emitted, &data[..len]);
    for (i, tag) in header.vlan.iter().enumerate() {
        assert_eq!(
            &tag.to_bytes()[..],
            &data[12 + 4 * i..16 + 4 * i],
            "VLAN tag {i} re-encodes"
        );
        let _ = tag.to_string();
    }
    assert_eq!(header.vlan.iter().count() * 4 + 14, len);
    let _ = header.to_string();
}

fn built_oracle(spec: HeaderSpec) {
    let tags: Vec<VlanTag> = capped(spec.tags, 8)
        .into_iter()
        .map(|t| VlanTag {
            tpid: EtherType(if t.tpid_choice < 240 {
                TPIDS[usize::from(t.tpid_choice) % 3]
            } else {
                t.raw_tpid
            }),
            // One bit too wide, so that half the values are out of range and must be refused.
            pcp: t.pcp & 0x0f,
            dei: t.dei,
            vid: t.vid & 0x1fff,
        })
        .collect();
    let valid_tags = tags
        .iter()
        .all(|t| t.tpid.is_vlan_tpid() && t.pcp <= VlanTag::MAX_PCP && t.vid <= VlanTag::MAX_VID);
    let mut tag_bytes = [0u8; 32];
    let written = VlanTags::write(&tags, &mut tag_bytes);
    assert_eq!(
        written.is_ok(),
        valid_tags,
        "VlanTags::write accepts exactly the valid tags"
    );
    let Ok(n) = written else { return };
    let vlan = VlanTags::new(&tag_bytes[..n]).expect("written tags are valid tag bytes");
    let header = EthernetHeader {
        destination: MacAddr(spec.destination),
        source: MacAddr(spec.source),
        vlan,
        ether_type: EtherType(spec.ether_type),
    };
    let emitted = emit_checked("ethernet emit", header.len(), |out| header.emit(out));
    if header.ether_type.is_vlan_tpid() {
        assert!(
            emitted.is_err(),
            "emit refuses a TPID as the innermost type"
        );
        return;
    }
    let bytes = emitted.expect("a valid header emits");
    let (parsed, payload) = EthernetHeader::parse(&bytes).expect("emitted header parses");
    assert!(payload.is_empty());
    assert_round_trip("ethernet", &header, &parsed, &bytes);
    let parsed_tags: Vec<VlanTag> = parsed.vlan.iter().collect();
    assert_round_trip("vlan tags", &tags, &parsed_tags, &bytes);
}
