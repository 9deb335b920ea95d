//! Throughput of the Internet checksum (`checksum::internet_checksum`) against a plain memcpy of
//! the same buffer (`copy_from_slice`, the floor any byte-touching routine is measured against),
//! and against the checksum routines etherparse and smoltcp expose publicly.
//!
//! Run: `cargo bench -p wirecheck-codec --bench checksum`. Each group is one buffer size; the
//! report's MiB/s (Throughput::Bytes) reads directly as checksum/memcpy ratio.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wirecheck_codec::checksum::internet_checksum;

/// Buffer sizes: minimum frame, the IPv4 minimum reassembly size, Ethernet MTU, jumbo MTU and
/// the largest IPv4 datagram.
const SIZES: [usize; 5] = [64, 576, 1500, 9000, 65535];

/// Deterministic pseudo-random bytes (xorshift), so every run sums the same data.
fn bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ len as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The obvious RFC 1071 loop, as an independent reference for the equivalence check.
fn reference(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn etherparse_checksum(data: &[u8]) -> u16 {
    etherparse::checksum::Sum16BitWords::new()
        .add_slice(data)
        .ones_complement()
        .to_be() // etherparse sums native-endian words; its callers convert the same way
}

fn smoltcp_checksum(data: &[u8]) -> u16 {
    !smoltcp::wire::checksum::data(data)
}

fn checksum(c: &mut Criterion) {
    for size in SIZES {
        let data = bytes(size);
        // Equivalence before timing: all three routines agree with the reference, so none of
        // them is measured doing less work than the others.
        let want = reference(&data);
        assert_eq!(internet_checksum(&data), want, "wirecheck, {size} bytes");
        assert_eq!(etherparse_checksum(&data), want, "etherparse, {size} bytes");
        assert_eq!(smoltcp_checksum(&data), want, "smoltcp, {size} bytes");
        // An odd length and an odd start address exercise the tail and unaligned loads.
        let odd = &data[1..];
        assert_eq!(internet_checksum(odd), reference(odd));

        let mut group = c.benchmark_group("checksum");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("wirecheck", size), &data, |b, d| {
            b.iter(|| internet_checksum(black_box(d)))
        });
        group.bench_with_input(
            BenchmarkId::new("wirecheck-unaligned", size),
            &data,
            |b, d| {
                // Same byte count, starting one byte into a buffer one byte longer.
                let mut shifted = vec![0u8; d.len() + 1];
                shifted[1..].copy_from_slice(d);
                b.iter(|| internet_checksum(black_box(&shifted[1..])))
            },
        );
        group.bench_with_input(BenchmarkId::new("memcpy", size), &data, |b, d| {
            let mut out = vec![0u8; d.len()];
            b.iter(|| {
                out.copy_from_slice(black_box(d));
                black_box(&mut out);
            })
        });
        group.bench_with_input(BenchmarkId::new("etherparse", size), &data, |b, d| {
            b.iter(|| etherparse_checksum(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("smoltcp", size), &data, |b, d| {
            b.iter(|| smoltcp_checksum(black_box(d)))
        });
        group.finish();
    }
}

criterion_group!(benches, checksum);
criterion_main!(benches);
