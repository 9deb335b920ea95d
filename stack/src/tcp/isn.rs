//! Initial sequence numbers [RFC 6528 § 3]: `ISN = M + F(localip, localport, remoteip,
//! remoteport, secretkey)`, where `M` is a clock ticking every 4 µs and `F` is SipHash-2-4 of
//! the 4-tuple under a 128-bit key derived from the configuration seed. Two connections with
//! the same 4-tuple get increasing ISNs (the clock), and an off-path attacker who cannot see
//! the key cannot predict another tuple's ISN.

use core::net::SocketAddrV4;

use wirecheck_codec::time::Instant;

/// The RFC 6528 ISN generator.
#[derive(Debug, Clone)]
pub(crate) struct IsnGenerator {
    key: (u64, u64),
}

impl IsnGenerator {
    pub(crate) fn new(k0: u64, k1: u64) -> IsnGenerator {
        IsnGenerator { key: (k0, k1) }
    }

    /// The ISN for a connection from `local` to `remote` opened at `now`.
    pub(crate) fn isn(&self, now: Instant, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let mut msg = [0u8; 12];
        msg[0..4].copy_from_slice(&local.ip().octets());
        msg[4..6].copy_from_slice(&local.port().to_be_bytes());
        msg[6..10].copy_from_slice(&remote.ip().octets());
        msg[10..12].copy_from_slice(&remote.port().to_be_bytes());
        let f = siphash24(self.key.0, self.key.1, &msg) as u32;
        let m = (now.as_micros() / 4) as u32;
        m.wrapping_add(f)
    }
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash RFC 6528 § 3 suggests the
/// family of (a PRF with a secret key).
pub(crate) fn siphash24(k0: u64, k1: u64, msg: &[u8]) -> u64 {
    let mut v0 = k0 ^ 0x736f_6d65_7073_6575;
    let mut v1 = k1 ^ 0x646f_7261_6e64_6f6d;
    let mut v2 = k0 ^ 0x6c79_6765_6e65_7261;
    let mut v3 = k1 ^ 0x7465_6462_7974_6573;
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    };
    let mut chunks = msg.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let m = u64::from_le_bytes(b);
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    last[7] = msg.len() as u8;
    let m = u64::from_le_bytes(last);
    v3 ^= m;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= m;
    v2 ^= 0xff;
    for _ in 0..4 {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^ v1 ^ v2 ^ v3
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn siphash_reference_vector() {
        // The paper's appendix A: key 00..0f, message 00..0e → a129ca6149be45e5.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn isn_follows_the_clock_and_depends_on_tuple_and_key() {
        let g = IsnGenerator::new(1, 2);
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 1000);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        let c = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 81);
        let t0 = Instant::from_secs(1);
        let t1 = Instant::from_micros(1_000_400);
        assert_eq!(g.isn(t1, a, b).wrapping_sub(g.isn(t0, a, b)), 100);
        assert_ne!(g.isn(t0, a, b), g.isn(t0, a, c));
        assert_ne!(g.isn(t0, a, b), IsnGenerator::new(1, 3).isn(t0, a, b));
    }
}
