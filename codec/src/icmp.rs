//! ICMPv4: every message type of [RFC 792] and its successors, parsed losslessly and without
//! copying, and written back either with lengths and checksums filled in or exactly as held.
//!
//! This module owns:
//! - the message types and codes ([`IcmpType`], [`UnreachableCode`] [RFC 792; RFC 1122
//!   § 3.2.2.1; RFC 1812 § 5.2.7.1], [`RedirectCode`], [`TimeExceededCode`],
//!   [`ParameterProblemCode`], [`ExtendedEchoReplyCode`]),
//! - one typed body per message ([`IcmpBody`]): echo, destination unreachable (with the next-hop
//!   MTU of [RFC 1191 § 4]), source quench, redirect, router advertisement and solicitation
//!   [RFC 1256], time exceeded, parameter problem, timestamp, information, address mask
//!   [RFC 950], traceroute [RFC 1393], extended echo [RFC 8335], and an `Unknown` body that
//!   keeps any other type byte for byte,
//! - the multi-part extension structure of [RFC 4884 § 7] appended to destination
//!   unreachable, time exceeded and parameter problem messages ([`IcmpExtensions`],
//!   [`ExtensionObject`]), with typed readers for the MPLS label stack object [RFC 4950] and the
//!   interface identification object [RFC 8335 § 2.1],
//! - the ICMP checksum over the whole message ([`verify_checksum`]).
//!
//! The datagram quoted by an error message is kept as bytes (`quoted`); decoding it is the
//! job of the IPv4 module (laxly, since it is usually cut short). Parsing never checks a
//! checksum.
//!
//! Every message starts with the same four octets [RFC 792]:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 (four octets that depend on the type)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 data, quoted datagram, ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//! ```

use core::fmt;
use core::net::Ipv4Addr;

use crate::checksum::{self, Accumulator, ChecksumStatus};
use crate::error::{Error, ErrorKind, Layer, Result};

/// The IPv4 protocol number of ICMP [RFC 792].
pub const PROTOCOL: u8 = 1;

/// Length of the part every ICMP message has: type, code, checksum and four more octets.
pub const HEADER_LEN: usize = 8;

/// Length of timestamp and timestamp reply messages [RFC 792].
pub const TIMESTAMP_LEN: usize = 20;

/// Length of address mask request and reply messages [RFC 950, Appendix I].
pub const ADDRESS_MASK_LEN: usize = 12;

/// Length of a traceroute message [RFC 1393 § 3].
pub const TRACEROUTE_LEN: usize = 20;

/// The shortest "original datagram" field a message carrying an extension structure may have
/// [RFC 4884 § 4.1]; also where pre-RFC 4884 senders put the extension structure.
pub const EXTENSION_MIN_QUOTE: usize = 128;

/// The extension structure version defined by [RFC 4884 § 7].
pub const EXTENSION_VERSION: u8 = 2;

/// Byte offsets of the fields, from the start of the ICMP message.
pub mod field {
    use core::ops::Range;
    /// Message type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum over the whole message.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The four type-dependent octets after the checksum.
    pub const REST_OF_HEADER: Range<usize> = 4..8;
    /// Echo, timestamp, information, address mask: identifier.
    pub const IDENTIFIER: Range<usize> = 4..6;
    /// Echo, timestamp, information, address mask: sequence number.
    pub const SEQUENCE: Range<usize> = 6..8;
    /// Destination unreachable, time exceeded, parameter problem: the length of the original
    /// datagram in 32-bit words [RFC 4884 § 4.1].
    pub const LENGTH: usize = 5;
    /// Destination unreachable code 4: the next-hop MTU [RFC 1191 § 4].
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    /// Parameter problem: the octet of the original datagram where the error was found.
    pub const POINTER: usize = 4;
    /// Redirect: the gateway address.
    pub const GATEWAY: Range<usize> = 4..8;
    /// Router advertisement: number of router addresses [RFC 1256 § 3.1].
    pub const NUM_ADDRS: usize = 4;
    /// Router advertisement: 32-bit words per router address entry.
    pub const ADDR_ENTRY_SIZE: usize = 5;
    /// Router advertisement: lifetime in seconds.
    pub const LIFETIME: Range<usize> = 6..8;
    /// Where the data, the quoted datagram or the router entries begin.
    pub const DATA: usize = 8;
    /// Timestamp: originate timestamp.
    pub const ORIGINATE: Range<usize> = 8..12;
    /// Timestamp: receive timestamp.
    pub const RECEIVE: Range<usize> = 12..16;
    /// Timestamp: transmit timestamp.
    pub const TRANSMIT: Range<usize> = 16..20;
    /// Address mask.
    pub const ADDRESS_MASK: Range<usize> = 8..12;
    /// Extended echo: the 8-bit sequence number [RFC 8335 § 2].
    pub const EXTENDED_SEQUENCE: usize = 6;
    /// Extended echo: the flags octet (L bit in a request; state and A, 4, 6 bits in a reply).
    pub const EXTENDED_FLAGS: usize = 7;
}

// ---------------------------------------------------------------------------------------------
// Types and codes
// ---------------------------------------------------------------------------------------------

/// An ICMP message type. Any value can be held; the named ones are those this module decodes
/// (and a few deprecated ones, for naming).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IcmpType(pub u8);

impl IcmpType {
    /// Echo reply [RFC 792].
    pub const ECHO_REPLY: IcmpType = IcmpType(0);
    /// Destination unreachable [RFC 792].
    pub const DESTINATION_UNREACHABLE: IcmpType = IcmpType(3);
    /// Source quench [RFC 792], deprecated by [RFC 6633].
    pub const SOURCE_QUENCH: IcmpType = IcmpType(4);
    /// Redirect [RFC 792].
    pub const REDIRECT: IcmpType = IcmpType(5);
    /// Alternate host address, deprecated [RFC 6918]; decoded as `Unknown`.
    pub const ALTERNATE_HOST_ADDRESS: IcmpType = IcmpType(6);
    /// Echo request [RFC 792].
    pub const ECHO_REQUEST: IcmpType = IcmpType(8);
    /// Router advertisement [RFC 1256], also the mobility agent advertisement [RFC 5944].
    pub const ROUTER_ADVERTISEMENT: IcmpType = IcmpType(9);
    /// Router solicitation [RFC 1256].
    pub const ROUTER_SOLICITATION: IcmpType = IcmpType(10);
    /// Time exceeded [RFC 792].
    pub const TIME_EXCEEDED: IcmpType = IcmpType(11);
    /// Parameter problem [RFC 792].
    pub const PARAMETER_PROBLEM: IcmpType = IcmpType(12);
    /// Timestamp request [RFC 792].
    pub const TIMESTAMP: IcmpType = IcmpType(13);
    /// Timestamp reply [RFC 792].
    pub const TIMESTAMP_REPLY: IcmpType = IcmpType(14);
    /// Information request [RFC 792], deprecated [RFC 6918].
    pub const INFORMATION_REQUEST: IcmpType = IcmpType(15);
    /// Information reply [RFC 792], deprecated [RFC 6918].
    pub const INFORMATION_REPLY: IcmpType = IcmpType(16);
    /// Address mask request [RFC 950], deprecated [RFC 6918].
    pub const ADDRESS_MASK_REQUEST: IcmpType = IcmpType(17);
    /// Address mask reply [RFC 950], deprecated [RFC 6918].
    pub const ADDRESS_MASK_REPLY: IcmpType = IcmpType(18);
    /// Traceroute [RFC 1393], deprecated [RFC 6918].
    pub const TRACEROUTE: IcmpType = IcmpType(30);
    /// Photuris [RFC 2521]; decoded as `Unknown`.
    pub const PHOTURIS: IcmpType = IcmpType(40);
    /// Extended echo request [RFC 8335 § 2].
    pub const EXTENDED_ECHO_REQUEST: IcmpType = IcmpType(42);
    /// Extended echo reply [RFC 8335 § 3].
    pub const EXTENDED_ECHO_REPLY: IcmpType = IcmpType(43);

    /// Whether messages of this type are ICMP error messages [RFC 1122 § 3.2.2]: destination
    /// unreachable, source quench, redirect, time exceeded, parameter problem. A host must
    /// never answer an error message with another [RFC 1122 § 3.2.2].
    pub const fn is_error(self) -> bool {
        matches!(self.0, 3 | 4 | 5 | 11 | 12)
    }

    /// Whether messages of this type are queries or their replies: echo, information,
    /// timestamp, address mask [RFC 1122 § 3.2.2], router discovery [RFC 1256] and extended
    /// echo [RFC 8335]. Traceroute [RFC 1393] is neither a query nor an error.
    pub const fn is_query(self) -> bool {
        matches!(
            self.0,
            0 | 8 | 9 | 10 | 13 | 14 | 15 | 16 | 17 | 18 | 42 | 43
        )
    }

    /// Whether the message carries a quoted datagram whose length the sixth octet gives
    /// [RFC 4884 § 4.1], so that an extension structure may follow it.
    pub const fn has_rfc4884_length(self) -> bool {
        matches!(self.0, 3 | 11 | 12)
    }

    /// The name Wireshark gives the type, or `None` for an unassigned value.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Echo (ping) reply",
            3 => "Destination unreachable",
            4 => "Source quench (flow control)",
            5 => "Redirect",
            6 => "Alternate host address",
            8 => "Echo (ping) request",
            9 => "Router advertisement",
            10 => "Router solicitation",
            11 => "Time-to-live exceeded",
            12 => "Parameter problem",
            13 => "Timestamp request",
            14 => "Timestamp reply",
            15 => "Information request",
            16 => "Information reply",
            17 => "Address mask request",
            18 => "Address mask reply",
            30 => "Traceroute",
            40 => "Photuris",
            42 => "Extended Echo request",
            43 => "Extended Echo reply",
            _ => return None,
        })
    }
}

impl fmt::Display for IcmpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Unknown ICMP type {}", self.0),
        }
    }
}

/// Declares a code newtype with named consts and a `name()`.
macro_rules! code_type {
    (
        $(#[$doc:meta])*
        $name:ident { $( $(#[$cdoc:meta])* $konst:ident = $value:literal, $text:literal; )* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u8);

        impl $name {
            $( $(#[$cdoc])* pub const $konst: $name = $name($value); )*

            /// The name of the code as Wireshark prints it, or `None` for an unassigned value.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "Unknown code {}", self.0),
                }
            }
        }

        impl From<u8> for $name {
            fn from(v: u8) -> Self {
                $name(v)
            }
        }
    };
}

code_type! {
    /// Destination unreachable codes: 0–5 [RFC 792], 6–12 [RFC 1122 § 3.2.2.1], 13–15
    /// [RFC 1812 § 5.2.7.1].
    UnreachableCode {
        /// Net unreachable.
        NET_UNREACHABLE = 0, "Network unreachable";
        /// Host unreachable.
        HOST_UNREACHABLE = 1, "Host unreachable";
        /// Protocol unreachable.
        PROTOCOL_UNREACHABLE = 2, "Protocol unreachable";
        /// Port unreachable.
        PORT_UNREACHABLE = 3, "Port unreachable";
        /// Fragmentation needed and DF set; carries the next-hop MTU [RFC 1191 § 4].
        FRAGMENTATION_NEEDED = 4, "Fragmentation needed";
        /// Source route failed.
        SOURCE_ROUTE_FAILED = 5, "Source route failed";
        /// Destination network unknown.
        NET_UNKNOWN = 6, "Destination network unknown";
        /// Destination host unknown.
        HOST_UNKNOWN = 7, "Destination host unknown";
        /// Source host isolated.
        SOURCE_HOST_ISOLATED = 8, "Source host isolated";
        /// Communication with destination network administratively prohibited.
        NET_PROHIBITED = 9, "Network administratively prohibited";
        /// Communication with destination host administratively prohibited.
        HOST_PROHIBITED = 10, "Host administratively prohibited";
        /// Network unreachable for type of service.
        NET_UNREACHABLE_FOR_TOS = 11, "Network unreachable for TOS";
        /// Host unreachable for type of service.
        HOST_UNREACHABLE_FOR_TOS = 12, "Host unreachable for TOS";
        /// Communication administratively prohibited (filtered) [RFC 1812 § 5.2.7.1].
        COMMUNICATION_PROHIBITED = 13, "Communication administratively filtered";
        /// Host precedence violation [RFC 1812 § 5.2.7.1].
        HOST_PRECEDENCE_VIOLATION = 14, "Host precedence violation";
        /// Precedence cutoff in effect [RFC 1812 § 5.2.7.1].
        PRECEDENCE_CUTOFF = 15, "Precedence cutoff in effect";
    }
}

code_type! {
    /// Redirect codes [RFC 792].
    RedirectCode {
        /// Redirect datagrams for the network. Routers must not send it [RFC 1812 § 5.2.7.2];
        /// hosts should treat it as a host redirect [RFC 1122 § 3.3.1.2].
        NET = 0, "Redirect for network";
        /// Redirect datagrams for the host.
        HOST = 1, "Redirect for host";
        /// Redirect datagrams for the type of service and network.
        TOS_NET = 2, "Redirect for TOS and network";
        /// Redirect datagrams for the type of service and host.
        TOS_HOST = 3, "Redirect for TOS and host";
    }
}

code_type! {
    /// Time exceeded codes [RFC 792].
    TimeExceededCode {
        /// Time to live exceeded in transit.
        TTL_EXCEEDED = 0, "Time to live exceeded in transit";
        /// Fragment reassembly time exceeded.
        FRAGMENT_REASSEMBLY = 1, "Fragment reassembly time exceeded";
    }
}

code_type! {
    /// Parameter problem codes: 0 [RFC 792], 1 [RFC 1108], 2 (IANA registry).
    ParameterProblemCode {
        /// The pointer indicates the error.
        POINTER = 0, "Pointer indicates the error";
        /// A required option is missing.
        MISSING_OPTION = 1, "Missing a required option";
        /// Bad length.
        BAD_LENGTH = 2, "Bad length";
    }
}

code_type! {
    /// Extended echo reply codes [RFC 8335 § 3].
    ExtendedEchoReplyCode {
        /// No error.
        NO_ERROR = 0, "No error";
        /// Malformed query.
        MALFORMED_QUERY = 1, "Malformed Query";
        /// No such interface.
        NO_SUCH_INTERFACE = 2, "No Such Interface";
        /// No such table entry.
        NO_SUCH_TABLE_ENTRY = 3, "No Such Table Entry";
        /// Multiple interfaces satisfy the query.
        MULTIPLE_INTERFACES = 4, "Multiple Interfaces Satisfy Query";
    }
}

code_type! {
    /// The neighbor state in an extended echo reply, a 3-bit field [RFC 8335 § 3].
    ExtendedEchoState {
        /// Reserved (also used when the probed interface is not a neighbor).
        RESERVED = 0, "Reserved";
        /// Incomplete.
        INCOMPLETE = 1, "Incomplete";
        /// Reachable.
        REACHABLE = 2, "Reachable";
        /// Stale.
        STALE = 3, "Stale";
        /// Delay.
        DELAY = 4, "Delay";
        /// Probe.
        PROBE = 5, "Probe";
        /// Failed.
        FAILED = 6, "Failed";
    }
}

// ---------------------------------------------------------------------------------------------
// Message bodies
// ---------------------------------------------------------------------------------------------

/// Echo request or reply [RFC 792].
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Identifier          |        Sequence Number        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Data ...
/// +-+-+-+-+-
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Echo<'a> {
    /// Code (0; any other value is kept).
    pub code: u8,
    /// Identifier, to match replies to requests.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
    /// Data, returned unchanged in the reply.
    pub data: &'a [u8],
}

/// Destination unreachable [RFC 792], with the RFC 4884 length and the RFC 1191 next-hop MTU.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type 3    |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     unused    |    Length     |          Next-Hop MTU         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      Internet Header + leading octets of original datagram    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      (ICMP extension structure, if Length is non-zero)        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DestinationUnreachable<'a> {
    /// Why the datagram could not be delivered.
    pub code: UnreachableCode,
    /// Octet 4, unused (zero).
    pub unused: u8,
    /// Length of `quoted` in 32-bit words, 0 when no extension structure follows
    /// [RFC 4884 § 4.1]. [`IcmpMessage::emit`] computes it.
    pub length: u8,
    /// Octets 6–7: the next-hop MTU for code 4 [RFC 1191 § 4]; unused (zero) otherwise, and
    /// zero from routers that predate RFC 1191.
    pub next_hop_mtu: u16,
    /// The quoted original datagram: its IP header and leading octets (including, when
    /// `length` is non-zero, the zero padding to `length` words).
    pub quoted: &'a [u8],
    /// The extension structure after the quote, when `length` is non-zero and bytes follow.
    pub extensions: Option<IcmpExtensions<'a>>,
}

/// Source quench [RFC 792] (deprecated by [RFC 6633], kept for decoding).
///
/// ```text
/// |     Type 4    |     Code      |          Checksum             |
/// |                             unused                            |
/// |      Internet Header + 64 bits of Original Data Datagram      |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SourceQuench<'a> {
    /// Code (0).
    pub code: u8,
    /// Octets 4–7, unused (zero).
    pub unused: u32,
    /// The quoted original datagram.
    pub quoted: &'a [u8],
}

/// Redirect [RFC 792].
///
/// ```text
/// |     Type 5    |     Code      |          Checksum             |
/// |                 Gateway Internet Address                      |
/// |      Internet Header + 64 bits of Original Data Datagram      |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Redirect<'a> {
    /// What to redirect: network, host, or either with type of service.
    pub code: RedirectCode,
    /// The gateway to send traffic for the quoted destination to.
    pub gateway: Ipv4Addr,
    /// The quoted original datagram.
    pub quoted: &'a [u8],
}

