//! Inputs the `stack_drive` fuzz target found, kept as tests (hex of the fuzzer's input).

/// The stack, as a router, forwarded another host's TCP segment with malformed options; the
/// driver's check that our own TCP sends well-formed segments took it for ours.
#[test]
fn forwarded_tcp_segments_are_not_checked_as_our_own() {
    let input = hex::decode(
        "ff1fff40ffabababababab8bababab9d9d9d9dabab9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d52762f009d9d98ababababababab9dabab9dababb49d9d9d9dababab9dabab9dababb49d9d9d9d9dabababab9d9d9dababababab9dabab9dababb49d9d9d9d9dabababab9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9dabababababababababab9d9d9d9dabab9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d52762f009d9d98ababababababab9dabab9dababb49d9d9d9d9dababab97ab9d9d9d9d9d9d9d9d9d9d9d9d9d9d9dabababababababababababab9dabab9dababb49d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d5d5454629d9d9d9d9d9d9dababababababababababab9d9d9d9d9d9d9d9d9d9d9d9d9d9d9dabababababababababababababab9dabab9dababb49d9d9d9d9dabababab9d9d9dababababab9dabab9dababb49d9d9d9d9dabababab9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d98ababababab9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d369d9d9dabababab9d9d9d9d9dabababababababababababab9dabab9dababb49d9d9d9d9d9d9d9d9d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d98ababababab9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d359d9d9dabababab9d9d9d9d9dabababababababababababab9dabab9dababb49d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d989d9d9d999d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9d9dababababababe82a",
    )
    .unwrap();
    wirecheck_stack::fuzzing::drive(&input);
}

/// A datagram from the wire with the router's own address as its source was forwarded; it is a
/// spoof and is now dropped as a martian (RFC 1812 § 5.3.7).
#[test]
fn own_source_address_from_the_wire_is_not_forwarded() {
    let input = hex::decode(
        "fffffffffdffff41ffff0000000000430901ff3fffffff0300000000000080ffffffff3dfffffffdffff41ffff00004000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00004309ffff0153",
    )
    .unwrap();
    wirecheck_stack::fuzzing::drive(&input);
}

/// After `handle_timeout(now)` a deadline at `now` was still pending (the driver's check that
/// every due timer is handled).
#[test]
fn no_deadline_is_left_due_after_handle_timeout() {
    let input = hex::decode(
        "5dfb49000b0a0001fb01fb400000396fff0a5a1a5a5a5a5a3dfb49000b0a0018212121c100000000000005eadea9dede02bba00200561800400000396fff0a00c1ff6f6f6e6f6f58585858585858585858585858582121210afb52ff913f9191ffc2ffffc1deffffffffffffffffde5a5a3dfb49000b0a004458585811000000000061617161fb9e343504dea9de",
    )
    .unwrap();
    wirecheck_stack::fuzzing::drive(&input);
}

/// A second way to leave a deadline at `now` after `handle_timeout(now)`.
#[test]
fn no_deadline_is_left_due_after_handle_timeout_2() {
    let input = hex::decode(
        "fa3636363636363601553b000000000000007d7d5d7c363601553b000000000000007d7d5d7c7d67676767671e67676767676f6f6f0b6f6f6f6f6fffffff6f6f6f6f7d67676767671e67676767676f6f6f0b6f6f6f6f6fffffff6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6fff2a300a6f6f4314",
    )
    .unwrap();
    wirecheck_stack::fuzzing::drive(&input);
}
