//! Helpers shared by the fuzz targets: emitting into buffers with checks on the buffer bounds,
//! and comparing emitted bytes with the input with a readable message.

use std::fmt::Debug;
use wirecheck_codec::{ErrorKind, Result};

/// The byte the spare room of an emit buffer is filled with, to catch writes past the end.
const GUARD: u8 = 0xa5;
/// Spare bytes after the emitted length.
const SPARE: usize = 16;

/// Emits with `emit` into a buffer of exactly `len` bytes plus guard bytes, and returns what it
/// wrote. Checks, for every emitter, that:
/// - a buffer one byte short is refused with `BufferTooSmall` (never a panic, never a partial
///   success);
/// - the emitter reports `len` bytes written;
/// - nothing past `len` is touched.
///
/// Returns the emitter's own error if it refuses a value (the caller decides whether that was
/// expected).
pub fn emit_checked(
    what: &str,
    len: usize,
    mut emit: impl FnMut(&mut [u8]) -> Result<usize>,
) -> Result<Vec<u8>> {
    if len > 0 {
        let mut short = vec![GUARD; len - 1];
        match emit(&mut short) {
            Err(e) if matches!(e.kind, ErrorKind::BufferTooSmall { .. }) => {}
            Err(e) => return Err(e),
            Ok(n) => panic!(
                "{what}: emit into {} bytes succeeded ({n}) but needs {len}",
                len - 1
            ),
        }
    }
    let mut out = vec![GUARD; len + SPARE];
    let n = emit(&mut out)?;
    assert_eq!(n, len, "{what}: emit wrote {n} bytes, len() says {len}");
    assert!(
        out[len..].iter().all(|&b| b == GUARD),
        "{what}: emit wrote past its length {len}: {}",
        hex(&out)
    );
    out.truncate(len);
    Ok(out)
}

/// Asserts that `emitted` equals `original`, with both in hex in the message.
pub fn assert_same_bytes(what: &str, emitted: &[u8], original: &[u8]) {
    assert!(
        emitted == original,
        "{what}: re-emitted bytes differ\n  original: {}\n  emitted:  {}",
        hex(original),
        hex(emitted)
    );
}

/// Asserts that a value parsed back from emitted bytes equals the one emitted.
pub fn assert_round_trip<T: PartialEq + Debug>(what: &str, built: &T, parsed: &T, bytes: &[u8]) {
    assert!(
        built == parsed,
        "{what}: parse(emit(x)) != x\n  x:      {built:?}\n  parsed: {parsed:?}\n  bytes:  {}",
        hex(bytes)
    );
}

/// Lower-case hex, for messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes at most `max` elements: keeps arbitrary-built lists small so that the fuzzer spends its
/// time on contents rather than on lengths.
pub fn capped<T>(mut v: Vec<T>, max: usize) -> Vec<T> {
    v.truncate(max);
    v
}