/// Router advertisement [RFC 1256 § 3.1], possibly a mobility agent advertisement with
/// extensions after the router entries [RFC 5944 § 2.1].
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type 9    |     Code      |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Num Addrs   |Addr Entry Size|           Lifetime            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Router Address[1]                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Preference Level[1]                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               .                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     (extensions, RFC 5944) ...
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RouterAdvertisement<'a> {
    /// Code: 0 for a router advertisement, 16 for a mobility agent that does not route common
    /// traffic [RFC 5944 § 2.1].
    pub code: u8,
    /// Number of router addresses. [`IcmpMessage::emit`] computes it from `entries`.
    pub num_addrs: u8,
    /// 32-bit words per entry: 2 in RFC 1256; larger entries are kept whole.
    pub addr_entry_size: u8,
    /// Seconds the addresses may be considered valid.
    pub lifetime: u16,
    /// The router entries, `num_addrs × addr_entry_size × 4` bytes; see
    /// [`entries`](RouterAdvertisement::entries).
    pub entries: &'a [u8],
    /// Bytes after the entries: mobility agent advertisement extensions [RFC 5944 § 2.1].
    pub extensions: &'a [u8],
}

impl RouterAdvertisement<'_> {
    /// Code 0: a normal router advertisement.
    pub const CODE_NORMAL: u8 = 0;
    /// Code 16: a mobility agent that does not route common traffic [RFC 5944 § 2.1].
    pub const CODE_NO_COMMON_TRAFFIC: u8 = 16;
    /// The address entry size of RFC 1256: address and preference.
    pub const ENTRY_SIZE: u8 = 2;
}

/// Router solicitation [RFC 1256 § 3.2].
///
/// ```text
/// |    Type 10    |     Code      |           Checksum            |
/// |                           Reserved                            |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RouterSolicitation {
    /// Code (0).
    pub code: u8,
    /// Reserved (zero).
    pub reserved: u32,
}

/// Time exceeded [RFC 792], with the RFC 4884 length.
///
/// ```text
/// |    Type 11    |     Code      |          Checksum             |
/// |     unused    |    Length     |          unused               |
/// |      Internet Header + leading octets of original datagram    |
/// |      (ICMP extension structure, if Length is non-zero)        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeExceeded<'a> {
    /// TTL exceeded in transit or fragment reassembly time exceeded.
    pub code: TimeExceededCode,
    /// Octet 4, unused (zero).
    pub unused: u8,
    /// Length of `quoted` in 32-bit words, 0 when no extension structure follows
    /// [RFC 4884 § 4.1]. [`IcmpMessage::emit`] computes it.
    pub length: u8,
    /// Octets 6–7, unused (zero).
    pub unused_tail: u16,
    /// The quoted original datagram (with its padding when `length` is non-zero).
    pub quoted: &'a [u8],
    /// The extension structure after the quote, when `length` is non-zero and bytes follow.
    pub extensions: Option<IcmpExtensions<'a>>,
}

/// Parameter problem [RFC 792], with the RFC 4884 length.
///
/// ```text
/// |    Type 12    |     Code      |          Checksum             |
/// |    Pointer    |    Length     |          unused               |
/// |      Internet Header + leading octets of original datagram    |
/// |      (ICMP extension structure, if Length is non-zero)        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ParameterProblem<'a> {
    /// What kind of problem.
    pub code: ParameterProblemCode,
    /// For code 0: the octet of the quoted datagram where the error was found.
    pub pointer: u8,
    /// Length of `quoted` in 32-bit words, 0 when no extension structure follows
    /// [RFC 4884 § 4.1]. [`IcmpMessage::emit`] computes it.
    pub length: u8,
    /// Octets 6–7, unused (zero).
    pub unused_tail: u16,
    /// The quoted original datagram (with its padding when `length` is non-zero).
    pub quoted: &'a [u8],
    /// The extension structure after the quote, when `length` is non-zero and bytes follow.
    pub extensions: Option<IcmpExtensions<'a>>,
}

/// Timestamp request or reply [RFC 792]. Timestamps are milliseconds since midnight UT, or
/// any value with the high-order bit set when the sender has no such clock.
///
/// ```text
/// |   Type 13/14  |      Code     |          Checksum             |
/// |           Identifier          |        Sequence Number        |
/// |     Originate Timestamp                                       |
/// |     Receive Timestamp                                         |
/// |     Transmit Timestamp                                        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp {
    /// Code (0).
    pub code: u8,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
    /// When the sender last touched the request.
    pub originate: u32,
    /// When the echoer first touched it.
    pub receive: u32,
    /// When the echoer last touched it, sending the reply.
    pub transmit: u32,
}

impl Timestamp {
    /// The bit that marks a timestamp as not milliseconds since midnight UT [RFC 792].
    pub const NON_STANDARD: u32 = 0x8000_0000;
}

/// Information request or reply [RFC 792] (obsolete).
///
/// ```text
/// |   Type 15/16  |      Code     |          Checksum             |
/// |           Identifier          |        Sequence Number        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Information {
    /// Code (0).
    pub code: u8,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
}

/// Address mask request or reply [RFC 950, Appendix I].
///
/// ```text
/// |   Type 17/18  |      Code     |          Checksum             |
/// |           Identifier          |        Sequence Number        |
/// |                         Address Mask                          |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressMask {
    /// Code (0).
    pub code: u8,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
    /// The subnet mask (zero in a request).
    pub mask: Ipv4Addr,
}

/// Traceroute [RFC 1393 § 3] (experimental, deprecated by [RFC 6918]).
///
/// ```text
/// |    Type 30    |     Code      |           Checksum            |
/// |           ID Number           |            unused             |
/// |      Outbound Hop Count       |       Return Hop Count        |
/// |                       Output Link Speed                       |
/// |                        Output Link MTU                        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Traceroute {
    /// 0: outbound packet forwarded; 1: no route, packet discarded.
    pub code: u8,
    /// The ID number from the IP traceroute option.
    pub identifier: u16,
    /// Unused (zero).
    pub unused: u16,
    /// Outbound hop count from the option.
    pub outbound_hop_count: u16,
    /// Return hop count from the option.
    pub return_hop_count: u16,
    /// Speed of the link the packet will be sent on, in bytes per second.
    pub output_link_speed: u32,
    /// MTU of that link, in bytes.
    pub output_link_mtu: u32,
}

impl Traceroute {
    /// Code 0: the outbound packet was successfully forwarded.
    pub const CODE_FORWARDED: u8 = 0;
    /// Code 1: no route for the outbound packet; it was discarded.
    pub const CODE_NO_ROUTE: u8 = 1;
}

/// Extended echo request (PROBE) [RFC 8335 § 2].
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type 42   |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Identifier          |Sequence Number|   Reserved  |L|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   ICMP Extension Structure
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The extension structure is kept as raw bytes: a node must answer a malformed one with
/// code 1 (malformed query) [RFC 8335 § 4], so its errors are not parse errors of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExtendedEchoRequest<'a> {
    /// Code (0).
    pub code: u8,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number (8 bits).
    pub sequence: u8,
    /// The 7 reserved bits (0..=0x7f).
    pub reserved: u8,
    /// The L bit: the probed interface is on the node receiving the request.
    pub local: bool,
    /// The extension structure, as bytes; see [`ExtendedEchoRequest::extension_structure`].
    pub extensions: &'a [u8],
}

impl<'a> ExtendedEchoRequest<'a> {
    /// Parses the extension structure, which must hold one interface identification object
    /// [RFC 8335 § 2].
    pub fn extension_structure(&self) -> Result<IcmpExtensions<'a>> {
        IcmpExtensions::parse(self.extensions).map_err(|e| shift_in_layer(e, HEADER_LEN))
    }
}

/// Extended echo reply [RFC 8335 § 3].
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type 43   |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Identifier          |Sequence Number|State|Res|A|4|6|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExtendedEchoReply<'a> {
    /// Outcome of the query.
    pub code: ExtendedEchoReplyCode,
    /// Identifier, copied from the request.
    pub identifier: u16,
    /// Sequence number, copied from the request.
    pub sequence: u8,
    /// Neighbor state (3 bits, 0..=7).
    pub state: ExtendedEchoState,
    /// The 2 reserved bits (0..=3).
    pub reserved: u8,
    /// A bit: the probed interface is active.
    pub active: bool,
    /// 4 bit: the probed interface runs IPv4.
    pub ipv4: bool,
    /// 6 bit: the probed interface runs IPv6.
    pub ipv6: bool,
    /// Bytes after the header (RFC 8335 defines none; some senders echo the request's).
    pub data: &'a [u8],
}

/// A message of a type this module does not decode, kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Unknown<'a> {
    /// The type. Emitting a known type through `Unknown` works, but parsing the result gives
    /// that type's body.
    pub icmp_type: IcmpType,
    /// Code.
    pub code: u8,
    /// Octets 4–7.
    pub rest_of_header: [u8; 4],
    /// Everything after octet 7.
    pub data: &'a [u8],
}

