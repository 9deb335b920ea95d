//! Live capture through libpcap (cargo feature `live`): `wirecheck decode --live IFACE`.

use crate::capture::{LinkType, Record, Timestamp};
use std::io::Write;

/// Captures on `iface` (with an optional BPF `filter`) until interrupted, printing what
/// `render` makes of each packet.
pub fn run(
    iface: &str,
    filter: Option<&str>,
    render: impl Fn(&Record) -> String,
) -> Result<(), String> {
    let mut capture = pcap::Capture::from_device(iface)
        .map_err(|e| e.to_string())?
        .promisc(false)
        .snaplen(262_144)
        .immediate_mode(true)
        .open()
        .map_err(|e| e.to_string())?;
    if let Some(f) = filter {
        capture
            .filter(f, true)
            .map_err(|e| format!("filter {f:?}: {e}"))?;
    }
    let link_type = LinkType(capture.get_datalink().0 as u32);
    let stdout = std::io::stdout();
    let mut number = 0u64;
    loop {
        let packet = match capture.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::TimeoutExpired) => continue,
            Err(e) => return Err(e.to_string()),
        };
        number += 1;
        // time_t is i64 here but i32 on some targets.
        #[allow(clippy::useless_conversion)]
        let record = Record {
            number,
            file_offset: 0,
            timestamp: Timestamp {
                seconds: i64::from(packet.header.ts.tv_sec),
                nanoseconds: packet.header.ts.tv_usec as u64 * 1_000,
            },
            link_type,
            original_length: packet.header.len,
            interface: 0,
            data: packet.data.to_vec(),
        };
        let text = render(&record);
        let mut out = stdout.lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return Ok(());
        }
    }
}
