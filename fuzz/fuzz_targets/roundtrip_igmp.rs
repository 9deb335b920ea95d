//! IGMP v1/v2/v3: bytes that parse re-emit byte-identically; `emit` of anything parsed gives a
//! good checksum and is stable; messages built from arbitrary field values (queries of every
//! version, reports with group records, leaves, unknown types) emit and parse back equal, with
//! the counts and checksum as emit computes them.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use wirecheck_codec::igmp::{
    self, GroupMessage, GroupRecord, GroupRecordType, GroupRecords, IgmpMessage, IgmpType, Query,
    QueryBody, QueryV3, SourceList, V3Report,
};
use wirecheck_codec::ChecksumStatus;
use wirecheck_fuzz::{assert_round_trip, assert_same_bytes, capped, emit_checked, hex};

#[derive(Debug, Arbitrary)]
struct RecordSpec {
    record_type: u8,
    multicast_address: [u8; 4],
    sources: Vec<[u8; 4]>,
    aux_words: Vec<[u8; 4]>,
}

#[derive(Debug, Arbitrary)]
enum MessageSpec {
    QueryV1OrV2(u8, [u8; 4]),
    QueryOtherLength(u8, [u8; 4], u8, [u8; 3]),
    QueryV3 {
        max_resp_code: u8,
        group: [u8; 4],
        resv: u8,
        s_flag: bool,
        qrv: u8,
        qqic: u8,
        sources: Vec<[u8; 4]>,
        additional_data: Vec<u8>,
    },
    Group(u8, u8, [u8; 4], Vec<u8>),
    V3Report {
        reserved1: u8,
        reserved2: u16,
        records: Vec<RecordSpec>,
        additional_data: Vec<u8>,
    },
    Unknown(u8, u8, Vec<u8>),
}

fuzz_target!(|data: &[u8]| {
    bytes_oracle(data);
    if let Ok(spec) = MessageSpec::arbitrary(&mut Unstructured::new(data)) {
        built_oracle(&spec);
    }
});

fn bytes_oracle(data: &[u8]) {
    let status = igmp::verify_checksum(data);
    let Ok(message) = IgmpMessage::parse(data) else {
        return;
    };
    assert_eq!(
        message.len(),
        data.len(),
        "every octet belongs to the message"
    );
    let exact = emit_checked("igmp emit_exact", data.len(), |out| message.emit_exact(out))
        .expect("a parsed message re-emits");
    assert_same_bytes("igmp emit_exact", &exact, data);
    let _ = message.to_string();
    let _ = (
        message.version(),
        message.max_resp(),
        message.group(),
        message.igmp_type().name(),
    );
    match &message {
        IgmpMessage::Query(q) => {
            let _ = (q.version(), q.is_general());
            if let Some(v3) = q.v3() {
                let _ = (
                    v3.query_interval(),
                    v3.sources.iter().count(),
                    v3.flags_octet(),
                );
            }
        }
        IgmpMessage::V3Report(r) => {
            assert_eq!(
                r.records.iter().count(),
                usize::from(r.number_of_group_records)
            );
            for record in r.records.iter() {
                let _ = (
                    record.record_type.to_string(),
                    record.sources.iter().count(),
                );
            }
        }
        _ => {}
    }

    let emitted = emit_checked("igmp emit", message.len(), |out| message.emit(out))
        .expect("a parsed message emits");
    assert_eq!(
        igmp::verify_checksum(&emitted),
        ChecksumStatus::Good,
        "emit computes a good checksum: {}",
        hex(&emitted)
    );
    // The counts were read from the bytes, so only the checksum can differ.
    let mut expected = data.to_vec();
    expected[2..4].copy_from_slice(&emitted[2..4]);
    assert_same_bytes("igmp emit (checksum aside)", &emitted, &expected);
    // A good checksum is recomputed as it was, but for the two one's-complement zeros (the
    // verifier accepts either for the other).
    let zero = |b: &[u8]| b == [0, 0] || b == [0xff, 0xff];
    if status == ChecksumStatus::Good && !(zero(&data[2..4]) && zero(&emitted[2..4])) {
        assert_same_bytes("igmp emit of a good message", &emitted, data);
    }
}

