//! wirecheck-conformance: the library behind the `wirecheck` command.
//!
//! - [`capture`]: streaming pcap/pcapng reading with precise errors.
//! - [`capture_writer`]: writing frames to a pcap file.
//! - [`conform`]: the conformance runner (scenarios, targets, requirement catalog).
//! - [`link`]: non-Ethernet link headers (Linux cooked, loopback, raw IP).
//! - [`fields`]: a packet's reading as Wireshark display-filter fields.
//! - [`host`]: echo, discard and chargen services on a wirecheck stack (`wirecheck host`).
//! - [`oracle`]: comparing that reading with Wireshark's stored one.
//! - [`decode`]: summary lines, JSON fields and findings per record.
//! - [`pipeline`]: decoding on every core in packet order.
//! - [`reassembly`]: IPv4 reassembly across a capture.

pub mod capture;
pub mod capture_writer;
pub mod conform;
pub mod decode;
pub mod fields;
pub mod host;
pub mod link;
#[cfg(feature = "live")]
pub mod live;
pub mod oracle;
pub mod pipeline;
pub mod reassembly;
