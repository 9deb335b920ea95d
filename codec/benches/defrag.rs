//! Reassembly throughput, wirecheck's `Reassembler` beside etherparse 0.21's `IpDefragPool`, in
//! the same run: one 64 KiB datagram (total length 65535) fragmented at MTU 1500 into 45
//! fragments, pushed in order, reversed and shuffled. Throughput counts payload octets.
//!
//! Both sides start from the fragments as IPv4 packets on the wire and parse them (our
//! `Ipv4Header::parse`, etherparse's `SlicedPacket::from_ip`), and both hand their buffers back
//! for reuse (our `recycle`, etherparse's `return_buf`). Before timing, each side's reassembled
//! payload is checked against the original.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use etherparse::defrag::IpDefragPool;
use etherparse::SlicedPacket;
use std::net::Ipv4Addr;
use wirecheck_codec::fragment::{fragment, Datagram, Reassembler};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::time::Instant;

const PAYLOAD_LEN: usize = 65535 - 20;
const MTU: u16 = 1500;

fn datagram_fragments() -> (Vec<u8>, Vec<Vec<u8>>) {
    let payload: Vec<u8> = (0..PAYLOAD_LEN)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
        .collect();
    let mut header = Ipv4Header::new(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(198, 51, 100, 2),
        IpProtocol::UDP,
    );
    header.identification = 0x4242;
    let fragments = fragment(&header, &payload, MTU)
        .expect("fragmentable")
        .map(|f| {
            let mut out = vec![0u8; f.len()];
            f.emit(&mut out).expect("buffer sized");
            out
        })
        .collect();
    (payload, fragments)
}

/// A fixed shuffle (xorshift), so every run measures the same order.
fn shuffled(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..v.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v.swap(i, (state % (i as u64 + 1)) as usize);
    }
    v
}

fn ours(r: &mut Reassembler, packets: &[Vec<u8>], check: Option<&[u8]>) {
    for p in packets {
        let (header, payload) = Ipv4Header::parse(p).expect("valid fragment");
        let push = r.push(Instant::ZERO, &header, payload);
        if let Some(Datagram::Reassembled(d)) = push.datagram {
            if let Some(expected) = check {
                assert_eq!(
                    d.payload(),
                    expected,
                    "wirecheck reassembled a different payload"
                );
            }
            black_box(d.payload());
            r.recycle(d.into_buffer());
        }
    }
}

fn etherparse(pool: &mut IpDefragPool, packets: &[Vec<u8>], check: Option<&[u8]>) {
    for p in packets {
        let slice = SlicedPacket::from_ip(p).expect("valid fragment");
        if let Some(d) = pool.process_sliced_packet(&slice, (), ()).expect("defrag") {
            if let Some(expected) = check {
                assert_eq!(
                    &d.payload[..],
                    expected,
                    "etherparse reassembled a different payload"
                );
            }
            black_box(&d.payload);
            pool.return_buf(d);
        }
    }
}

fn bench(c: &mut Criterion) {
    let (payload, in_order) = datagram_fragments();
    let mut reversed = in_order.clone();
    reversed.reverse();
    let cases = [
        ("in_order", in_order.clone()),
        ("reversed", reversed),
        ("shuffled", shuffled(in_order)),
    ];
    let mut group = c.benchmark_group("defrag_64k_mtu1500");
    group.throughput(Throughput::Bytes(PAYLOAD_LEN as u64));
    for (name, packets) in &cases {
        // Guard: both produce exactly the original payload (twice, so reused buffers are
        // checked too).
        let mut r = Reassembler::default();
        let mut pool = IpDefragPool::new();
        for _ in 0..2 {
            ours(&mut r, packets, Some(&payload));
            etherparse(&mut pool, packets, Some(&payload));
        }
        assert_eq!(r.in_flight(), 0);

        group.bench_with_input(
            BenchmarkId::new("wirecheck", name),
            packets,
            |b, packets| b.iter(|| ours(&mut r, packets, None)),
        );
        group.bench_with_input(
            BenchmarkId::new("etherparse", name),
            packets,
            |b, packets| b.iter(|| etherparse(&mut pool, packets, None)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