fn built_oracle(spec: &MessageSpec) {
    let mut source_bytes = vec![0u8; 4 * 64];
    let mut record_bytes = vec![0u8; 8 * 1024];
    let addresses = |list: &[[u8; 4]]| -> Vec<Ipv4Addr> {
        capped(list.to_vec(), 64)
            .into_iter()
            .map(Ipv4Addr::from)
            .collect()
    };
    let message = match spec {
        MessageSpec::QueryV1OrV2(code, group) => IgmpMessage::Query(Query {
            max_resp_code: *code,
            checksum: 0,
            group: Ipv4Addr::from(*group),
            body: QueryBody::V1OrV2,
        }),
        MessageSpec::QueryOtherLength(code, group, n, extra) => IgmpMessage::Query(Query {
            max_resp_code: *code,
            checksum: 0,
            group: Ipv4Addr::from(*group),
            body: QueryBody::OtherLength(&extra[..usize::from(n % 3) + 1]),
        }),
        MessageSpec::QueryV3 {
            max_resp_code,
            group,
            resv,
            s_flag,
            qrv,
            qqic,
            sources,
            additional_data,
        } => {
            let sources = addresses(sources);
            let n = SourceList::write(&sources, &mut source_bytes).expect("sources fit");
            IgmpMessage::Query(Query {
                max_resp_code: *max_resp_code,
                checksum: 0,
                group: Ipv4Addr::from(*group),
                body: QueryBody::V3(QueryV3 {
                    resv: resv & 0x0f,
                    s_flag: *s_flag,
                    qrv: qrv & 0x07,
                    qqic: *qqic,
                    number_of_sources: sources.len() as u16,
                    sources: SourceList::new(&source_bytes[..n]).expect("whole addresses"),
                    additional_data,
                }),
            })
        }
        MessageSpec::Group(kind, code, group, additional_data) => {
            let m = GroupMessage {
                code: *code,
                checksum: 0,
                group: Ipv4Addr::from(*group),
                additional_data,
            };
            match kind % 3 {
                0 => IgmpMessage::V1Report(m),
                1 => IgmpMessage::V2Report(m),
                _ => IgmpMessage::V2Leave(m),
            }
        }
        MessageSpec::V3Report {
            reserved1,
            reserved2,
            records,
            additional_data,
        } => {
            let records = capped(records.iter().collect::<Vec<_>>(), 16);
            // Each record's sources and aux data in a buffer of their own.
            let buffers: Vec<(Vec<u8>, Vec<u8>)> = records
                .iter()
                .map(|r| {
                    let s: Vec<u8> = addresses(&r.sources)
                        .iter()
                        .flat_map(|a| a.octets())
                        .collect();
                    let a: Vec<u8> = capped(r.aux_words.clone(), 16).concat();
                    (s, a)
                })
                .collect();
            let built: Vec<GroupRecord<'_>> = records
                .iter()
                .zip(&buffers)
                .map(|(r, (s, a))| GroupRecord {
                    record_type: GroupRecordType(r.record_type),
                    aux_data_len: (a.len() / 4) as u8,
                    number_of_sources: (s.len() / 4) as u16,
                    multicast_address: Ipv4Addr::from(r.multicast_address),
                    sources: SourceList::new(s).expect("whole addresses"),
                    aux_data: a,
                })
                .collect();
            let n = GroupRecords::write(&built, &mut record_bytes).expect("records fit");
            let group_records = GroupRecords::new(&record_bytes[..n]).expect("written records");
            assert!(
                group_records.iter().eq(built.iter().copied()),
                "group records read back as written"
            );
            IgmpMessage::V3Report(V3Report {
                reserved1: *reserved1,
                checksum: 0,
                reserved2: *reserved2,
                number_of_group_records: built.len() as u16,
                records: group_records,
                additional_data,
            })
        }
        MessageSpec::Unknown(kind, code, data) => {
            if matches!(*kind, 0x11 | 0x12 | 0x16 | 0x17 | 0x22) {
                return;
            }
            IgmpMessage::Unknown {
                igmp_type: IgmpType(*kind),
                code: *code,
                checksum: 0,
                data,
            }
        }
    };
    let bytes = emit_checked("igmp emit", message.len(), |out| message.emit(out))
        .expect("a built message emits");
    assert_eq!(igmp::verify_checksum(&bytes), ChecksumStatus::Good);
    let parsed = IgmpMessage::parse(&bytes)
        .unwrap_or_else(|e| panic!("emitted message parses: {e} ({})", hex(&bytes)));
    let mut expected = message;
    expected.set_checksum(parsed.checksum());
    assert_round_trip("igmp", &expected, &parsed, &bytes);
}