/// The typed content of an ICMP message: everything but the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcmpBody<'a> {
    /// Type 0.
    EchoReply(Echo<'a>),
    /// Type 3.
    DestinationUnreachable(DestinationUnreachable<'a>),
    /// Type 4.
    SourceQuench(SourceQuench<'a>),
    /// Type 5.
    Redirect(Redirect<'a>),
    /// Type 8.
    EchoRequest(Echo<'a>),
    /// Type 9.
    RouterAdvertisement(RouterAdvertisement<'a>),
    /// Type 10.
    RouterSolicitation(RouterSolicitation),
    /// Type 11.
    TimeExceeded(TimeExceeded<'a>),
    /// Type 12.
    ParameterProblem(ParameterProblem<'a>),
    /// Type 13.
    Timestamp(Timestamp),
    /// Type 14.
    TimestampReply(Timestamp),
    /// Type 15.
    InformationRequest(Information),
    /// Type 16.
    InformationReply(Information),
    /// Type 17.
    AddressMaskRequest(AddressMask),
    /// Type 18.
    AddressMaskReply(AddressMask),
    /// Type 30.
    Traceroute(Traceroute),
    /// Type 42.
    ExtendedEchoRequest(ExtendedEchoRequest<'a>),
    /// Type 43.
    ExtendedEchoReply(ExtendedEchoReply<'a>),
    /// Any other type.
    Unknown(Unknown<'a>),
}

impl<'a> IcmpBody<'a> {
    /// The message type this body is sent as.
    pub const fn icmp_type(&self) -> IcmpType {
        match self {
            IcmpBody::EchoReply(_) => IcmpType::ECHO_REPLY,
            IcmpBody::DestinationUnreachable(_) => IcmpType::DESTINATION_UNREACHABLE,
            IcmpBody::SourceQuench(_) => IcmpType::SOURCE_QUENCH,
            IcmpBody::Redirect(_) => IcmpType::REDIRECT,
            IcmpBody::EchoRequest(_) => IcmpType::ECHO_REQUEST,
            IcmpBody::RouterAdvertisement(_) => IcmpType::ROUTER_ADVERTISEMENT,
            IcmpBody::RouterSolicitation(_) => IcmpType::ROUTER_SOLICITATION,
            IcmpBody::TimeExceeded(_) => IcmpType::TIME_EXCEEDED,
            IcmpBody::ParameterProblem(_) => IcmpType::PARAMETER_PROBLEM,
            IcmpBody::Timestamp(_) => IcmpType::TIMESTAMP,
            IcmpBody::TimestampReply(_) => IcmpType::TIMESTAMP_REPLY,
            IcmpBody::InformationRequest(_) => IcmpType::INFORMATION_REQUEST,
            IcmpBody::InformationReply(_) => IcmpType::INFORMATION_REPLY,
            IcmpBody::AddressMaskRequest(_) => IcmpType::ADDRESS_MASK_REQUEST,
            IcmpBody::AddressMaskReply(_) => IcmpType::ADDRESS_MASK_REPLY,
            IcmpBody::Traceroute(_) => IcmpType::TRACEROUTE,
            IcmpBody::ExtendedEchoRequest(_) => IcmpType::EXTENDED_ECHO_REQUEST,
            IcmpBody::ExtendedEchoReply(_) => IcmpType::EXTENDED_ECHO_REPLY,
            IcmpBody::Unknown(u) => u.icmp_type,
        }
    }

    /// The code octet.
    pub const fn code(&self) -> u8 {
        match self {
            IcmpBody::EchoReply(b) | IcmpBody::EchoRequest(b) => b.code,
            IcmpBody::DestinationUnreachable(b) => b.code.0,
            IcmpBody::SourceQuench(b) => b.code,
            IcmpBody::Redirect(b) => b.code.0,
            IcmpBody::RouterAdvertisement(b) => b.code,
            IcmpBody::RouterSolicitation(b) => b.code,
            IcmpBody::TimeExceeded(b) => b.code.0,
            IcmpBody::ParameterProblem(b) => b.code.0,
            IcmpBody::Timestamp(b) | IcmpBody::TimestampReply(b) => b.code,
            IcmpBody::InformationRequest(b) | IcmpBody::InformationReply(b) => b.code,
            IcmpBody::AddressMaskRequest(b) | IcmpBody::AddressMaskReply(b) => b.code,
            IcmpBody::Traceroute(b) => b.code,
            IcmpBody::ExtendedEchoRequest(b) => b.code,
            IcmpBody::ExtendedEchoReply(b) => b.code.0,
            IcmpBody::Unknown(b) => b.code,
        }
    }

    /// The quoted original datagram of an error message (types 3, 4, 5, 11, 12).
    pub const fn quoted(&self) -> Option<&'a [u8]> {
        match self {
            IcmpBody::DestinationUnreachable(b) => Some(b.quoted),
            IcmpBody::SourceQuench(b) => Some(b.quoted),
            IcmpBody::Redirect(b) => Some(b.quoted),
            IcmpBody::TimeExceeded(b) => Some(b.quoted),
            IcmpBody::ParameterProblem(b) => Some(b.quoted),
            _ => None,
        }
    }

    /// The RFC 4884 extension structure of a destination unreachable, time exceeded or
    /// parameter problem message, when its length field announced one.
    pub const fn extensions(&self) -> Option<IcmpExtensions<'a>> {
        match self {
            IcmpBody::DestinationUnreachable(b) => b.extensions,
            IcmpBody::TimeExceeded(b) => b.extensions,
            IcmpBody::ParameterProblem(b) => b.extensions,
            _ => None,
        }
    }

    /// An extension structure that a sender predating RFC 4884 put at octet 128 of the quote
    /// without setting the length field (as MPLS routers do [RFC 4884 § 5.3; RFC 4950]).
    ///
    /// Only for types 3, 11, 12 with a length field of zero and a quote longer than 128
    /// octets; the bytes from octet 128 on must parse as a version 2 extension structure with
    /// a correct checksum, which random quoted data almost never does.
    pub fn legacy_extensions(&self) -> Option<IcmpExtensions<'a>> {
        let (length, quoted) = match self {
            IcmpBody::DestinationUnreachable(b) => (b.length, b.quoted),
            IcmpBody::TimeExceeded(b) => (b.length, b.quoted),
            IcmpBody::ParameterProblem(b) => (b.length, b.quoted),
            _ => return None,
        };
        if length != 0 {
            return None;
        }
        let tail = quoted.get(EXTENSION_MIN_QUOTE..)?;
        let ext = IcmpExtensions::parse(tail).ok()?;
        (IcmpExtensions::verify_checksum(tail) == ChecksumStatus::Good).then_some(ext)
    }

    /// Parses the body from a whole ICMP message (`bytes` starts at the type octet). Returns the
    /// body and the bytes after the message's fixed structure (only fixed-size messages can
    /// leave any: timestamp, information, address mask, traceroute, router solicitation).
    fn parse(bytes: &'a [u8]) -> Result<(IcmpBody<'a>, &'a [u8])> {
        let Some((h, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::truncated(
                Layer::Icmp,
                "header",
                0,
                HEADER_LEN,
                bytes.len(),
            ));
        };
        let code = h[field::CODE];
        let identifier = u16::from_be_bytes([h[4], h[5]]);
        let sequence = u16::from_be_bytes([h[6], h[7]]);
        let word = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let empty: &'a [u8] = &[];
        let body = match h[field::TYPE] {
            0 | 8 => {
                let echo = Echo {
                    code,
                    identifier,
                    sequence,
                    data: payload,
                };
                if h[0] == 0 {
                    IcmpBody::EchoReply(echo)
                } else {
                    IcmpBody::EchoRequest(echo)
                }
            }
            3 => {
                let (quoted, extensions) = parse_quote(h[field::LENGTH], payload)?;
                IcmpBody::DestinationUnreachable(DestinationUnreachable {
                    code: UnreachableCode(code),
                    unused: h[4],
                    length: h[field::LENGTH],
                    next_hop_mtu: sequence,
                    quoted,
                    extensions,
                })
            }
            4 => IcmpBody::SourceQuench(SourceQuench {
                code,
                unused: word,
                quoted: payload,
            }),
            5 => IcmpBody::Redirect(Redirect {
                code: RedirectCode(code),
                gateway: Ipv4Addr::from_bits(word),
                quoted: payload,
            }),
            9 => {
                let num_addrs = h[field::NUM_ADDRS];
                let addr_entry_size = h[field::ADDR_ENTRY_SIZE];
                if num_addrs > 0 && addr_entry_size < RouterAdvertisement::ENTRY_SIZE {
                    return Err(Error::bad_value(
                        Layer::Icmp,
                        "address entry size",
                        field::ADDR_ENTRY_SIZE,
                        "≥ 2",
                        u64::from(addr_entry_size),
                    ));
                }
                // At most 255 × 255 × 4 bytes: no overflow.
                let entries_len = usize::from(num_addrs) * usize::from(addr_entry_size) * 4;
                let Some((entries, extensions)) = payload.split_at_checked(entries_len) else {
                    return Err(Error::truncated(
                        Layer::Icmp,
                        "router entries",
                        field::DATA,
                        HEADER_LEN + entries_len,
                        bytes.len(),
                    ));
                };
                IcmpBody::RouterAdvertisement(RouterAdvertisement {
                    code,
                    num_addrs,
                    addr_entry_size,
                    lifetime: sequence,
                    entries,
                    extensions,
                })
            }
            10 => {
                return Ok((
                    IcmpBody::RouterSolicitation(RouterSolicitation {
                        code,
                        reserved: word,
                    }),
                    payload,
                ))
            }
            11 => {
                let (quoted, extensions) = parse_quote(h[field::LENGTH], payload)?;
                IcmpBody::TimeExceeded(TimeExceeded {
                    code: TimeExceededCode(code),
                    unused: h[4],
                    length: h[field::LENGTH],
                    unused_tail: sequence,
                    quoted,
                    extensions,
                })
            }
            12 => {
                let (quoted, extensions) = parse_quote(h[field::LENGTH], payload)?;
                IcmpBody::ParameterProblem(ParameterProblem {
                    code: ParameterProblemCode(code),
                    pointer: h[field::POINTER],
                    length: h[field::LENGTH],
                    unused_tail: sequence,
                    quoted,
                    extensions,
                })
            }
            t @ (13 | 14) => {
                let Some((ts, rest)) = payload.split_first_chunk::<12>() else {
                    return Err(Error::truncated(
                        Layer::Icmp,
                        "timestamps",
                        field::ORIGINATE.start,
                        TIMESTAMP_LEN,
                        bytes.len(),
                    ));
                };
                let t32 = |i: usize| u32::from_be_bytes([ts[i], ts[i + 1], ts[i + 2], ts[i + 3]]);
                let stamp = Timestamp {
                    code,
                    identifier,
                    sequence,
                    originate: t32(0),
                    receive: t32(4),
                    transmit: t32(8),
                };
                let body = if t == 13 {
                    IcmpBody::Timestamp(stamp)
                } else {
                    IcmpBody::TimestampReply(stamp)
                };
                return Ok((body, rest));
            }
            t @ (15 | 16) => {
                let info = Information {
                    code,
                    identifier,
                    sequence,
                };
                let body = if t == 15 {
                    IcmpBody::InformationRequest(info)
                } else {
                    IcmpBody::InformationReply(info)
                };
                return Ok((body, payload));
            }
            t @ (17 | 18) => {
                let Some((m, rest)) = payload.split_first_chunk::<4>() else {
                    return Err(Error::truncated(
                        Layer::Icmp,
                        "address mask",
                        field::ADDRESS_MASK.start,
                        ADDRESS_MASK_LEN,
                        bytes.len(),
                    ));
                };
                let mask = AddressMask {
                    code,
                    identifier,
                    sequence,
                    mask: Ipv4Addr::from(*m),
                };
                let body = if t == 17 {
                    IcmpBody::AddressMaskRequest(mask)
                } else {
                    IcmpBody::AddressMaskReply(mask)
                };
                return Ok((body, rest));
            }
            30 => {
                let Some((t, rest)) = payload.split_first_chunk::<12>() else {
                    return Err(Error::truncated(
                        Layer::Icmp,
                        "traceroute fields",
                        field::DATA,
                        TRACEROUTE_LEN,
                        bytes.len(),
                    ));
                };
                let body = IcmpBody::Traceroute(Traceroute {
                    code,
                    identifier,
                    unused: sequence,
                    outbound_hop_count: u16::from_be_bytes([t[0], t[1]]),
                    return_hop_count: u16::from_be_bytes([t[2], t[3]]),
                    output_link_speed: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                    output_link_mtu: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                });
                return Ok((body, rest));
            }
            42 => {
                let flags = h[field::EXTENDED_FLAGS];
                IcmpBody::ExtendedEchoRequest(ExtendedEchoRequest {
                    code,
                    identifier,
                    sequence: h[field::EXTENDED_SEQUENCE],
                    reserved: flags >> 1,
                    local: flags & 1 != 0,
                    extensions: payload,
                })
            }
            43 => {
                let flags = h[field::EXTENDED_FLAGS];
                IcmpBody::ExtendedEchoReply(ExtendedEchoReply {
                    code: ExtendedEchoReplyCode(code),
                    identifier,
                    sequence: h[field::EXTENDED_SEQUENCE],
                    state: ExtendedEchoState(flags >> 5),
                    reserved: (flags >> 3) & 0b11,
                    active: flags & 0b100 != 0,
                    ipv4: flags & 0b010 != 0,
                    ipv6: flags & 0b001 != 0,
                    data: payload,
                })
            }
            t => IcmpBody::Unknown(Unknown {
                icmp_type: IcmpType(t),
                code,
                rest_of_header: [h[4], h[5], h[6], h[7]],
                data: payload,
            }),
        };
        Ok((body, empty))
    }

    /// Bytes the body takes after octet 3, written by `write` in the given mode.
    fn body_len(&self, fill: bool) -> usize {
        let rest = HEADER_LEN - 4;
        match self {
            IcmpBody::EchoReply(b) | IcmpBody::EchoRequest(b) => rest + b.data.len(),
            IcmpBody::DestinationUnreachable(b) => {
                rest + quote_len(b.quoted, b.extensions.as_ref(), fill)
            }
            IcmpBody::SourceQuench(b) => rest + b.quoted.len(),
            IcmpBody::Redirect(b) => rest + b.quoted.len(),
            IcmpBody::RouterAdvertisement(b) => rest + b.entries.len() + b.extensions.len(),
            IcmpBody::RouterSolicitation(_)
            | IcmpBody::InformationRequest(_)
            | IcmpBody::InformationReply(_) => rest,
            IcmpBody::TimeExceeded(b) => rest + quote_len(b.quoted, b.extensions.as_ref(), fill),
            IcmpBody::ParameterProblem(b) => {
                rest + quote_len(b.quoted, b.extensions.as_ref(), fill)
            }
            IcmpBody::Timestamp(_) | IcmpBody::TimestampReply(_) => TIMESTAMP_LEN - 4,
            IcmpBody::AddressMaskRequest(_) | IcmpBody::AddressMaskReply(_) => ADDRESS_MASK_LEN - 4,
            IcmpBody::Traceroute(_) => TRACEROUTE_LEN - 4,
            IcmpBody::ExtendedEchoRequest(b) => rest + b.extensions.len(),
            IcmpBody::ExtendedEchoReply(b) => rest + b.data.len(),
            IcmpBody::Unknown(b) => rest + b.data.len(),
        }
    }

    /// Writes octets 4.. of the message. `fill` computes the RFC 4884 length, the padding of
    /// the quote, the extension checksum and the router advertisement's address count.
    fn write(&self, w: &mut Writer<'_>, fill: bool) -> Result<()> {
        match self {
            IcmpBody::EchoReply(b) | IcmpBody::EchoRequest(b) => {
                w.u16(b.identifier)?;
                w.u16(b.sequence)?;
                w.bytes(b.data)
            }
            IcmpBody::DestinationUnreachable(b) => {
                let length = quote_length_field(b.length, b.quoted, b.extensions.as_ref(), fill)?;
                w.u8(b.unused)?;
                w.u8(length)?;
                w.u16(b.next_hop_mtu)?;
                write_quote(w, b.quoted, b.extensions.as_ref(), fill)
            }
            IcmpBody::SourceQuench(b) => {
                w.u32(b.unused)?;
                w.bytes(b.quoted)
            }
            IcmpBody::Redirect(b) => {
                w.u32(b.gateway.to_bits())?;
                w.bytes(b.quoted)
            }
            IcmpBody::RouterAdvertisement(b) => {
                let num_addrs = if fill {
                    router_entry_count(b)?
                } else {
                    b.num_addrs
                };
                w.u8(num_addrs)?;
                w.u8(b.addr_entry_size)?;
                w.u16(b.lifetime)?;
                w.bytes(b.entries)?;
                w.bytes(b.extensions)
            }
            IcmpBody::RouterSolicitation(b) => w.u32(b.reserved),
            IcmpBody::TimeExceeded(b) => {
                let length = quote_length_field(b.length, b.quoted, b.extensions.as_ref(), fill)?;
                w.u8(b.unused)?;
                w.u8(length)?;
                w.u16(b.unused_tail)?;
                write_quote(w, b.quoted, b.extensions.as_ref(), fill)
            }
            IcmpBody::ParameterProblem(b) => {
                let length = quote_length_field(b.length, b.quoted, b.extensions.as_ref(), fill)?;
                w.u8(b.pointer)?;
                w.u8(length)?;
                w.u16(b.unused_tail)?;
                write_quote(w, b.quoted, b.extensions.as_ref(), fill)
            }
            IcmpBody::Timestamp(b) | IcmpBody::TimestampReply(b) => {
                w.u16(b.identifier)?;
                w.u16(b.sequence)?;
                w.u32(b.originate)?;
                w.u32(b.receive)?;
                w.u32(b.transmit)
            }
            IcmpBody::InformationRequest(b) | IcmpBody::InformationReply(b) => {
                w.u16(b.identifier)?;
                w.u16(b.sequence)
            }
            IcmpBody::AddressMaskRequest(b) | IcmpBody::AddressMaskReply(b) => {
                w.u16(b.identifier)?;
                w.u16(b.sequence)?;
                w.u32(b.mask.to_bits())
            }
            IcmpBody::Traceroute(b) => {
                w.u16(b.identifier)?;
                w.u16(b.unused)?;
                w.u16(b.outbound_hop_count)?;
                w.u16(b.return_hop_count)?;
                w.u32(b.output_link_speed)?;
                w.u32(b.output_link_mtu)
            }
            IcmpBody::ExtendedEchoRequest(b) => {
                if b.reserved > 0x7f {
                    return Err(Error::bad_value(
                        Layer::Icmp,
                        "reserved",
                        field::EXTENDED_FLAGS,
                        "≤ 0x7f (7 bits)",
                        u64::from(b.reserved),
                    ));
                }
                w.u16(b.identifier)?;
                w.u8(b.sequence)?;
                w.u8(b.reserved << 1 | u8::from(b.local))?;
                w.bytes(b.extensions)
            }
            IcmpBody::ExtendedEchoReply(b) => {
                if b.state.0 > 7 {
                    return Err(Error::bad_value(
                        Layer::Icmp,
                        "state",
                        field::EXTENDED_FLAGS,
                        "≤ 7 (3 bits)",
                        u64::from(b.state.0),
                    ));
                }
                if b.reserved > 3 {
                    return Err(Error::bad_value(
                        Layer::Icmp,
                        "reserved",
                        field::EXTENDED_FLAGS,
                        "≤ 3 (2 bits)",
                        u64::from(b.reserved),
                    ));
                }
                let flags = b.state.0 << 5
                    | b.reserved << 3
                    | u8::from(b.active) << 2
                    | u8::from(b.ipv4) << 1
                    | u8::from(b.ipv6);
                w.u16(b.identifier)?;
                w.u8(b.sequence)?;
                w.u8(flags)?;
                w.bytes(b.data)
            }
            IcmpBody::Unknown(b) => {
                w.bytes(&b.rest_of_header)?;
                w.bytes(b.data)
            }
        }
    }
}

/// Splits the bytes after the header of a type 3, 11 or 12 message into the quote and the
/// extension structure, by the RFC 4884 length field [RFC 4884 § 4.1, § 5].
fn parse_quote(length: u8, payload: &[u8]) -> Result<(&[u8], Option<IcmpExtensions<'_>>)> {
    if length == 0 {
        // A sender that predates RFC 4884, or a message without extensions: all is quote.
        return Ok((payload, None));
    }
    let quote_len = usize::from(length) * 4;
    let Some((quoted, ext)) = payload.split_at_checked(quote_len) else {
        return Err(Error::truncated(
            Layer::Icmp,
            "original datagram",
            field::LENGTH,
            HEADER_LEN + quote_len,
            HEADER_LEN + payload.len(),
        ));
    };
    if ext.is_empty() {
        return Ok((quoted, None));
    }
    let ext = IcmpExtensions::parse(ext).map_err(|e| shift_in_layer(e, HEADER_LEN + quote_len))?;
    Ok((quoted, Some(ext)))
}

/// The quote as `emit` writes it when an extension structure follows: padded with zeros to a
/// 32-bit boundary and to at least 128 octets [RFC 4884 § 4.1].
fn padded_quote_len(quoted: &[u8]) -> usize {
    quoted
        .len()
        .saturating_add(3)
        .saturating_div(4)
        .saturating_mul(4)
        .max(EXTENSION_MIN_QUOTE)
}

fn quote_len(quoted: &[u8], ext: Option<&IcmpExtensions<'_>>, fill: bool) -> usize {
    match ext {
        None => quoted.len(),
        Some(e) => {
            let q = if fill {
                padded_quote_len(quoted)
            } else {
                quoted.len()
            };
            q.saturating_add(e.len())
        }
    }
}

fn quote_length_field(
    held: u8,
    quoted: &[u8],
    ext: Option<&IcmpExtensions<'_>>,
    fill: bool,
) -> Result<u8> {
    if !fill {
        return Ok(held);
    }
    if ext.is_none() {
        return Ok(0);
    }
    let padded = padded_quote_len(quoted);
    u8::try_from(padded / 4)
        .map_err(|_| Error::too_long(Layer::Icmp, "original datagram", 255 * 4, padded))
}

fn write_quote(
    w: &mut Writer<'_>,
    quoted: &[u8],
    ext: Option<&IcmpExtensions<'_>>,
    fill: bool,
) -> Result<()> {
    w.bytes(quoted)?;
    if let Some(e) = ext {
        if fill {
            w.zeros(padded_quote_len(quoted).saturating_sub(quoted.len()))?;
        }
        let start = w.pos;
        let n = if fill {
            e.emit(w.rest())?
        } else {
            e.emit_exact(w.rest())?
        };
        w.pos = start.saturating_add(n);
    }
    Ok(())
}

fn router_entry_count(b: &RouterAdvertisement<'_>) -> Result<u8> {
    if b.entries.is_empty() {
        return Ok(0);
    }
    if b.addr_entry_size < RouterAdvertisement::ENTRY_SIZE {
        return Err(Error::bad_value(
            Layer::Icmp,
            "address entry size",
            field::ADDR_ENTRY_SIZE,
            "≥ 2",
            u64::from(b.addr_entry_size),
        ));
    }
    let entry = usize::from(b.addr_entry_size) * 4;
    if b.entries.len() % entry != 0 {
        return Err(Error::bad_value(
            Layer::Icmp,
            "router entries",
            field::DATA,
            "a multiple of the address entry size",
            b.entries.len() as u64,
        ));
    }
    let n = b.entries.len() / entry;
    u8::try_from(n).map_err(|_| Error::too_long(Layer::Icmp, "num addrs", 255, n))
}

// ---------------------------------------------------------------------------------------------
// The message
// ---------------------------------------------------------------------------------------------

/// An ICMPv4 message: its checksum and typed body (which determines type and code).
///
/// `parse` → `emit_exact` gives back the input bytes; `emit` writes the same content with the
/// checksum (and the RFC 4884 length, router address count and extension checksum) computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpMessage<'a> {
    /// The checksum as held; [`emit`](IcmpMessage::emit) computes it.
    pub checksum: u16,
    /// Type, code and everything after the checksum.
    pub body: IcmpBody<'a>,
}

impl<'a> IcmpMessage<'a> {
    /// A message with the given body and a zero checksum, for [`emit`](IcmpMessage::emit) to
    /// fill.
    pub const fn new(body: IcmpBody<'a>) -> Self {
        IcmpMessage { checksum: 0, body }
    }

    /// Parses an ICMP message: `bytes` is the IPv4 payload.
    ///
    /// Returns the message and the bytes after its structure: empty for every type whose
    /// length is open-ended (echo data, quoted datagrams, extensions, router advertisement
    /// extensions and unknown types take everything); for the fixed-size messages (timestamp,
    /// information, address mask, traceroute, router solicitation) the bytes after them.
    /// The checksum covers those bytes too: verify it with [`verify_checksum`] on all of
    /// `bytes`.
    ///
    /// Errors (all `Layer::Icmp`, offsets from the start of `bytes`):
    /// - fewer than 8 bytes: `Truncated`, field "header";
    /// - timestamp shorter than 20 bytes: `Truncated`, "timestamps"; address mask shorter than
    ///   12: "address mask"; traceroute shorter than 20: "traceroute fields";
    /// - router advertisement with addresses and an entry size below 2: `BadValue`,
    ///   "address entry size"; entries past the end: `Truncated`, "router entries";
    /// - types 3, 11, 12 whose RFC 4884 length reaches past the end: `Truncated`,
    ///   "original datagram" (offset 5); a malformed extension structure after the quote:
    ///   the errors of [`IcmpExtensions::parse`], at their offsets in the message.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<(IcmpMessage<'a>, &'a [u8])> {
        let (body, rest) = IcmpBody::parse(bytes)?;
        let checksum = match bytes.get(field::CHECKSUM) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        };
        Ok((IcmpMessage { checksum, body }, rest))
    }

    /// The message type.
    pub const fn icmp_type(&self) -> IcmpType {
        self.body.icmp_type()
    }

    /// The code octet.
    pub const fn code(&self) -> u8 {
        self.body.code()
    }

    /// Whether this is an error message [RFC 1122 § 3.2.2].
    pub const fn is_error(&self) -> bool {
        self.icmp_type().is_error()
    }

    /// Whether this is a query or a reply to one (see [`IcmpType::is_query`]).
    pub const fn is_query(&self) -> bool {
        self.icmp_type().is_query()
    }

    /// Bytes [`emit`](IcmpMessage::emit) writes.
    pub fn len(&self) -> usize {
        4 + self.body.body_len(true)
    }

    /// Bytes [`emit_exact`](IcmpMessage::emit_exact) writes; equal to [`len`](Self::len)
    /// except when an error message's quote needs padding before its extension structure.
    pub fn exact_len(&self) -> usize {
        4 + self.body.body_len(false)
    }

    /// Always false: a message has at least its type, code and checksum.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes the message with computed fields: the checksum over the whole message, the
    /// RFC 4884 length (and zero padding of the quote to a 32-bit boundary and at least 128
    /// octets) when an extension structure is present — zero when none is — the extension
    /// checksum, and the router advertisement's number of addresses. Returns the bytes
    /// written.
    ///
    /// Errors: `BufferTooSmall`; `TooLong` for a padded quote over 1020 octets or more than
    /// 255 router entries; `BadValue` for router entries not a whole number of entries, and
    /// for extended echo flag fields wider than their bits.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let n = self.write(out, true)?;
        let sum = out.get(..n).map_or(0, checksum::internet_checksum);
        if let Some(c) = out.get_mut(field::CHECKSUM) {
            c.copy_from_slice(&sum.to_be_bytes());
        }
        Ok(n)
    }

    /// Writes every field as held (checksum, lengths, counts, padding), to re-emit captured
    /// bytes or to craft invalid messages on purpose. Returns the bytes written.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        self.write(out, false)
    }

    fn write(&self, out: &mut [u8], fill: bool) -> Result<usize> {
        let needed = if fill { self.len() } else { self.exact_len() };
        if out.len() < needed {
            return Err(Error::buffer_too_small(Layer::Icmp, needed, out.len()));
        }
        let mut w = Writer::new(out, needed);
        w.u8(self.icmp_type().0)?;
        w.u8(self.code())?;
        w.u16(if fill { 0 } else { self.checksum })?;
        self.body.write(&mut w, fill)?;
        Ok(w.pos)
    }
}

/// Checks the checksum of an ICMP message as on the wire (`message` is the whole IPv4 payload):
/// the one's complement sum over all of it must come out right [RFC 792]. ICMP has no
/// pseudo-header and no "absent" value, so the result is `Good` or `Bad`.
///
/// A `message` shorter than 4 octets has no whole checksum field; the missing octets count as
/// zero (such a message does not parse anyway).
#[inline]
pub fn verify_checksum(message: &[u8]) -> ChecksumStatus {
    // A receiver's check [RFC 1071 § 2]: the sum over the message, checksum field included, is
    // all ones when the field is right. Only a wrong field needs the expected value below.
    if message.len() >= 4 && Accumulator::new().add_bytes(message).sum16() == 0xffff {
        return ChecksumStatus::Good;
    }
    let found = u16::from_be_bytes([
        message.get(2).copied().unwrap_or(0),
        message.get(3).copied().unwrap_or(0),
    ]);
    let sum = Accumulator::new()
        .add_bytes(message.get(..2).unwrap_or(message))
        .add_u16(0)
        .add_bytes(message.get(4..).unwrap_or(&[]));
    checksum::status(found, sum, false, None)
}

// ---------------------------------------------------------------------------------------------
// Router advertisement entries
// ---------------------------------------------------------------------------------------------

/// One router entry of a router advertisement [RFC 1256 § 3.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterEntry<'a> {
    /// The router's address on the interface the advertisement was sent from.
    pub address: Ipv4Addr,
    /// Preference as a default router, a signed two's-complement value; higher is better,
    /// `i32::MIN` means "never use as default".
    pub preference: i32,
    /// Octets after the preference when the entry size is above 2 words.
    pub extra: &'a [u8],
}

impl<'a> RouterEntry<'a> {
    /// The preference that means "not to be used as a default router" [RFC 1256 § 3.1].
    pub const NEVER_DEFAULT: i32 = i32::MIN;

    /// An RFC 1256 entry (two words).
    pub const fn new(address: Ipv4Addr, preference: i32) -> Self {
        RouterEntry {
            address,
            preference,
            extra: &[],
        }
    }

    /// Writes entries one after the other into `out` and returns the bytes written. Use the
    /// result as [`RouterAdvertisement::entries`], with `addr_entry_size` set to
    /// `2 + extra.len() / 4` (every entry must have the same size for that to hold).
    pub fn write(entries: &[RouterEntry<'_>], out: &mut [u8]) -> Result<usize> {
        let needed = entries.iter().fold(0usize, |n, e| {
            n.saturating_add(8).saturating_add(e.extra.len())
        });
        if out.len() < needed {
            return Err(Error::buffer_too_small(Layer::Icmp, needed, out.len()));
        }
        let mut w = Writer::new(out, needed);
        for e in entries {
            w.u32(e.address.to_bits())?;
            w.u32(e.preference as u32)?;
            w.bytes(e.extra)?;
        }
        Ok(w.pos)
    }
}

/// Iterator over the entries of a router advertisement.
#[derive(Debug, Clone)]
pub struct RouterEntries<'a> {
    rest: &'a [u8],
    entry_len: usize,
}

impl<'a> Iterator for RouterEntries<'a> {
    type Item = RouterEntry<'a>;

    fn next(&mut self) -> Option<RouterEntry<'a>> {
        if self.entry_len < 8 {
            return None;
        }
        let (entry, rest) = self.rest.split_at_checked(self.entry_len)?;
        self.rest = rest;
        let (fixed, extra) = entry.split_first_chunk::<8>()?;
        Some(RouterEntry {
            address: Ipv4Addr::new(fixed[0], fixed[1], fixed[2], fixed[3]),
            preference: i32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            extra,
        })
    }
}

