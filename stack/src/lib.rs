//! A sans-IO IPv4 host and router built on [`wirecheck_codec`]: ARP, routing and forwarding,
//! ICMP, IGMP (host side), UDP and TCP ([`tcp`]).
//!
//! A [`Stack`] is one node with one or more Ethernet interfaces. It never touches a socket, a
//! clock or a thread: frames and time go in, frames, deadlines and events come out, in the
//! style of quinn-proto and str0m.
//!
//! ```text
//! stack.handle_frame(now, iface, &frame)       a frame arrived on `iface`
//! stack.poll_transmit()  -> Option<Transmit>   a frame to send: { iface, bytes }
//! stack.poll_timeout()   -> Option<Instant>    the next deadline
//! stack.handle_timeout(now)                    call once that deadline has passed
//! stack.poll_event()     -> Option<Event>      readable sockets, errors, echo replies …
//! udp_bind / udp_send_to / udp_recv_from / udp_close, ping, igmp_join / igmp_leave
//! tcp_listen / tcp_accept / tcp_connect / tcp_send / tcp_recv / tcp_shutdown / tcp_close / tcp_abort
//! ```
//!
//! Deterministic (randomness comes from [`Config::seed`]) and bounded (every table and queue
//! has a limit in [`Config`], and a policy when full). [`sim`] wires several stacks together
//! over simulated Ethernet segments in virtual time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
pub mod fuzzing;
pub mod icmp;
pub mod iface;
pub mod igmp;
pub mod ip;
mod rng;
pub mod sim;
mod stack;
#[cfg(feature = "tap")]
pub mod tap;
pub mod tcp;
#[doc(hidden)]
pub mod testing;
pub mod udp;

#[cfg(test)]
mod scenario_tests;

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use iface::{InterfaceConfig, InterfaceId, Ipv4Cidr};
pub use ip::route::{Route, RouteKind, RoutingTable};
pub use stack::{
    Config, Event, NetworkError, NetworkErrorKind, Origin, SendFailure, Stack, StackError, Stats,
    Transmit,
};
pub use tcp::{TcpConfig, TcpError, TcpHandle, TcpInfo, TcpSocketOptions, TcpState};
pub use udp::{UdpDatagram, UdpHandle};
pub use wirecheck_codec::ethernet::MacAddr;
pub use wirecheck_codec::time::{Duration, Instant};
