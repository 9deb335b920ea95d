//! The sans-IO stack driven by an arbitrary sequence of frames (raw and crafted: ARP, IPv4 with
//! ICMP, IGMP, UDP, TCP, options, fragments, damaged headers), clock steps and application
//! calls. `wirecheck_stack::fuzzing::drive` panics when an invariant breaks: a table or queue
//! past its limit, a deadline not in the future after `handle_timeout`, a frame sent shorter
//! than 60 bytes, an IPv4 header with a bad checksum or a datagram larger than the MTU.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wirecheck_stack::fuzzing::drive(data));