impl<'a> RouterAdvertisement<'a> {
    /// The router entries, each `addr_entry_size` words long (none if that is below 2).
    pub fn entries(&self) -> RouterEntries<'a> {
        RouterEntries {
            rest: self.entries,
            entry_len: usize::from(self.addr_entry_size) * 4,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 4884 extension structure
// ---------------------------------------------------------------------------------------------

/// The ICMP extension structure [RFC 4884 § 7]: a header and a list of objects.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|      (Reserved)       |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Length            |   Class-Num   |   C-Type      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   // (Object payload) //                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    ... more objects ...                       |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpExtensions<'a> {
    /// Version (4 bits): 2.
    pub version: u8,
    /// The 12 reserved bits (zero).
    pub reserved: u16,
    /// Checksum over the extension structure, as held.
    pub checksum: u16,
    /// The objects.
    pub objects: ExtensionObjects<'a>,
}

impl Default for IcmpExtensions<'_> {
    fn default() -> Self {
        IcmpExtensions {
            version: EXTENSION_VERSION,
            reserved: 0,
            checksum: 0,
            objects: ExtensionObjects::EMPTY,
        }
    }
}

impl<'a> IcmpExtensions<'a> {
    /// Length of the extension header.
    pub const HEADER_LEN: usize = 4;

    /// A version 2 structure holding `objects` (from [`ExtensionObjects::parse`] or bytes
    /// written by [`ExtensionObject::write`]), checksum to be filled by `emit`.
    pub const fn new(objects: ExtensionObjects<'a>) -> Self {
        IcmpExtensions {
            version: EXTENSION_VERSION,
            reserved: 0,
            checksum: 0,
            objects,
        }
    }

    /// Parses an extension structure that takes all of `bytes`.
    ///
    /// Errors (`Layer::Icmp`, offsets from the start of `bytes`): fewer than 4 bytes
    /// (`Truncated`, "extension header"); a version other than 2 (`BadValue`, "extension
    /// version"); and the object errors of [`ExtensionObjects::parse`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let Some((h, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(Error::truncated(
                Layer::Icmp,
                "extension header",
                0,
                Self::HEADER_LEN,
                bytes.len(),
            ));
        };
        let version = h[0] >> 4;
        if version != EXTENSION_VERSION {
            return Err(Error::bad_value(
                Layer::Icmp,
                "extension version",
                0,
                "2",
                u64::from(version),
            ));
        }
        let objects = ExtensionObjects::parse(rest).map_err(|e| shift_in_layer(e, 4))?;
        Ok(IcmpExtensions {
            version,
            reserved: u16::from_be_bytes([h[0] & 0x0f, h[1]]),
            checksum: u16::from_be_bytes([h[2], h[3]]),
            objects,
        })
    }

    /// Bytes the structure takes.
    pub const fn len(&self) -> usize {
        Self::HEADER_LEN + self.objects.0.len()
    }

    /// Always false: the structure has at least its header.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Iterates over the objects.
    pub fn iter(&self) -> ExtensionObjectIter<'a> {
        self.objects.iter()
    }

    /// The checksum `emit` writes: over the header (checksum zero) and the objects.
    pub fn compute_checksum(&self) -> u16 {
        Accumulator::new()
            .add_u16(self.first_word())
            .add_u16(0)
            .add_bytes(self.objects.0)
            .finish()
    }

    /// Writes the structure with the checksum computed.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        self.write(out, self.compute_checksum())
    }

    /// Writes the structure as held.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        self.write(out, self.checksum)
    }

    /// Checks the checksum of an extension structure as on the wire (`bytes` from its version
    /// octet to the end of its last object) [RFC 4884 § 7].
    pub fn verify_checksum(bytes: &[u8]) -> ChecksumStatus {
        // The same layout as an ICMP message: checksum in octets 2–3 over everything.
        verify_checksum(bytes)
    }

    fn first_word(&self) -> u16 {
        u16::from(self.version & 0x0f) << 12 | (self.reserved & 0x0fff)
    }

    fn write(&self, out: &mut [u8], checksum: u16) -> Result<usize> {
        let needed = self.len();
        if out.len() < needed {
            return Err(Error::buffer_too_small(Layer::Icmp, needed, out.len()));
        }
        if self.version > 0x0f {
            return Err(Error::bad_value(
                Layer::Icmp,
                "extension version",
                0,
                "≤ 15 (4 bits)",
                u64::from(self.version),
            ));
        }
        if self.reserved > 0x0fff {
            return Err(Error::bad_value(
                Layer::Icmp,
                "extension reserved",
                0,
                "≤ 0xfff (12 bits)",
                u64::from(self.reserved),
            ));
        }
        let mut w = Writer::new(out, needed);
        w.u16(self.first_word())?;
        w.u16(checksum)?;
        w.bytes(self.objects.0)?;
        Ok(w.pos)
    }
}

/// The objects of an extension structure, validated, as bytes [RFC 4884 § 7.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExtensionObjects<'a>(&'a [u8]);

impl<'a> ExtensionObjects<'a> {
    /// No objects.
    pub const EMPTY: ExtensionObjects<'static> = ExtensionObjects(&[]);

    /// Validates a sequence of objects that takes all of `bytes`.
    ///
    /// Errors (`Layer::Icmp`, offsets from the start of `bytes`): fewer than 4 bytes left for
    /// an object header (`Truncated`, "extension object header"); an object length below 4
    /// (`BadValue`, "extension object length"); an object past the end (`Truncated`,
    /// "extension object length").
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let mut at = 0usize;
        while let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
            let Some((h, _)) = rest.split_first_chunk::<4>() else {
                return Err(Error::truncated(
                    Layer::Icmp,
                    "extension object header",
                    at,
                    at.saturating_add(ExtensionObject::HEADER_LEN),
                    bytes.len(),
                ));
            };
            let length = usize::from(u16::from_be_bytes([h[0], h[1]]));
            if length < ExtensionObject::HEADER_LEN {
                return Err(Error::bad_value(
                    Layer::Icmp,
                    "extension object length",
                    at,
                    "≥ 4",
                    length as u64,
                ));
            }
            if length > rest.len() {
                return Err(Error::truncated(
                    Layer::Icmp,
                    "extension object length",
                    at,
                    at.saturating_add(length),
                    bytes.len(),
                ));
            }
            at = at.saturating_add(length);
        }
        Ok(ExtensionObjects(bytes))
    }

    /// The objects' bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Iterates over the objects.
    pub fn iter(&self) -> ExtensionObjectIter<'a> {
        ExtensionObjectIter { rest: self.0 }
    }
}

impl<'a> IntoIterator for ExtensionObjects<'a> {
    type Item = ExtensionObject<'a>;
    type IntoIter = ExtensionObjectIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over extension objects; stops at the end or at a malformed object (which
/// [`ExtensionObjects::parse`] never lets through).
#[derive(Debug, Clone)]
pub struct ExtensionObjectIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ExtensionObjectIter<'a> {
    type Item = ExtensionObject<'a>;

    fn next(&mut self) -> Option<ExtensionObject<'a>> {
        let (h, _) = self.rest.split_first_chunk::<4>()?;
        let length = usize::from(u16::from_be_bytes([h[0], h[1]]));
        if length < ExtensionObject::HEADER_LEN {
            self.rest = &[];
            return None;
        }
        let Some((object, rest)) = self.rest.split_at_checked(length) else {
            self.rest = &[];
            return None;
        };
        self.rest = rest;
        Some(ExtensionObject {
            class_num: ExtensionClass(h[2]),
            c_type: h[3],
            payload: object.get(ExtensionObject::HEADER_LEN..).unwrap_or(&[]),
        })
    }
}

/// An extension object class [IANA "ICMP Extension Object Classes"].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionClass(pub u8);

impl ExtensionClass {
    /// MPLS label stack [RFC 4950].
    pub const MPLS_LABEL_STACK: ExtensionClass = ExtensionClass(1);
    /// Interface information [RFC 5837].
    pub const INTERFACE_INFORMATION: ExtensionClass = ExtensionClass(2);
    /// Interface identification [RFC 8335 § 2.1].
    pub const INTERFACE_IDENTIFICATION: ExtensionClass = ExtensionClass(3);
    /// Extended information [RFC 9448].
    pub const EXTENDED_INFORMATION: ExtensionClass = ExtensionClass(4);
}

