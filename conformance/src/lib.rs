//! wirecheck-conformance: the library behind the `wirecheck` command.
//!
//! - [`capture`]: streaming pcap/pcapng reading with precise errors.
//! - [`link`]: non-Ethernet link headers (Linux cooked, loopback, raw IP).

pub mod capture;
pub mod link;
