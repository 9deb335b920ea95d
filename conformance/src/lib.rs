//! wirecheck-conformance: the library behind the `wirecheck` command.
//!
//! - [`capture`]: streaming pcap/pcapng reading with precise errors.

pub mod capture;