/// One extension object [RFC 4884 § 7.1]. Its length field is always `4 + payload.len()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionObject<'a> {
    /// Class.
    pub class_num: ExtensionClass,
    /// Type within the class.
    pub c_type: u8,
    /// The object payload.
    pub payload: &'a [u8],
}

impl<'a> ExtensionObject<'a> {
    /// Length of an object header.
    pub const HEADER_LEN: usize = 4;

    /// Bytes the object takes.
    pub const fn len(&self) -> usize {
        Self::HEADER_LEN + self.payload.len()
    }

    /// Always false: an object has at least its header.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes objects one after the other into `out`, filling their lengths, and returns the
    /// bytes written; parse them back with [`ExtensionObjects::parse`]. Errors:
    /// `BufferTooSmall`, and `TooLong` for a payload over 65531 octets.
    pub fn write(objects: &[ExtensionObject<'_>], out: &mut [u8]) -> Result<usize> {
        let needed = objects
            .iter()
            .fold(0usize, |n, o| n.saturating_add(o.len()));
        if out.len() < needed {
            return Err(Error::buffer_too_small(Layer::Icmp, needed, out.len()));
        }
        let mut w = Writer::new(out, needed);
        for o in objects {
            let length = u16::try_from(o.len()).map_err(|_| {
                Error::too_long(Layer::Icmp, "extension object length", 0xffff, o.len())
            })?;
            w.u16(length)?;
            w.u8(o.class_num.0)?;
            w.u8(o.c_type)?;
            w.bytes(o.payload)?;
        }
        Ok(w.pos)
    }

    /// The label stack entries of an MPLS label stack object (class 1, c-type 1) [RFC 4950],
    /// or `None` for another object. A payload not a multiple of 4 octets ends the iteration
    /// at the last whole entry.
    pub fn mpls_labels(&self) -> Option<MplsLabels<'a>> {
        (self.class_num == ExtensionClass::MPLS_LABEL_STACK && self.c_type == 1)
            .then_some(MplsLabels { rest: self.payload })
    }

    /// The interface an interface identification object (class 3) names [RFC 8335 § 2.1], or
    /// `None` for another class.
    ///
    /// Errors: an index object whose payload is not 4 octets (`BadValue`, "interface index");
    /// an address object shorter than its header or its address length (`Truncated`,
    /// "interface address"). Offsets count from the start of the object.
    pub fn interface_identification(&self) -> Option<Result<InterfaceIdentification<'a>>> {
        if self.class_num != ExtensionClass::INTERFACE_IDENTIFICATION {
            return None;
        }
        let p = self.payload;
        Some(match self.c_type {
            1 => Ok(InterfaceIdentification::Name(p)),
            2 => match p {
                &[a, b, c, d] => Ok(InterfaceIdentification::Index(u32::from_be_bytes([
                    a, b, c, d,
                ]))),
                _ => Err(Error::bad_value(
                    Layer::Icmp,
                    "interface index",
                    Self::HEADER_LEN,
                    "a 4-octet payload",
                    p.len() as u64,
                )),
            },
            3 => match p.split_first_chunk::<4>() {
                Some((h, rest)) => {
                    let addr_len = usize::from(h[2]);
                    match rest.split_at_checked(addr_len) {
                        Some((address, padding)) => Ok(InterfaceIdentification::Address {
                            afi: u16::from_be_bytes([h[0], h[1]]),
                            reserved: h[3],
                            address,
                            padding,
                        }),
                        None => Err(Error::truncated(
                            Layer::Icmp,
                            "interface address",
                            Self::HEADER_LEN + 4,
                            Self::HEADER_LEN + 4 + addr_len,
                            self.len(),
                        )),
                    }
                }
                None => Err(Error::truncated(
                    Layer::Icmp,
                    "interface address",
                    Self::HEADER_LEN,
                    Self::HEADER_LEN + 4,
                    self.len(),
                )),
            },
            c_type => Ok(InterfaceIdentification::Unknown { c_type, data: p }),
        })
    }
}

/// The interface an extended echo request probes [RFC 8335 § 2.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterfaceIdentification<'a> {
    /// C-type 1: by name (ASCII, padded with NULs to a 32-bit boundary).
    Name(&'a [u8]),
    /// C-type 2: by ifIndex.
    Index(u32),
    /// C-type 3: by address.
    Address {
        /// Address family (1 IPv4, 2 IPv6) [IANA "Address Family Numbers"].
        afi: u16,
        /// Reserved octet.
        reserved: u8,
        /// The address, as long as its address length octet says.
        address: &'a [u8],
        /// Octets after the address (padding to a 32-bit boundary).
        padding: &'a [u8],
    },
    /// Another c-type.
    Unknown {
        /// The c-type.
        c_type: u8,
        /// The payload.
        data: &'a [u8],
    },
}

impl InterfaceIdentification<'_> {
    /// The IPv4 address of a by-address identification with AFI 1 and a 4-octet address.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match *self {
            InterfaceIdentification::Address {
                afi: 1,
                address: &[a, b, c, d],
                ..
            } => Some(Ipv4Addr::new(a, b, c, d)),
            _ => None,
        }
    }

    /// The name of a by-name identification without its NUL padding.
    pub fn name(&self) -> Option<&[u8]> {
        match *self {
            InterfaceIdentification::Name(n) => {
                let end = n.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                n.get(..end)
            }
            _ => None,
        }
    }
}

/// One MPLS label stack entry [RFC 3032 § 2.1] as quoted by [RFC 4950].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MplsLabelEntry {
    /// Label (20 bits).
    pub label: u32,
    /// Traffic class, formerly EXP (3 bits).
    pub traffic_class: u8,
    /// Bottom of stack.
    pub bottom_of_stack: bool,
    /// Time to live.
    pub ttl: u8,
}

/// Iterator over the label stack entries of an MPLS label stack object.
#[derive(Debug, Clone)]
pub struct MplsLabels<'a> {
    rest: &'a [u8],
}

impl Iterator for MplsLabels<'_> {
    type Item = MplsLabelEntry;
    fn next(&mut self) -> Option<MplsLabelEntry> {
        let (e, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        let v = u32::from_be_bytes(*e);
        Some(MplsLabelEntry {
            label: v >> 12,
            traffic_class: ((v >> 9) & 0b111) as u8,
            bottom_of_stack: v & 0x100 != 0,
            ttl: v as u8,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Moves an error from a sub-structure starting `base` octets into the ICMP message to message
/// offsets, including the `needed`/`got` counts of a truncation (which count from the start of
/// the layer).
fn shift_in_layer(mut e: Error, base: usize) -> Error {
    if let ErrorKind::Truncated { needed, got } = e.kind {
        e.kind = ErrorKind::Truncated {
            needed: needed.saturating_add(base),
            got: got.saturating_add(base),
        };
    }
    e.shifted(base)
}

/// A bounds-checked writer over an output buffer whose size was checked beforehand (`needed`
/// is reported if a write still would not fit).
struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
    needed: usize,
}

impl<'o> Writer<'o> {
    fn new(out: &'o mut [u8], needed: usize) -> Self {
        Writer {
            out,
            pos: 0,
            needed,
        }
    }

    fn too_small(&self) -> Error {
        Error::buffer_too_small(Layer::Icmp, self.needed.max(self.pos), self.out.len())
    }

    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(b.len())
            .ok_or_else(|| self.too_small())?;
        let (needed, got) = (self.needed.max(end), self.out.len());
        let dst = self
            .out
            .get_mut(self.pos..end)
            .ok_or(Error::buffer_too_small(Layer::Icmp, needed, got))?;
        dst.copy_from_slice(b);
        self.pos = end;
        Ok(())
    }

    fn zeros(&mut self, n: usize) -> Result<()> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.too_small())?;
        let (needed, got) = (self.needed.max(end), self.out.len());
        let dst = self
            .out
            .get_mut(self.pos..end)
            .ok_or(Error::buffer_too_small(Layer::Icmp, needed, got))?;
        dst.fill(0);
        self.pos = end;
        Ok(())
    }

    fn u8(&mut self, v: u8) -> Result<()> {
        self.bytes(&[v])
    }

    fn u16(&mut self, v: u16) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    fn u32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    fn rest(&mut self) -> &mut [u8] {
        self.out.get_mut(self.pos..).unwrap_or(&mut [])
    }
}

// ---------------------------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------------------------

