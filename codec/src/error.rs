//! The crate's one error type.
//!
//! Every error names the protocol layer, the field, the byte offset and what was expected versus
//! what was found, so that a tool can print "IPv4 header at byte 14: total length 20 is smaller
//! than the header length 24" without any context of its own.
//!
//! Offsets are relative to the start of the slice handed to the failing `parse` call. Code that
//! parses a whole frame layer by layer moves them to frame offsets with [`Error::shifted`].

use core::fmt;

/// The protocol layer (or sub-structure) an error or finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Ethernet II header.
    Ethernet,
    /// An 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// ARP or RARP packet.
    Arp,
    /// IPv4 fixed header.
    Ipv4,
    /// An IPv4 option.
    Ipv4Option,
    /// ICMPv4 message.
    Icmp,
    /// IGMP message.
    Igmp,
    /// UDP header.
    Udp,
    /// TCP fixed header.
    Tcp,
    /// A TCP option.
    TcpOption,
    /// IPv4 fragmentation or reassembly.
    Fragment,
}

impl Layer {
    /// A short human name, as used in messages ("IPv4", "TCP option", …).
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Ethernet => "Ethernet",
            Layer::Vlan => "VLAN tag",
            Layer::Arp => "ARP",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv4Option => "IPv4 option",
            Layer::Icmp => "ICMP",
            Layer::Igmp => "IGMP",
            Layer::Udp => "UDP",
            Layer::Tcp => "TCP",
            Layer::TcpOption => "TCP option",
            Layer::Fragment => "IPv4 fragment",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong, with the numbers involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input ends before the structure does: `needed` bytes (counted from the start of the
    /// layer) are required, only `got` are there.
    Truncated {
        /// Bytes required from the start of the layer.
        needed: usize,
        /// Bytes available from the start of the layer.
        got: usize,
    },
    /// A field holds a value the protocol does not allow (version 5, IHL 3, option length 1, …).
    BadValue {
        /// What the field must hold, in words ("4", "≥ 5", "≤ total length").
        expected: &'static str,
        /// The value found.
        found: u64,
    },
    /// The output buffer handed to an `emit` call is too small.
    BufferTooSmall {
        /// Bytes the emit needs.
        needed: usize,
        /// Bytes the buffer has.
        got: usize,
    },
    /// A value to emit does not fit its field (options longer than 40 bytes, a payload longer
    /// than a 16-bit length field can describe, …).
    TooLong {
        /// The largest value the field can describe.
        max: usize,
        /// The value that was asked for.
        got: usize,
    },
    /// The datagram has Don't Fragment set and is larger than the link MTU; a stack answers with
    /// ICMP Destination Unreachable, Fragmentation Needed, carrying this next-hop MTU
    /// [RFC 1191 § 4].
    FragmentationNeeded {
        /// The MTU of the next hop.
        mtu: u16,
    },
}

/// An error from a `parse` or `emit` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    /// The layer the error is in.
    pub layer: Layer,
    /// The field at fault, by its protocol name ("total length", "IHL", "option length").
    pub field: &'static str,
    /// Byte offset of the field, from the start of the parsed slice (or of the frame, once
    /// [`shifted`](Error::shifted)).
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
    /// For IPv4 header and option errors that a receiving host must answer with ICMP Parameter
    /// Problem: the pointer to put in that message (the octet offset of the bad field within the
    /// IP header, [RFC 792, Parameter Problem]).
    pub pointer: Option<u8>,
}

impl Error {
    /// An error for input that ends too early.
    pub const fn truncated(
        layer: Layer,
        field: &'static str,
        offset: usize,
        needed: usize,
        got: usize,
    ) -> Self {
        Error {
            layer,
            field,
            offset,
            kind: ErrorKind::Truncated { needed, got },
            pointer: None,
        }
    }

    /// An error for a field holding a value the protocol does not allow.
    pub const fn bad_value(
        layer: Layer,
        field: &'static str,
        offset: usize,
        expected: &'static str,
        found: u64,
    ) -> Self {
        Error {
            layer,
            field,
            offset,
            kind: ErrorKind::BadValue { expected, found },
            pointer: None,
        }
    }

    /// An error for an output buffer that is too small.
    pub const fn buffer_too_small(layer: Layer, needed: usize, got: usize) -> Self {
        Error {
            layer,
            field: "output buffer",
            offset: 0,
            kind: ErrorKind::BufferTooSmall { needed, got },
            pointer: None,
        }
    }

    /// An error for a value too large for its field on emit.
    pub const fn too_long(layer: Layer, field: &'static str, max: usize, got: usize) -> Self {
        Error {
            layer,
            field,
            offset: 0,
            kind: ErrorKind::TooLong { max, got },
            pointer: None,
        }
    }

    /// The same error with the ICMP Parameter Problem pointer set.
    pub const fn with_pointer(mut self, pointer: u8) -> Self {
        self.pointer = Some(pointer);
        self
    }

    /// The same error with its offset moved by `base` bytes, for errors from an inner layer
    /// reported against the whole frame.
    pub const fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }

    /// Whether the error is only a lack of bytes (as in a snaplen-truncated capture), as
    /// opposed to a wrong value.
    pub const fn is_truncation(&self) -> bool {
        matches!(self.kind, ErrorKind::Truncated { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "TCP option" + "option length" reads as "TCP option length".
        let field = match self.layer {
            Layer::Ipv4Option | Layer::TcpOption => {
                self.field.strip_prefix("option ").unwrap_or(self.field)
            }
            _ => self.field,
        };
        write!(f, "{} {} at byte {}: ", self.layer, field, self.offset)?;
        match self.kind {
            ErrorKind::Truncated { needed, got } => write!(
                f,
                "truncated: needs {needed} bytes from the start of the {}, only {got} present",
                self.layer
            ),
            ErrorKind::BadValue { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ErrorKind::BufferTooSmall { needed, got } => {
                write!(
                    f,
                    "output buffer too small: needs {needed} bytes, has {got}"
                )
            }
            ErrorKind::TooLong { max, got } => write!(f, "{got} does not fit (at most {max})"),
            ErrorKind::FragmentationNeeded { mtu } => write!(
                f,
                "datagram is larger than the MTU {mtu} and Don't Fragment is set"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_names_layer_field_offset_and_values() {
        let e = Error::bad_value(Layer::Ipv4, "IHL", 0, "≥ 5", 3).shifted(14);
        assert_eq!(e.to_string(), "IPv4 IHL at byte 14: expected ≥ 5, found 3");
        let t = Error::truncated(Layer::Tcp, "header", 0, 20, 7);
        assert_eq!(
            t.to_string(),
            "TCP header at byte 0: truncated: needs 20 bytes from the start of the TCP, only 7 present"
        );
        assert!(t.is_truncation());
        assert!(!e.is_truncation());
    }

    #[test]
    fn pointer_survives_shift() {
        let e = Error::bad_value(Layer::Ipv4Option, "option length", 22, "≥ 2", 1)
            .with_pointer(21)
            .shifted(14);
        assert_eq!(e.pointer, Some(21));
        assert_eq!(e.offset, 36);
        assert_eq!(
            e.to_string(),
            "IPv4 option length at byte 36: expected ≥ 2, found 1"
        );
    }
}