impl fmt::Display for IcmpMessage<'_> {
    /// A one-line summary in the style of tshark's Info column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.icmp_type();
        match &self.body {
            IcmpBody::EchoReply(b) | IcmpBody::EchoRequest(b) => write!(
                f,
                "{t} id=0x{:04x}, seq={}/{}",
                b.identifier,
                b.sequence,
                b.sequence.swap_bytes()
            ),
            IcmpBody::DestinationUnreachable(b) => {
                write!(f, "{t} ({})", b.code)?;
                if b.code == UnreachableCode::FRAGMENTATION_NEEDED {
                    write!(f, " mtu={}", b.next_hop_mtu)?;
                }
                Ok(())
            }
            IcmpBody::Redirect(b) => write!(f, "{t} ({}) gateway {}", b.code, b.gateway),
            IcmpBody::TimeExceeded(b) => write!(f, "{t} ({})", b.code),
            IcmpBody::ParameterProblem(b) => write!(f, "{t} ({}) pointer={}", b.code, b.pointer),
            IcmpBody::RouterAdvertisement(b) => {
                write!(f, "{t} addresses={} lifetime={}s", b.num_addrs, b.lifetime)
            }
            IcmpBody::Timestamp(b) | IcmpBody::TimestampReply(b) => write!(
                f,
                "{t} id=0x{:04x}, seq={}/{}",
                b.identifier,
                b.sequence,
                b.sequence.swap_bytes()
            ),
            IcmpBody::InformationRequest(b) | IcmpBody::InformationReply(b) => write!(
                f,
                "{t} id=0x{:04x}, seq={}/{}",
                b.identifier,
                b.sequence,
                b.sequence.swap_bytes()
            ),
            IcmpBody::AddressMaskRequest(b) | IcmpBody::AddressMaskReply(b) => write!(
                f,
                "{t} id=0x{:04x}, seq={}/{} mask={}",
                b.identifier,
                b.sequence,
                b.sequence.swap_bytes(),
                b.mask
            ),
            IcmpBody::ExtendedEchoRequest(b) => {
                write!(f, "{t} id=0x{:04x}, seq={}", b.identifier, b.sequence)
            }
            IcmpBody::ExtendedEchoReply(b) => write!(
                f,
                "{t} ({}) id=0x{:04x}, seq={}",
                b.code, b.identifier, b.sequence
            ),
            IcmpBody::Unknown(b) => write!(f, "{t} code={}", b.code),
            IcmpBody::SourceQuench(_)
            | IcmpBody::RouterSolicitation(_)
            | IcmpBody::Traceroute(_) => write!(f, "{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Parses, checks the checksum is good (as tshark reported), and that both emits give back
    /// the bytes.
    fn roundtrip(bytes: &[u8]) -> (IcmpMessage<'_>, &[u8]) {
        let (m, rest) = IcmpMessage::parse(bytes).unwrap();
        assert_eq!(verify_checksum(bytes), ChecksumStatus::Good);
        let consumed = bytes.len() - rest.len();
        let mut out = std::vec![0u8; bytes.len() + 200];
        let n = m.emit_exact(&mut out).unwrap();
        assert_eq!(&out[..n], &bytes[..consumed], "emit_exact");
        let n = m.emit(&mut out).unwrap();
        assert_eq!(n, m.len());
        if rest.is_empty() {
            assert_eq!(&out[..n], bytes, "emit");
        }
        (m, rest)
    }

    fn err_of(bytes: &[u8]) -> Error {
        IcmpMessage::parse(bytes).unwrap_err()
    }

    // --- Fixtures from PcapPlusPlus/IcmpPackets.pcap; values checked with `tshark -V`. ---

    #[test]
    fn router_solicitation_frame1() {
        let b = h("0a00f5ff00000000");
        let (m, rest) = roundtrip(&b);
        assert!(rest.is_empty());
        assert_eq!(m.checksum, 0xf5ff);
        assert_eq!(
            m.body,
            IcmpBody::RouterSolicitation(RouterSolicitation {
                code: 0,
                reserved: 0
            })
        );
        assert!(m.is_query() && !m.is_error());
    }

    #[test]
    fn redirect_for_host_frame2() {
        let b = h("0501383e0a0263624500003c3a0000001f01fcb30a020a020a03470708001a5c02003100");
        let (m, _) = roundtrip(&b);
        let IcmpBody::Redirect(r) = m.body else {
            panic!("{m:?}")
        };
        assert_eq!(r.code, RedirectCode::HOST);
        assert_eq!(r.gateway, Ipv4Addr::new(10, 2, 99, 98));
        assert_eq!(r.quoted.len(), 28);
        assert_eq!(r.quoted[0], 0x45);
        assert_eq!(m.body.quoted(), Some(r.quoted));
        assert!(m.is_error());
        assert_eq!(
            m.to_string(),
            "Redirect (Redirect for host) gateway 10.2.99.98"
        );
    }

    #[test]
    fn redirect_from_suricata_icmp_hdr_02() {
        let b = h("050113be0a7b00034500006400050000fe01aa100a7b0001040404040800d4c100010000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::Redirect(r) = m.body else {
            panic!()
        };
        assert_eq!(r.code.0, 1);
        assert_eq!(r.gateway, Ipv4Addr::new(10, 123, 0, 3));
    }

    #[test]
    fn mobility_agent_advertisement_frame3() {
        let b = h("09108153010200c8c0a8900280000000100a000500c83000c0a89002181011512882262a7a6014c75f0e31974ec813011800");
        let (m, _) = roundtrip(&b);
        let IcmpBody::RouterAdvertisement(ra) = m.body else {
            panic!()
        };
        assert_eq!(ra.code, RouterAdvertisement::CODE_NO_COMMON_TRAFFIC);
        assert_eq!((ra.num_addrs, ra.addr_entry_size, ra.lifetime), (1, 2, 200));
        let entries: Vec<_> = ra.entries().collect();
        assert_eq!(
            entries,
            [RouterEntry::new(
                Ipv4Addr::new(192, 168, 144, 2),
                RouterEntry::NEVER_DEFAULT
            )]
        );
        // Mobility agent advertisement extension (type 16, length 10), challenge (24, 16),
        // prefix lengths (19, 1), one pad byte.
        assert_eq!(ra.extensions.len(), 12 + 18 + 3 + 1);
        assert_eq!(&ra.extensions[..2], &[16, 10]);
        assert_eq!(ra.extensions.last(), Some(&0));
    }

    #[test]
    fn router_advertisement_frame4_and_bug_2190() {
        let b = h("090093610102000a0e50544200000000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::RouterAdvertisement(ra) = m.body else {
            panic!()
        };
        assert_eq!(ra.code, 0);
        assert_eq!(ra.lifetime, 10);
        let e: Vec<_> = ra.entries().collect();
        assert_eq!(e, [RouterEntry::new(Ipv4Addr::new(14, 80, 84, 66), 0)]);
        assert!(ra.extensions.is_empty());
        assert_eq!(
            m.to_string(),
            "Router advertisement addresses=1 lifetime=10s"
        );
    }

    const TIME_EXCEEDED_LEGACY_MPLS: &str = "0b00ac2d000000004500001c00e50000021100d90a000102ac100002c01d82a5000806070000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020007df40008010100016101";

    #[test]
    fn time_exceeded_with_pre_rfc4884_mpls_extension_frame5() {
        let b = h(TIME_EXCEEDED_LEGACY_MPLS);
        let (m, _) = roundtrip(&b);
        let IcmpBody::TimeExceeded(t) = m.body else {
            panic!()
        };
        assert_eq!(t.code, TimeExceededCode::TTL_EXCEEDED);
        assert_eq!(t.length, 0);
        // Length 0: everything is quote, no RFC 4884 extensions.
        assert_eq!(t.quoted.len(), b.len() - 8);
        assert_eq!(t.extensions, None);
        // The legacy structure at octet 128 of the quote (tshark: version 2, checksum 0x7df4
        // correct, MPLS label 22, exp 0, S 1, TTL 1).
        let ext = m.body.legacy_extensions().unwrap();
        assert_eq!((ext.version, ext.reserved, ext.checksum), (2, 0, 0x7df4));
        let objs: Vec<_> = ext.iter().collect();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].class_num, ExtensionClass::MPLS_LABEL_STACK);
        assert_eq!(objs[0].c_type, 1);
        let labels: Vec<_> = objs[0].mpls_labels().unwrap().collect();
        assert_eq!(
            labels,
            [MplsLabelEntry {
                label: 22,
                traffic_class: 0,
                bottom_of_stack: true,
                ttl: 1
            }]
        );
        assert_eq!(objs[0].interface_identification(), None);
    }

    #[test]
    fn time_exceeded_rfc4884_length_set() {
        // Frame 5 with its length octet set to 32 words and the checksum recomputed; tshark
        // reads: Length 32, checksum 0xac0d correct, extension checksum 0x7df4 correct.
        let mut b = h(TIME_EXCEEDED_LEGACY_MPLS);
        b[5] = 32;
        b[2] = 0xac;
        b[3] = 0x0d;
        let (m, _) = roundtrip(&b);
        let IcmpBody::TimeExceeded(t) = m.body else {
            panic!()
        };
        assert_eq!(t.length, 32);
        assert_eq!(t.quoted.len(), 128);
        let ext = t.extensions.unwrap();
        assert_eq!(m.body.extensions(), Some(ext));
        assert_eq!(ext.checksum, 0x7df4);
        assert_eq!(ext.len(), 12);
        assert_eq!(
            IcmpExtensions::verify_checksum(&b[8 + 128..]),
            ChecksumStatus::Good
        );
        let label = ext.iter().next().unwrap().mpls_labels().unwrap().next();
        assert_eq!(label.map(|l| l.label), Some(22));
        // With the length set, the legacy heuristic does not apply.
        assert_eq!(m.body.legacy_extensions(), None);
    }

    #[test]
    fn time_exceeded_rfc5837_interface_information() {
        // tcpdump/icmp-rfc5837.pcap: legacy placement, interface information object (class
        // 2, c-type 14, length 80), extension checksum 0x246c correct.
        let b = h("0b00ccff0000000045000028a55100000111f76a0c0404040c010101a54b82a000140000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002000246c0050020e0000000f000100000a0a0a0a40546869732d69732d7468652d6e616d652d6f662d7468652d496e746572666163652d746861742d77652d6172652d6c6f6f6b696e672d666f722d5b3a2d295d");
        let (m, _) = roundtrip(&b);
        let ext = m.body.legacy_extensions().unwrap();
        assert_eq!(ext.checksum, 0x246c);
        let o = ext.iter().next().unwrap();
        assert_eq!(o.class_num, ExtensionClass::INTERFACE_INFORMATION);
        assert_eq!(o.c_type, 14);
        assert_eq!(o.len(), 80);
        assert_eq!(&o.payload[..4], &[0, 0, 0, 15]); // ifIndex 15
        assert_eq!(o.mpls_labels().map(|l| l.count()), None);
    }

    #[test]
    fn fuzzed_time_exceeded_legacy_bad_checksum_is_not_taken() {
        // tcpdump/icmp-cksum-oobr-2.pcap: same layout, but the structure at 128 has a wrong
        // checksum, so it is not taken for an extension.
        let b = h("0b00ccff0000000045000028a55100000111f76a0c0404040c010101a54b82a000141000000000000000000000000000000000001000000000000000008000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000002000c4e40050020e0000000f000100000a0a0a0a3f546869732d69732d7468652d6e616d652d6f662d7468652d496e746572666163652d746861742d77652d6172652d6c6f6f6b696e672d666f722d5b3a2d295d");
        let (m, _) = IcmpMessage::parse(&b).unwrap();
        assert!(matches!(
            verify_checksum(&b),
            ChecksumStatus::Bad { found: 0xccff, .. }
        ));
        assert!(IcmpExtensions::parse(&b[8 + 128..]).is_ok());
        assert_eq!(m.body.legacy_extensions(), None);
        let mut out = std::vec![0u8; b.len()];
        m.emit_exact(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn port_and_host_unreachable_frames_6_and_12() {
        let b = h("0303b42a000000004500001c00e60000011101d80a000102ac100002c01e82a600080605");
        let (m, _) = roundtrip(&b);
        let IcmpBody::DestinationUnreachable(u) = m.body else {
            panic!()
        };
        assert_eq!(u.code, UnreachableCode::PORT_UNREACHABLE);
        assert_eq!((u.unused, u.length, u.next_hop_mtu), (0, 0, 0));
        assert_eq!(u.quoted.len(), 28);
        assert_eq!(m.to_string(), "Destination unreachable (Port unreachable)");

        let b = h("0301fcfe000000004500005427db40004001fe580a0000070a00006f080025e50c750004413e9f56f209080008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
        let (m, _) = roundtrip(&b);
        assert_eq!(m.code(), UnreachableCode::HOST_UNREACHABLE.0);
        assert_eq!(m.body.quoted().map(<[u8]>::len), Some(84));
    }

    #[test]
    fn fragmentation_needed_next_hop_mtu() {
        // Crafted per RFC 1191 § 4; tshark: code 4, MTU of next hop 1500, checksum correct.
        let b =
            h("0304ac7d000005dc45000578abcd4000400600000a0000010a000002c00100500000000100000000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::DestinationUnreachable(u) = m.body else {
            panic!()
        };
        assert_eq!(u.code, UnreachableCode::FRAGMENTATION_NEEDED);
        assert_eq!(u.next_hop_mtu, 1500);
        assert!(m.to_string().ends_with("(Fragmentation needed) mtu=1500"));
    }

    #[test]
    fn parameter_problem_pointer() {
        // Crafted; tshark: pointer 20, checksum correct.
        let b =
            h("0c0090b61400000046000020abcd0000401100000a0000010a00000244040500c0010035000c0000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ParameterProblem(p) = m.body else {
            panic!()
        };
        assert_eq!(p.code, ParameterProblemCode::POINTER);
        assert_eq!((p.pointer, p.length, p.unused_tail), (20, 0, 0));
        assert_eq!(p.quoted.len(), 32);
    }

    #[test]
    fn timestamp_request_and_reply_frames_7_8() {
        let b = h("0d0094763930000000f624630000000000000000");
        let (m, rest) = roundtrip(&b);
        assert!(rest.is_empty());
        assert_eq!(
            m.body,
            IcmpBody::Timestamp(Timestamp {
                code: 0,
                identifier: 0x3930,
                sequence: 0,
                originate: 16_131_171,
                receive: 0,
                transmit: 0
            })
        );
        let b = h("0e00e3193930000000f62463622df600622df600");
        let (m, _) = roundtrip(&b);
        let IcmpBody::TimestampReply(t) = m.body else {
            panic!()
        };
        assert_eq!((t.receive, t.transmit), (1_647_179_264, 1_647_179_264));
        assert_eq!(m.to_string(), "Timestamp reply id=0x3930, seq=0/0");
    }

    #[test]
    fn echo_request_and_reply_frames_9_10() {
        let data = "51a7d67d000451e408090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
        let b = h(&std::format!("0800bbb3d73b0000{data}"));
        let (m, _) = roundtrip(&b);
        assert_eq!(
            m.body,
            IcmpBody::EchoRequest(Echo {
                code: 0,
                identifier: 0xd73b,
                sequence: 0,
                data: &h(data)
            })
        );
        assert_eq!(m.to_string(), "Echo (ping) request id=0xd73b, seq=0/0");
        let b = h(&std::format!("0000c3b3d73b0000{data}"));
        let (m, _) = roundtrip(&b);
        assert!(matches!(
            m.body,
            IcmpBody::EchoReply(Echo {
                identifier: 0xd73b,
                ..
            })
        ));
        assert_eq!(m.icmp_type(), IcmpType::ECHO_REPLY);
    }

    #[test]
    fn echo_from_icmp_length_zero_capture() {
        let b = h("08000eab32830001c9bce3680000000043d8070000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
        let (m, _) = roundtrip(&b);
        assert_eq!(m.to_string(), "Echo (ping) request id=0x3283, seq=1/256");
    }

    #[test]
    fn time_exceeded_quoting_echo_frame11() {
        let b = h("0b00f4ff00000000450000540b1e4000010154760a00000608080808080055750c670001493d9f56bd8b050008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
        let (m, _) = roundtrip(&b);
        assert_eq!(m.body.quoted().map(<[u8]>::len), Some(84));
        assert_eq!(m.body.legacy_extensions(), None);
    }

    #[test]
    fn source_quench_frame13() {
        let b = h("04000c36000000004500001c0c80000040065e490102030405060708000000000008efc1");
        let (m, _) = roundtrip(&b);
        let IcmpBody::SourceQuench(s) = m.body else {
            panic!()
        };
        assert_eq!((s.code, s.unused, s.quoted.len()), (0, 0, 28));
        assert!(m.is_error());
    }

    #[test]
    fn address_mask_frames_14_15() {
        let b = h("110038f3b00c060000000000");
        let (m, _) = roundtrip(&b);
        assert_eq!(
            m.body,
            IcmpBody::AddressMaskRequest(AddressMask {
                code: 0,
                identifier: 0xb00c,
                sequence: 0x0600,
                mask: Ipv4Addr::UNSPECIFIED
            })
        );
        assert_eq!(
            m.to_string(),
            "Address mask request id=0xb00c, seq=1536/6 mask=0.0.0.0"
        );
        let b = h("12003bf3b20c000000000000");
        let (m, _) = roundtrip(&b);
        assert!(matches!(
            m.body,
            IcmpBody::AddressMaskReply(AddressMask {
                identifier: 0xb20c,
                ..
            })
        ));
    }

    #[test]
    fn fixed_size_messages_return_trailing_bytes() {
        // An address mask request with four bytes more: they are returned, and the checksum
        // (computed over all 16 bytes, as on the wire) is checked over all of them.
        let mut b = h("110000000b00060000000000deadbeef");
        let c = checksum::internet_checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        let (m, rest) = IcmpMessage::parse(&b).unwrap();
        assert_eq!(rest, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(verify_checksum(&b), ChecksumStatus::Good);
        assert_eq!(m.exact_len(), 12);
    }

    #[test]
    fn traceroute_rfc1393() {
        // Crafted per RFC 1393 § 3: id 0xabcd, outbound hops 3, return hops 0xffff, speed
        // 125000 B/s, MTU 1500; tshark: type 30, checksum correct.
        let b = h("1e004809abcd00000003ffff0001e848000005dc");
        let (m, _) = roundtrip(&b);
        assert_eq!(
            m.body,
            IcmpBody::Traceroute(Traceroute {
                code: Traceroute::CODE_FORWARDED,
                identifier: 0xabcd,
                unused: 0,
                outbound_hop_count: 3,
                return_hop_count: 0xffff,
                output_link_speed: 125_000,
                output_link_mtu: 1500
            })
        );
        assert!(!m.is_error() && !m.is_query());
    }

    #[test]
    fn information_request_and_unknown_type() {
        let b = h("0f00dec11234000a");
        let (m, _) = roundtrip(&b);
        assert_eq!(
            m.body,
            IcmpBody::InformationRequest(Information {
                code: 0,
                identifier: 0x1234,
                sequence: 10
            })
        );
        // Type 37 (domain name request) code 7: kept whole.
        let b = h("2507d1f20102030405");
        let (m, _) = roundtrip(&b);
        assert_eq!(
            m.body,
            IcmpBody::Unknown(Unknown {
                icmp_type: IcmpType(37),
                code: 7,
                rest_of_header: [1, 2, 3, 4],
                data: &[5]
            })
        );
        assert_eq!(m.to_string(), "Unknown ICMP type 37 code=7");
        assert!(!m.is_error() && !m.is_query());
    }

    // --- RFC 8335 extended echo, tcpdump/icmp-rfc8335.pcap. ---

    #[test]
    fn extended_echo_request_by_name_frame7() {
        let b = h("2a00abd4002a2a012000d819000c0301667870302e300000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoRequest(r) = m.body else {
            panic!()
        };
        assert_eq!((r.code, r.identifier, r.sequence), (0, 42, 42));
        assert_eq!((r.reserved, r.local), (0, true));
        let ext = r.extension_structure().unwrap();
        assert_eq!(ext.checksum, 0xd819);
        assert_eq!(
            IcmpExtensions::verify_checksum(r.extensions),
            ChecksumStatus::Good
        );
        let o = ext.iter().next().unwrap();
        assert_eq!(o.class_num, ExtensionClass::INTERFACE_IDENTIFICATION);
        let id = o.interface_identification().unwrap().unwrap();
        assert_eq!(id.name(), Some(&b"fxp0.0"[..]));
        assert_eq!(m.to_string(), "Extended Echo request id=0x002a, seq=42");
    }

    #[test]
    fn extended_echo_request_by_address_and_index() {
        // Frame 3: by address 149.28.74.237, L set; tshark shows a second, truncated object
        // (length 26003) after it, and an extension checksum that is wrong.
        let b = h("2a002711f72500012000f8e5000c030300010400951c4aed65933a77000017bd");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoRequest(r) = m.body else {
            panic!()
        };
        assert_eq!(r.identifier, 63269);
        let e = r.extension_structure().unwrap_err();
        assert_eq!(e.layer, Layer::Icmp);
        assert_eq!(e.field, "extension object length");
        assert_eq!(e.offset, 8 + 4 + 12);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 24 + 26003,
                got: 32
            }
        );
        assert!(matches!(
            IcmpExtensions::verify_checksum(r.extensions),
            ChecksumStatus::Bad {
                expected: 0x411e,
                found: 0xf8e5
            }
        ));
        // The first object alone.
        let objs = ExtensionObjects(&r.extensions[4..16]);
        let id = objs
            .iter()
            .next()
            .unwrap()
            .interface_identification()
            .unwrap()
            .unwrap();
        assert_eq!(id.ipv4(), Some(Ipv4Addr::new(149, 28, 74, 237)));
        // Frame 4: L clear.
        let b = h("2a004b7cf72a00002000f9d1000c030300010400951c4a0165933a900007f32d");
        let (m, _) = roundtrip(&b);
        assert!(matches!(
            m.body,
            IcmpBody::ExtendedEchoRequest(ExtendedEchoRequest { local: false, .. })
        ));
        // Frame 9: by index 42.
        let b = h("2a00b5d4002a2a012000dccb000803020000002a6583629700022de3");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoRequest(r) = m.body else {
            panic!()
        };
        let o = ExtensionObjects(&r.extensions[4..12])
            .iter()
            .next()
            .unwrap();
        assert_eq!(
            o.interface_identification(),
            Some(Ok(InterfaceIdentification::Index(42)))
        );
    }

    #[test]
    fn extended_echo_replies_frames_6_8_10() {
        let b = h("2b00b4ce002a2a072000d819000c0301667870302e3000006583629700022de3");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoReply(r) = m.body else {
            panic!()
        };
        assert_eq!(r.code, ExtendedEchoReplyCode::NO_ERROR);
        assert_eq!((r.identifier, r.sequence), (42, 42));
        assert_eq!((r.state, r.reserved), (ExtendedEchoState::RESERVED, 0));
        assert!(r.active && r.ipv4 && r.ipv6);
        assert_eq!(r.data.len(), 24);
        let b = h("2b01aad4002a2a002000d819000c0301667870302e300000");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoReply(r) = m.body else {
            panic!()
        };
        assert_eq!(r.code, ExtendedEchoReplyCode::MALFORMED_QUERY);
        assert!(!r.active && !r.ipv4 && !r.ipv6);
        assert_eq!(
            m.to_string(),
            "Extended Echo reply (Malformed Query) id=0x002a, seq=42"
        );
        let b = h("2b02b4d3002a2a002000dccb000803020000002a6583629700022de3");
        let (m, _) = roundtrip(&b);
        assert_eq!(m.code(), ExtendedEchoReplyCode::NO_SUCH_INTERFACE.0);
    }

    #[test]
    fn extended_echo_reply_state_bits() {
        // State 2 (reachable), reserved 0b01, A set.
        let b = [43, 0, 0, 0, 0, 1, 9, (2 << 5) | (1 << 3) | 0b100];
        let (m, _) = IcmpMessage::parse(&b).unwrap();
        let IcmpBody::ExtendedEchoReply(r) = m.body else {
            panic!()
        };
        assert_eq!(r.state, ExtendedEchoState::REACHABLE);
        assert_eq!(r.reserved, 1);
        assert!(r.active && !r.ipv4 && !r.ipv6);
        let mut out = [0u8; 8];
        m.emit_exact(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn extension_oob_poc_is_an_error_not_an_overread() {
        // tcpdump/icmp_ext_oob_poc.pcap: object 1 has length 6 (class 2), object 2 claims
        // 57005 bytes.
        let b = h("2a006d63000000002000cccb0006020c1122deadbeefcafe");
        let (m, _) = roundtrip(&b);
        let IcmpBody::ExtendedEchoRequest(r) = m.body else {
            panic!()
        };
        let e = r.extension_structure().unwrap_err();
        assert_eq!((e.field, e.offset), ("extension object length", 18));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 18 + 57005,
                got: 24
            }
        );
    }

    #[test]
    fn truncated_fuzzed_source_quench() {
        // tcpdump/extract_read2_asan.pcap: a 6-byte ICMP message.
        let e = err_of(&h("044303030303"));
        assert_eq!(e, Error::truncated(Layer::Icmp, "header", 0, 8, 6));
    }

    #[test]
    fn mutated_packets_from_suricata_anomaly_capture() {
        // Random ICMP types and codes (suricata-verify output-eve-anomaly-packethdr); all
        // bad checksums. Each parses (or fails cleanly) and re-emits exactly.
        for (s, expected) in [
            ("184f29042c24e213886df4d0e40763257300aec2fe36a9212573009ec77a4caa8db8d85024c12573000120393d67e070634cb09bf28a0fc0ee3280460eba93f6", 0xfc0d),
            ("0e8a9ea150b647c0dd4f309f113f43377c352e82843da0cdce2a5b2a24a5d0aad036e511000d9e97b598739b212887be911fc6f26548f08f24df0a68bbc4e09e", 0x6894),
            ("108e412573002180298bd6c0f895a6e483c6cb9df52a3489923614257300501fd0f192fa25730042692259b7067c0c6627ec5ec2b8257300d006e686e1f90037", 0x2ea6),
            ("001782f67de19b1f48e4e543b1bc8138d8dad0f9243b88852b0ff0fa257300770b91ae8d7e13e757cccba97db0a2f381d18f2782bbda96b61f3c96bab3ce72a4", 0x8b3b),
            ("05d579e812860d78756400f206b8da309236c5fa18c8ad6d12f85d8c8f2688a1947fe198a87e29db2fb0ad1d257300b544aff325730023235def9d0b1442933f", 0x205c),
            ("82b5eec78065cd67ba971d18312d9c25a6bcdef21ef37d4e46ad129eba266732219e96", 0x3646),
        ] {
            let b = h(s);
            let (m, rest) = IcmpMessage::parse(&b).unwrap();
            // tshark's "Bad checksum [should be …]".
            let found = u16::from_be_bytes([b[2], b[3]]);
            assert_eq!(verify_checksum(&b), ChecksumStatus::Bad { expected, found });
            let mut out = std::vec![0u8; b.len()];
            let n = m.emit_exact(&mut out).unwrap();
            assert_eq!(n + rest.len(), b.len());
            assert_eq!(&out[..n], &b[..n]);
        }
        // Type 14 (timestamp reply) and 16 (information reply) leave trailing bytes.
        let b = h("0e8a9ea150b647c0dd4f309f113f43377c352e82843da0cdce2a5b2a24a5d0aad036e511000d9e97b598739b212887be911fc6f26548f08f24df0a68bbc4e09e");
        assert_eq!(IcmpMessage::parse(&b).unwrap().1.len(), 64 - 20);
    }

    // --- Building messages with emit(). ---

    #[test]
    fn emit_fills_rfc4884_length_padding_and_extension_checksum() {
        let quote = h("4500001c00e50000021100d90a000102ac100002c01d82a500080607");
        let mut objs = [0u8; 8];
        let n = ExtensionObject::write(
            &[ExtensionObject {
                class_num: ExtensionClass::MPLS_LABEL_STACK,
                c_type: 1,
                payload: &[0x00, 0x01, 0x61, 0x01],
            }],
            &mut objs,
        )
        .unwrap();
        assert_eq!(n, 8);
        let objects = ExtensionObjects::parse(&objs).unwrap();
        let msg = IcmpMessage::new(IcmpBody::TimeExceeded(TimeExceeded {
            quoted: &quote,
            extensions: Some(IcmpExtensions::new(objects)),
            ..Default::default()
        }));
        assert_eq!(msg.len(), 8 + 128 + 12);
        let mut out = [0xffu8; 200];
        let n = msg.emit(&mut out).unwrap();
        // Byte for byte the RFC 4884 form of frame 5 (checked with tshark above).
        let mut expected = h(TIME_EXCEEDED_LEGACY_MPLS);
        expected[5] = 32;
        expected[2..4].copy_from_slice(&[0xac, 0x0d]);
        assert_eq!(&out[..n], &expected[..]);
        // Without extensions the length is zero and nothing is padded.
        let plain = IcmpMessage::new(IcmpBody::TimeExceeded(TimeExceeded {
            quoted: &quote,
            length: 9,
            ..Default::default()
        }));
        let n = plain.emit(&mut out).unwrap();
        assert_eq!(n, 8 + 28);
        assert_eq!(out[5], 0);
        assert_eq!(verify_checksum(&out[..n]), ChecksumStatus::Good);
    }

    #[test]
    fn emit_builds_port_unreachable_like_a_stack() {
        let quote = h("4500001c00e60000011101d80a000102ac100002c01e82a600080605");
        let msg = IcmpMessage::new(IcmpBody::DestinationUnreachable(DestinationUnreachable {
            code: UnreachableCode::PORT_UNREACHABLE,
            quoted: &quote,
            ..Default::default()
        }));
        let mut out = [0u8; 36];
        assert_eq!(msg.emit(&mut out).unwrap(), 36);
        // Frame 6 of IcmpPackets.pcap.
        assert_eq!(
            &out[..],
            &h("0303b42a000000004500001c00e60000011101d80a000102ac100002c01e82a600080605")[..]
        );
    }

    #[test]
    fn emit_computes_router_advertisement_count() {
        let mut entries = [0u8; 16];
        let n = RouterEntry::write(
            &[
                RouterEntry::new(Ipv4Addr::new(10, 0, 0, 1), 5),
                RouterEntry::new(Ipv4Addr::new(10, 0, 0, 2), -1),
            ],
            &mut entries,
        )
        .unwrap();
        assert_eq!(n, 16);
        let msg = IcmpMessage::new(IcmpBody::RouterAdvertisement(RouterAdvertisement {
            addr_entry_size: 2,
            lifetime: 1800,
            entries: &entries,
            ..Default::default()
        }));
        let mut out = [0u8; 24];
        msg.emit(&mut out).unwrap();
        assert_eq!(out[4], 2);
        assert_eq!(verify_checksum(&out), ChecksumStatus::Good);
        let (back, _) = IcmpMessage::parse(&out).unwrap();
        let IcmpBody::RouterAdvertisement(ra) = back.body else {
            panic!()
        };
        let prefs: Vec<i32> = ra.entries().map(|e| e.preference).collect();
        assert_eq!(prefs, [5, -1]);
    }

    #[test]
    fn emit_exact_keeps_wrong_fields() {
        let msg = IcmpMessage {
            checksum: 0x1234,
            body: IcmpBody::TimeExceeded(TimeExceeded {
                length: 7,
                quoted: &[1, 2, 3],
                ..Default::default()
            }),
        };
        let mut out = [0u8; 11];
        assert_eq!(msg.emit_exact(&mut out).unwrap(), 11);
        assert_eq!(out, [11, 0, 0x12, 0x34, 0, 7, 0, 0, 1, 2, 3]);
        assert!(matches!(
            verify_checksum(&out),
            ChecksumStatus::Bad { found: 0x1234, .. }
        ));
    }

    // --- Errors. ---

    #[test]
    fn header_truncated_at_every_length() {
        for n in 0..8 {
            let b = [8u8; 8];
            assert_eq!(
                err_of(&b[..n]),
                Error::truncated(Layer::Icmp, "header", 0, 8, n)
            );
        }
    }

    #[test]
    fn fixed_size_bodies_truncated() {
        let mut b = [0u8; 19];
        b[0] = 13;
        assert_eq!(
            err_of(&b),
            Error::truncated(Layer::Icmp, "timestamps", 8, 20, 19)
        );
        b[0] = 14;
        assert_eq!(
            err_of(&b[..8]).kind,
            ErrorKind::Truncated { needed: 20, got: 8 }
        );
        b[0] = 17;
        assert_eq!(
            err_of(&b[..11]),
            Error::truncated(Layer::Icmp, "address mask", 8, 12, 11)
        );
        b[0] = 18;
        assert_eq!(err_of(&b[..8]).field, "address mask");
        b[0] = 30;
        assert_eq!(
            err_of(&b),
            Error::truncated(Layer::Icmp, "traceroute fields", 8, 20, 19)
        );
    }

    #[test]
    fn router_advertisement_errors() {
        // One address with an entry size of 1 word.
        assert_eq!(
            err_of(&[9, 0, 0, 0, 1, 1, 0, 30, 10, 0, 0, 1]),
            Error::bad_value(Layer::Icmp, "address entry size", 5, "≥ 2", 1)
        );
        // Two addresses announced, one present.
        assert_eq!(
            err_of(&[9, 0, 0, 0, 2, 2, 0, 30, 10, 0, 0, 1, 0, 0, 0, 0]),
            Error::truncated(Layer::Icmp, "router entries", 8, 24, 16)
        );
        // No addresses (allowed in mobility agent advertisements [RFC 5944]); any entry size.
        let (m, _) = IcmpMessage::parse(&[9, 0, 0, 0, 0, 0, 0, 30, 16, 0]).unwrap();
        let IcmpBody::RouterAdvertisement(ra) = m.body else {
            panic!()
        };
        assert_eq!(ra.entries().count(), 0);
        assert_eq!(ra.extensions, &[16, 0]);
    }

    #[test]
    fn rfc4884_length_past_end() {
        for t in [3u8, 11, 12] {
            let b = [t, 0, 0, 0, 0, 2, 0, 0, 0x45, 0, 0, 0];
            assert_eq!(
                err_of(&b),
                Error::truncated(Layer::Icmp, "original datagram", 5, 16, 12)
            );
        }
    }

    /// A type 11 message with a 1-word quote followed by `ext`.
    fn with_extension(ext: &[u8]) -> Vec<u8> {
        let mut b = std::vec![11, 0, 0, 0, 0, 1, 0, 0, 0x45, 0, 0, 0];
        b.extend_from_slice(ext);
        b
    }

    #[test]
    fn extension_errors() {
        // Length 1 word, then no bytes: no extension structure.
        let b = with_extension(&[]);
        let (m, _) = IcmpMessage::parse(&b).unwrap();
        assert_eq!(m.body.extensions(), None);
        assert_eq!(m.body.quoted(), Some(&[0x45, 0, 0, 0][..]));
        // Partial extension header.
        assert_eq!(
            err_of(&with_extension(&[0x20, 0])),
            Error::truncated(Layer::Icmp, "extension header", 12, 16, 14)
        );
        // Version 1.
        assert_eq!(
            err_of(&with_extension(&[0x10, 0, 0, 0])),
            Error::bad_value(Layer::Icmp, "extension version", 12, "2", 1)
        );
        // Object length 3.
        assert_eq!(
            err_of(&with_extension(&[0x20, 0, 0, 0, 0, 3, 1, 1])),
            Error::bad_value(Layer::Icmp, "extension object length", 16, "≥ 4", 3)
        );
        // Object length 0 (would loop forever if accepted).
        assert_eq!(
            err_of(&with_extension(&[0x20, 0, 0, 0, 0, 0, 1, 1])).field,
            "extension object length"
        );
        // Object past the end.
        assert_eq!(
            err_of(&with_extension(&[0x20, 0, 0, 0, 0, 12, 1, 1, 0, 0, 0, 0])),
            Error::truncated(Layer::Icmp, "extension object length", 16, 28, 24)
        );
        // Second object header cut short.
        assert_eq!(
            err_of(&with_extension(&[0x20, 0, 0, 0, 0, 4, 1, 1, 0, 8])),
            Error::truncated(Layer::Icmp, "extension object header", 20, 24, 22)
        );
        // Empty objects list and a header-only object are fine.
        let b = with_extension(&[0x2f, 0xff, 0xab, 0xcd, 0, 4, 9, 9]);
        let (m, _) = IcmpMessage::parse(&b).unwrap();
        let e = m.body.extensions().unwrap();
        assert_eq!((e.version, e.reserved, e.checksum), (2, 0xfff, 0xabcd));
        let o: Vec<_> = e.iter().collect();
        assert_eq!(o.len(), 1);
        assert!(o[0].payload.is_empty());
        let mut out = [0u8; 20];
        m.emit_exact(&mut out).unwrap();
        assert_eq!(&out[..], &b[..]);
    }

    #[test]
    fn interface_identification_errors() {
        let index = ExtensionObject {
            class_num: ExtensionClass::INTERFACE_IDENTIFICATION,
            c_type: 2,
            payload: &[0, 0, 1],
        };
        assert_eq!(
            index.interface_identification(),
            Some(Err(Error::bad_value(
                Layer::Icmp,
                "interface index",
                4,
                "a 4-octet payload",
                3
            )))
        );
        let addr = ExtensionObject {
            c_type: 3,
            payload: &[0, 1, 4, 0, 10, 0],
            ..index
        };
        assert_eq!(
            addr.interface_identification(),
            Some(Err(Error::truncated(
                Layer::Icmp,
                "interface address",
                8,
                12,
                10
            )))
        );
        let short = ExtensionObject {
            c_type: 3,
            payload: &[0, 1],
            ..index
        };
        assert_eq!(
            short.interface_identification().unwrap().unwrap_err().field,
            "interface address"
        );
        let other = ExtensionObject {
            c_type: 9,
            payload: &[7],
            ..index
        };
        assert_eq!(
            other.interface_identification(),
            Some(Ok(InterfaceIdentification::Unknown {
                c_type: 9,
                data: &[7]
            }))
        );
    }

    #[test]
    fn emit_errors() {
        let echo = IcmpMessage::new(IcmpBody::EchoRequest(Echo {
            data: &[1, 2, 3],
            ..Default::default()
        }));
        let mut out = [0u8; 10];
        assert_eq!(
            echo.emit(&mut out),
            Err(Error::buffer_too_small(Layer::Icmp, 11, 10))
        );
        assert_eq!(
            echo.emit_exact(&mut out[..3]),
            Err(Error::buffer_too_small(Layer::Icmp, 11, 3))
        );

        // A quote that cannot be described in 255 words.
        let big = [0u8; 1021];
        let te = IcmpMessage::new(IcmpBody::TimeExceeded(TimeExceeded {
            quoted: &big,
            extensions: Some(IcmpExtensions::default()),
            ..Default::default()
        }));
        let mut out = [0u8; 1100];
        assert_eq!(
            te.emit(&mut out),
            Err(Error::too_long(
                Layer::Icmp,
                "original datagram",
                1020,
                1024
            ))
        );
        // emit_exact does not care.
        assert!(te.emit_exact(&mut out).is_ok());

        // Router entries that are not whole entries, too many, or entry size too small.
        let ra = |entries: &'static [u8], size: u8| {
            IcmpMessage::new(IcmpBody::RouterAdvertisement(RouterAdvertisement {
                addr_entry_size: size,
                entries,
                ..Default::default()
            }))
        };
        let mut out = [0u8; 9000];
        assert_eq!(
            ra(&[0; 12], 2).emit(&mut out),
            Err(Error::bad_value(
                Layer::Icmp,
                "router entries",
                8,
                "a multiple of the address entry size",
                12
            ))
        );
        assert_eq!(
            ra(&[0; 8 * 256], 2).emit(&mut out),
            Err(Error::too_long(Layer::Icmp, "num addrs", 255, 256))
        );
        assert_eq!(
            ra(&[0; 8], 1).emit(&mut out),
            Err(Error::bad_value(
                Layer::Icmp,
                "address entry size",
                5,
                "≥ 2",
                1
            ))
        );
        assert!(ra(&[0; 8 * 255], 2).emit(&mut out).is_ok());

        // Extended echo fields wider than their bits.
        let req = IcmpMessage::new(IcmpBody::ExtendedEchoRequest(ExtendedEchoRequest {
            reserved: 0x80,
            ..Default::default()
        }));
        assert_eq!(req.emit(&mut out).unwrap_err().field, "reserved");
        let rep = |state: u8, reserved: u8| {
            IcmpMessage::new(IcmpBody::ExtendedEchoReply(ExtendedEchoReply {
                state: ExtendedEchoState(state),
                reserved,
                ..Default::default()
            }))
        };
        assert_eq!(rep(8, 0).emit(&mut out).unwrap_err().field, "state");
        assert_eq!(
            rep(0, 4).emit_exact(&mut out).unwrap_err().field,
            "reserved"
        );
        assert!(rep(7, 3).emit(&mut out).is_ok());

        // Extension header fields wider than their bits.
        let ext = IcmpExtensions {
            version: 16,
            ..Default::default()
        };
        assert_eq!(ext.emit(&mut out).unwrap_err().field, "extension version");
        let ext = IcmpExtensions {
            reserved: 0x1000,
            ..Default::default()
        };
        assert_eq!(
            ext.emit_exact(&mut out).unwrap_err().field,
            "extension reserved"
        );
        assert_eq!(
            IcmpExtensions::default().emit(&mut out[..3]),
            Err(Error::buffer_too_small(Layer::Icmp, 4, 3))
        );

        // Writers.
        let payload = [0u8; 65532];
        let mut big_out = std::vec![0u8; 70000];
        assert_eq!(
            ExtensionObject::write(
                &[ExtensionObject {
                    class_num: ExtensionClass(1),
                    c_type: 1,
                    payload: &payload
                }],
                &mut big_out
            ),
            Err(Error::too_long(
                Layer::Icmp,
                "extension object length",
                0xffff,
                65536
            ))
        );
        assert_eq!(
            ExtensionObject::write(
                &[ExtensionObject {
                    class_num: ExtensionClass(1),
                    c_type: 1,
                    payload: &[1]
                }],
                &mut big_out[..4]
            ),
            Err(Error::buffer_too_small(Layer::Icmp, 5, 4))
        );
        assert_eq!(
            RouterEntry::write(&[RouterEntry::new(Ipv4Addr::LOCALHOST, 0)], &mut out[..7]),
            Err(Error::buffer_too_small(Layer::Icmp, 8, 7))
        );
    }

    #[test]
    fn type_classification_rfc1122() {
        for t in [3u8, 4, 5, 11, 12] {
            assert!(IcmpType(t).is_error(), "{t}");
            assert!(!IcmpType(t).is_query(), "{t}");
        }
        for t in [0u8, 8, 13, 14, 15, 16, 17, 18, 9, 10, 42, 43] {
            assert!(IcmpType(t).is_query(), "{t}");
            assert!(!IcmpType(t).is_error(), "{t}");
        }
        for t in [6u8, 30, 40, 255] {
            assert!(!IcmpType(t).is_query() && !IcmpType(t).is_error(), "{t}");
        }
        assert!(IcmpType::TIME_EXCEEDED.has_rfc4884_length());
        assert!(!IcmpType::REDIRECT.has_rfc4884_length());
        assert_eq!(
            UnreachableCode(13).to_string(),
            "Communication administratively filtered"
        );
        assert_eq!(UnreachableCode::PRECEDENCE_CUTOFF.0, 15);
        assert_eq!(UnreachableCode(16).name(), None);
        assert_eq!(RedirectCode::TOS_HOST.0, 3);
        assert_eq!(TimeExceededCode::FRAGMENT_REASSEMBLY.0, 1);
        assert_eq!(ParameterProblemCode::BAD_LENGTH.0, 2);
        assert_eq!(IcmpType(99).to_string(), "Unknown ICMP type 99");
    }

    #[test]
    fn checksum_edge_cases() {
        // Shorter than the checksum field: the missing octets count as zero.
        assert_eq!(
            verify_checksum(&[8]),
            ChecksumStatus::Bad {
                expected: 0xf7ff,
                found: 0
            }
        );
        // Odd length: the last byte is padded with zero [RFC 792].
        let mut b = std::vec![8, 0, 0, 0, 0, 1, 0, 1, 0xab];
        let c = checksum::internet_checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(verify_checksum(&b), ChecksumStatus::Good);
        b[8] ^= 1;
        assert!(matches!(verify_checksum(&b), ChecksumStatus::Bad { .. }));
    }

    // --- Property tests. ---

    /// The owned ingredients of any message body, built into an `IcmpBody` by `build`.
    #[derive(Debug, Clone)]
    struct Spec {
        kind: u8,
        code: u8,
        words: [u32; 5],
        flags: [bool; 4],
        data: Vec<u8>,
        /// A quote of whole words, 128..=1020 octets, used when extensions are present.
        long_quote: Vec<u8>,
        /// Extension objects (class, c-type, payload), or none.
        objects: Option<Vec<(u8, u8, Vec<u8>)>>,
        entry_size: u8,
        num_addrs: u8,
        unknown_type: u8,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            (0u8..19, any::<u8>(), any::<[u32; 5]>(), any::<[bool; 4]>()),
            vec(any::<u8>(), 0..200),
            (32usize..=255).prop_flat_map(|w| vec(any::<u8>(), w * 4)),
            proptest::option::of(vec(
                (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..24)),
                0..4,
            )),
            (2u8..=4, 0u8..=5),
            any::<u8>().prop_filter("unknown type", |t| {
                !matches!(t, 0 | 3 | 4 | 5 | 8..=18 | 30 | 42 | 43)
            }),
        )
            .prop_map(
                |((kind, code, words, flags), data, long_quote, objects, (es, na), ut)| Spec {
                    kind,
                    code,
                    words,
                    flags,
                    data,
                    long_quote,
                    objects,
                    entry_size: es,
                    num_addrs: na,
                    unknown_type: ut,
                },
            )
    }

    /// Writes the spec's extension objects into `buf`.
    fn objects_bytes(s: &Spec) -> Vec<u8> {
        let Some(objs) = &s.objects else {
            return Vec::new();
        };
        let list: Vec<ExtensionObject> = objs
            .iter()
            .map(|(c, t, p)| ExtensionObject {
                class_num: ExtensionClass(*c),
                c_type: *t,
                payload: p,
            })
            .collect();
        let mut buf = std::vec![0u8; list.iter().map(ExtensionObject::len).sum()];
        ExtensionObject::write(&list, &mut buf).unwrap();
        buf
    }

    /// A valid body whose held fields are what `emit` computes (so parse(emit(b)) == b).
    fn build<'a>(s: &'a Spec, objs: &'a [u8], entries: &'a [u8]) -> IcmpBody<'a> {
        let [w0, w1, w2, w3, w4] = s.words;
        let (hi, lo) = ((w0 >> 16) as u16, w0 as u16);
        let ext = s
            .objects
            .as_ref()
            .map(|_| IcmpExtensions::new(ExtensionObjects::parse(objs).unwrap()));
        let (quoted, length) = match ext {
            Some(_) => (&s.long_quote[..], (s.long_quote.len() / 4) as u8),
            None => (&s.data[..], 0),
        };
        let code = s.code;
        match s.kind {
            0 => IcmpBody::EchoReply(Echo {
                code,
                identifier: hi,
                sequence: lo,
                data: &s.data,
            }),
            1 => IcmpBody::EchoRequest(Echo {
                code,
                identifier: hi,
                sequence: lo,
                data: &s.data,
            }),
            2 => IcmpBody::DestinationUnreachable(DestinationUnreachable {
                code: UnreachableCode(code),
                unused: (w1 >> 24) as u8,
                length,
                next_hop_mtu: lo,
                quoted,
                extensions: ext,
            }),
            3 => IcmpBody::SourceQuench(SourceQuench {
                code,
                unused: w0,
                quoted: &s.data,
            }),
            4 => IcmpBody::Redirect(Redirect {
                code: RedirectCode(code),
                gateway: Ipv4Addr::from_bits(w0),
                quoted: &s.data,
            }),
            5 => IcmpBody::RouterAdvertisement(RouterAdvertisement {
                code,
                num_addrs: s.num_addrs,
                addr_entry_size: s.entry_size,
                lifetime: lo,
                entries,
                extensions: &s.data,
            }),
            6 => IcmpBody::RouterSolicitation(RouterSolicitation { code, reserved: w0 }),
            7 => IcmpBody::TimeExceeded(TimeExceeded {
                code: TimeExceededCode(code),
                unused: (w1 >> 24) as u8,
                length,
                unused_tail: lo,
                quoted,
                extensions: ext,
            }),
            8 => IcmpBody::ParameterProblem(ParameterProblem {
                code: ParameterProblemCode(code),
                pointer: (w1 >> 24) as u8,
                length,
                unused_tail: lo,
                quoted,
                extensions: ext,
            }),
            k @ (9 | 10) => {
                let t = Timestamp {
                    code,
                    identifier: hi,
                    sequence: lo,
                    originate: w1,
                    receive: w2,
                    transmit: w3,
                };
                if k == 9 {
                    IcmpBody::Timestamp(t)
                } else {
                    IcmpBody::TimestampReply(t)
                }
            }
            k @ (11 | 12) => {
                let i = Information {
                    code,
                    identifier: hi,
                    sequence: lo,
                };
                if k == 11 {
                    IcmpBody::InformationRequest(i)
                } else {
                    IcmpBody::InformationReply(i)
                }
            }
            k @ (13 | 14) => {
                let m = AddressMask {
                    code,
                    identifier: hi,
                    sequence: lo,
                    mask: Ipv4Addr::from_bits(w1),
                };
                if k == 13 {
                    IcmpBody::AddressMaskRequest(m)
                } else {
                    IcmpBody::AddressMaskReply(m)
                }
            }
            15 => IcmpBody::Traceroute(Traceroute {
                code,
                identifier: hi,
                unused: lo,
                outbound_hop_count: (w1 >> 16) as u16,
                return_hop_count: w1 as u16,
                output_link_speed: w2,
                output_link_mtu: w4,
            }),
            16 => IcmpBody::ExtendedEchoRequest(ExtendedEchoRequest {
                code,
                identifier: hi,
                sequence: (w1 >> 8) as u8,
                reserved: (w1 as u8) & 0x7f,
                local: s.flags[0],
                extensions: &s.data,
            }),
            17 => IcmpBody::ExtendedEchoReply(ExtendedEchoReply {
                code: ExtendedEchoReplyCode(code),
                identifier: hi,
                sequence: (w1 >> 8) as u8,
                state: ExtendedEchoState((w1 as u8) & 7),
                reserved: ((w1 >> 3) as u8) & 3,
                active: s.flags[1],
                ipv4: s.flags[2],
                ipv6: s.flags[3],
                data: &s.data,
            }),
            _ => IcmpBody::Unknown(Unknown {
                icmp_type: IcmpType(s.unknown_type),
                code,
                rest_of_header: w0.to_be_bytes(),
                data: &s.data,
            }),
        }
    }

    fn entries_for(s: &Spec) -> Vec<u8> {
        let n = usize::from(s.num_addrs) * usize::from(s.entry_size) * 4;
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31) ^ s.code)
            .collect()
    }

    const KNOWN_TYPES: &[u8] = &[
        0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 30, 42, 43,
    ];

    proptest! {
        #[test]
        fn value_emit_parse_roundtrip(s in spec()) {
            let objs = objects_bytes(&s);
            let entries = entries_for(&s);
            let body = build(&s, &objs, &entries);
            let msg = IcmpMessage::new(body);
            let mut out = std::vec![0u8; msg.len()];
            let n = msg.emit(&mut out).unwrap();
            prop_assert_eq!(n, msg.len());
            prop_assert_eq!(verify_checksum(&out), ChecksumStatus::Good);
            let (back, rest) = IcmpMessage::parse(&out).unwrap();
            prop_assert!(rest.is_empty());
            let mut expected = body;
            // The extension checksum is computed by emit.
            let ext_sum = |e: Option<IcmpExtensions>| e.map(|e| e.compute_checksum());
            match &mut expected {
                IcmpBody::DestinationUnreachable(b) => {
                    b.extensions = b.extensions.map(|e| IcmpExtensions { checksum: ext_sum(Some(e)).unwrap(), ..e });
                }
                IcmpBody::TimeExceeded(b) => {
                    b.extensions = b.extensions.map(|e| IcmpExtensions { checksum: ext_sum(Some(e)).unwrap(), ..e });
                }
                IcmpBody::ParameterProblem(b) => {
                    b.extensions = b.extensions.map(|e| IcmpExtensions { checksum: ext_sum(Some(e)).unwrap(), ..e });
                }
                _ => {}
            }
            prop_assert_eq!(back.body, expected);
            prop_assert_eq!(back.checksum, u16::from_be_bytes([out[2], out[3]]));
            if let Some(e) = back.body.extensions() {
                let start = n - e.len();
                prop_assert_eq!(IcmpExtensions::verify_checksum(&out[start..]), ChecksumStatus::Good);
                let parsed: Vec<_> = e.iter().map(|o| (o.class_num.0, o.c_type, o.payload.to_vec())).collect();
                prop_assert_eq!(Some(parsed), s.objects.clone());
            }
            // Display never fails.
            let _ = back.to_string();
        }

        #[test]
        fn valid_bytes_parse_emit_exact_identical(s in spec(), checksum in any::<u16>(), tail in vec(any::<u8>(), 0..8)) {
            let objs = objects_bytes(&s);
            let entries = entries_for(&s);
            let msg = IcmpMessage::new(build(&s, &objs, &entries));
            let mut bytes = std::vec![0u8; msg.len()];
            msg.emit(&mut bytes).unwrap();
            // Any checksum, and for the fixed-size types some trailing bytes.
            bytes[2..4].copy_from_slice(&checksum.to_be_bytes());
            let fixed_size = matches!(s.kind, 6 | 9..=15);
            if fixed_size {
                bytes.extend_from_slice(&tail);
            }
            let (parsed, rest) = IcmpMessage::parse(&bytes).unwrap();
            let consumed = bytes.len() - rest.len();
            prop_assert_eq!(consumed, msg.len());
            let mut out = std::vec![0u8; parsed.exact_len()];
            let n = parsed.emit_exact(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &bytes[..consumed]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            t in (any::<u8>(), proptest::sample::select(KNOWN_TYPES), any::<bool>()).prop_map(|(r, k, pick)| if pick { k } else { r }),
            mut bytes in vec(any::<u8>(), 0..400),
            small_length in any::<bool>(),
        ) {
            if let Some(b) = bytes.first_mut() { *b = t; }
            if small_length {
                // Make RFC 4884 lengths and router counts likely to fit.
                if let Some(b) = bytes.get_mut(5) { *b %= 8; }
                if let Some(b) = bytes.get_mut(4) { *b %= 4; }
            }
            let _ = verify_checksum(&bytes);
            if let Ok((m, rest)) = IcmpMessage::parse(&bytes) {
                let consumed = bytes.len() - rest.len();
                let mut out = std::vec![0u8; m.exact_len()];
                let n = m.emit_exact(&mut out).unwrap();
                prop_assert_eq!(&out[..n], &bytes[..consumed]);
                let mut out = std::vec![0u8; m.len()];
                let _ = m.emit(&mut out);
                let _ = m.body.legacy_extensions();
                let _ = m.to_string();
                if let IcmpBody::ExtendedEchoRequest(r) = m.body {
                    if let Ok(e) = r.extension_structure() {
                        for o in e.iter() {
                            let _ = o.interface_identification();
                            let _ = o.mpls_labels().map(Iterator::count);
                        }
                    }
                }
                if let IcmpBody::RouterAdvertisement(ra) = m.body {
                    prop_assert_eq!(ra.entries().count(), usize::from(ra.num_addrs));
                }
            }
        }

        #[test]
        fn extension_objects_write_parse(objs in vec((any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..40)), 0..6)) {
            let list: Vec<ExtensionObject> = objs.iter().map(|(c, t, p)| ExtensionObject { class_num: ExtensionClass(*c), c_type: *t, payload: p }).collect();
            let mut buf = std::vec![0u8; list.iter().map(ExtensionObject::len).sum::<usize>()];
            let n = ExtensionObject::write(&list, &mut buf).unwrap();
            prop_assert_eq!(n, buf.len());
            let parsed = ExtensionObjects::parse(&buf).unwrap();
            prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), list);
            prop_assert_eq!(parsed.as_bytes(), &buf[..]);
            // As a whole structure.
            let ext = IcmpExtensions::new(parsed);
            let mut whole = std::vec![0u8; ext.len()];
            ext.emit(&mut whole).unwrap();
            prop_assert_eq!(IcmpExtensions::verify_checksum(&whole), ChecksumStatus::Good);
            let back = IcmpExtensions::parse(&whole).unwrap();
            prop_assert_eq!(back.checksum, ext.compute_checksum());
            prop_assert_eq!(back.objects, parsed);
        }

        #[test]
        fn extension_objects_arbitrary_bytes(bytes in vec(any::<u8>(), 0..100)) {
            if let Ok(e) = IcmpExtensions::parse(&bytes) {
                let mut out = std::vec![0u8; e.len()];
                e.emit_exact(&mut out).unwrap();
                prop_assert_eq!(out, bytes.clone());
                let total: usize = e.iter().map(|o| o.len()).sum();
                prop_assert_eq!(total + 4, bytes.len());
            }
        }

        #[test]
        fn router_entries_write_iterate(list in vec((any::<u32>(), any::<i32>()), 0..10)) {
            let entries: Vec<RouterEntry> = list.iter().map(|(a, p)| RouterEntry::new(Ipv4Addr::from_bits(*a), *p)).collect();
            let mut buf = std::vec![0u8; entries.len() * 8];
            RouterEntry::write(&entries, &mut buf).unwrap();
            let ra = RouterAdvertisement { num_addrs: entries.len() as u8, addr_entry_size: 2, entries: &buf, ..Default::default() };
            prop_assert_eq!(ra.entries().collect::<Vec<_>>(), entries);
        }
    }
}
