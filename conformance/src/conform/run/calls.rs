//! Socket call lines: from the script's C-like call (`accept(3, ..., ...) = 4`) to a
//! [`SocketCall`], and the comparison of what the target returned with what the script
//! expects.
//!
//! Descriptors are mapped: the number the script expects `socket` or `accept` to return names
//! whatever descriptor the target handed out. `...` addresses take packetdrill's defaults: the
//! target's address and port 8080 for `bind`, the remote end and port 8080 for `connect`, the
//! remote end and the runner's port for `sendto`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::super::script::{CallEvent, Expr};
use super::super::target::{
    CallOk, CallOutcome, Errno, PollEvents, PollRequest, ShutdownHow, SocketCall, SocketKind,
    SocketOption,
};
use super::{Session, DEFAULT_REMOTE_PORT, DEFAULT_SERVICE_PORT};

/// `O_RDWR` and `O_NONBLOCK` as Linux numbers them (what `fcntl(F_GETFL)` returns).
const O_RDWR: i64 = 0o2;
const O_NONBLOCK: i64 = 0o4000;

/// What the runner knows of a descriptor, by the number the script uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Descriptor {
    live: i32,
    kind: SocketKind,
    nonblocking: bool,
    local_port: Option<u16>,
}

/// Descriptors the script has opened.
#[derive(Debug, Clone, Default)]
pub(super) struct FdTable {
    by_script: BTreeMap<i32, Descriptor>,
    /// Most descriptors tracked (a script opening more is broken).
    limit_reached: bool,
}

const MAX_DESCRIPTORS: usize = 1024;

impl FdTable {
    fn live(&self, script_fd: i32) -> i32 {
        self.by_script.get(&script_fd).map_or(script_fd, |d| d.live)
    }

    fn get(&self, script_fd: i32) -> Option<&Descriptor> {
        self.by_script.get(&script_fd)
    }

    fn get_mut(&mut self, script_fd: i32) -> Option<&mut Descriptor> {
        self.by_script.get_mut(&script_fd)
    }

    fn script_fd_of_live(&self, live: i32) -> Option<(i32, &Descriptor)> {
        self.by_script
            .iter()
            .find(|(_, d)| d.live == live)
            .map(|(s, d)| (*s, d))
    }

    fn insert(&mut self, script_fd: i32, descriptor: Descriptor) {
        if self.by_script.len() >= MAX_DESCRIPTORS && !self.by_script.contains_key(&script_fd) {
            self.limit_reached = true;
            return;
        }
        self.by_script.insert(script_fd, descriptor);
    }

    /// Whether `call` (made as the script's `event`) blocks on this descriptor: not when the
    /// descriptor is non-blocking or the call passes `MSG_DONTWAIT`.
    pub(super) fn is_blocking(&self, call: &SocketCall, event: &CallEvent) -> bool {
        let dontwait = event.args.iter().any(|a| has_symbol(a, "MSG_DONTWAIT"));
        let nonblocking = call_fd(call)
            .and_then(|live| self.script_fd_of_live(live))
            .is_some_and(|(_, d)| d.nonblocking);
        !dontwait && !nonblocking
    }
}

fn call_fd(call: &SocketCall) -> Option<i32> {
    match call {
        SocketCall::Socket { .. } => None,
        SocketCall::Bind { fd, .. }
        | SocketCall::Listen { fd, .. }
        | SocketCall::Accept { fd }
        | SocketCall::Connect { fd, .. }
        | SocketCall::Write { fd, .. }
        | SocketCall::WriteUrgent { fd, .. }
        | SocketCall::Read { fd, .. }
        | SocketCall::SendTo { fd, .. }
        | SocketCall::RecvFrom { fd, .. }
        | SocketCall::Shutdown { fd, .. }
        | SocketCall::Close { fd }
        | SocketCall::SetOption { fd, .. }
        | SocketCall::GetOption { fd, .. }
        | SocketCall::SetNonBlocking { fd, .. }
        | SocketCall::JoinGroup { fd, .. }
        | SocketCall::LeaveGroup { fd, .. } => Some(*fd),
        SocketCall::Poll { .. } => None,
    }
}

/// A call line made into something to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Translated {
    /// Ask the target.
    Call(SocketCall),
    /// The runner answers itself (`fcntl(F_GETFL)`, `SO_LINGER` off), with a note.
    Local { value: i64, note: Option<String> },
}

/// Why a call line cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TranslateError {
    /// The runner has no equivalent: the scenario is not applicable.
    Unsupported(String),
    /// The line is malformed.
    Bad(String),
}

fn bad(what: impl Into<String>) -> TranslateError {
    TranslateError::Bad(what.into())
}

fn unsupported(what: impl Into<String>) -> TranslateError {
    TranslateError::Unsupported(what.into())
}

fn has_symbol(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Symbol(s) => s == name,
        Expr::Or(list) => list.iter().any(|x| has_symbol(x, name)),
        _ => false,
    }
}

/// Numeric value of an expression: integers, `A|B`, `[N]`, and the symbols scripts use as
/// values.
fn int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(v) => Some(*v),
        Expr::List(list) if list.len() == 1 => int(&list[0]),
        Expr::Or(list) => list.iter().try_fold(0i64, |acc, x| Some(acc | int(x)?)),
        Expr::Symbol(s) => symbol_value(s),
        _ => None,
    }
}

fn symbol_value(s: &str) -> Option<i64> {
    if let Some(e) = Errno::from_name(s) {
        return Some(i64::from(e.number()));
    }
    Some(match s {
        "O_RDONLY" => 0,
        "O_WRONLY" => 1,
        "O_RDWR" => O_RDWR,
        "O_NONBLOCK" => O_NONBLOCK,
        "MSG_OOB" => 1,
        "MSG_PEEK" => 2,
        "MSG_DONTWAIT" => 0x40,
        "MSG_NOSIGNAL" => 0x4000,
        "SHUT_RD" => 0,
        "SHUT_WR" => 1,
        "SHUT_RDWR" => 2,
        "INADDR_ANY" => 0,
        _ => {
            if let Some((_, bit)) = PollEvents::NAMED.iter().find(|(name, _)| *name == s) {
                return Some(i64::from(bit.0));
            }
            // htons(8080) and the like.
            let inner = s
                .strip_prefix("htons(")
                .or_else(|| s.strip_prefix("htonl("))?;
            return inner.strip_suffix(')')?.trim().parse().ok();
        }
    })
}

fn arg(call: &CallEvent, index: usize) -> Result<&Expr, TranslateError> {
    call.args.get(index).ok_or_else(|| {
        bad(format!(
            "{} needs at least {} arguments",
            call.name,
            index + 1
        ))
    })
}

fn fd_arg(call: &CallEvent, fds: &FdTable) -> Result<i32, TranslateError> {
    let e = arg(call, 0)?;
    let v = int(e).ok_or_else(|| bad(format!("descriptor {} is not a number", render_expr(e))))?;
    let script_fd = i32::try_from(v).map_err(|_| bad(format!("descriptor {v} out of range")))?;
    Ok(fds.live(script_fd))
}

fn script_fd_arg(call: &CallEvent) -> Option<i32> {
    call.args
        .first()
        .and_then(int)
        .and_then(|v| i32::try_from(v).ok())
}

fn len_arg(call: &CallEvent, index: usize) -> Result<usize, TranslateError> {
    let e = arg(call, index)?;
    int(e).and_then(|v| usize::try_from(v).ok()).ok_or_else(|| {
        bad(format!(
            "length {} is not a non-negative number",
            render_expr(e)
        ))
    })
}

/// An address argument: `...` gives `default`.
fn address_arg(e: &Expr, default: SocketAddrV4) -> Result<SocketAddrV4, TranslateError> {
    match e {
        Expr::Ellipsis => Ok(default),
        Expr::Address(a) => Ok(*a),
        Expr::Struct(fields) => {
            let mut addr = default;
            for (name, value) in fields {
                match name.as_str() {
                    "sin_port" => {
                        let port = int(value)
                            .and_then(|p| u16::try_from(p).ok())
                            .ok_or_else(|| bad("sin_port is not a port number"))?;
                        addr.set_port(port);
                    }
                    "sin_addr" => {
                        let ip = match value {
                            Expr::Ip(ip) => *ip,
                            Expr::String(s) => s.parse().map_err(|_| {
                                bad(format!("sin_addr {s:?} is not an IPv4 address"))
                            })?,
                            Expr::Symbol(s) if s.starts_with("inet_addr(") => s
                                .trim_start_matches("inet_addr(")
                                .trim_end_matches(')')
                                .trim_matches('"')
                                .parse()
                                .map_err(|_| bad(format!("{s} is not an IPv4 address")))?,
                            other => match int(other) {
                                Some(0) => Ipv4Addr::UNSPECIFIED,
                                _ => {
                                    return Err(bad(format!(
                                        "sin_addr {} is not an IPv4 address",
                                        render_expr(other)
                                    )))
                                }
                            },
                        };
                        addr.set_ip(ip);
                    }
                    "sa_family" | "sin_family"
                        if !has_symbol(value, "AF_INET") && !matches!(value, Expr::Ellipsis) =>
                    {
                        return Err(unsupported(format!(
                            "address family {} (IPv4 only)",
                            render_expr(value)
                        )));
                    }
                    _ => {}
                }
            }
            Ok(addr)
        }
        Expr::Ip(ip) => Ok(SocketAddrV4::new(*ip, default.port())),
        other => Err(bad(format!("{} is not an address", render_expr(other)))),
    }
}

fn option_arg(level: &Expr, name: &Expr) -> Result<SocketOption, TranslateError> {
    let Expr::Symbol(n) = name else {
        return Err(unsupported(format!("socket option {}", render_expr(name))));
    };
    let _ = level;
    Ok(match n.as_str() {
        "SO_REUSEADDR" => SocketOption::ReuseAddress,
        "SO_KEEPALIVE" => SocketOption::KeepAlive,
        "SO_RCVBUF" => SocketOption::ReceiveBuffer,
        "SO_SNDBUF" => SocketOption::SendBuffer,
        "SO_LINGER" => SocketOption::Linger,
        "SO_ERROR" => SocketOption::Error,
        "TCP_NODELAY" => SocketOption::NoDelay,
        "TCP_MAXSEG" => SocketOption::MaxSegment,
        "TCP_USER_TIMEOUT" => SocketOption::UserTimeout,
        "IP_TTL" => SocketOption::TimeToLive,
        "IP_MULTICAST_TTL" => SocketOption::MulticastTimeToLive,
        "SO_OOBINLINE" => SocketOption::OobInline,
        other => {
            return Err(unsupported(format!(
                "socket option {other} has no equivalent in the runner"
            )))
        }
    })
}

fn interface_arg(e: &Expr) -> Result<usize, TranslateError> {
    match e {
        Expr::Ellipsis => Ok(0),
        Expr::Symbol(s) if s.starts_with("eth") => {
            s[3..].parse().map_err(|_| bad(format!("interface {s}")))
        }
        other => int(other)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| bad(format!("interface {} is not an index", render_expr(other)))),
    }
}

fn group_arg(e: &Expr) -> Result<Ipv4Addr, TranslateError> {
    match e {
        Expr::Ip(ip) => Ok(*ip),
        Expr::Address(a) => Ok(*a.ip()),
        Expr::String(s) => s
            .parse()
            .map_err(|_| bad(format!("group {s:?} is not an IPv4 address"))),
        other => Err(bad(format!(
            "group {} is not an IPv4 address",
            render_expr(other)
        ))),
    }
}

/// Makes a call line into a [`SocketCall`], recording the ports it implies for the script's
/// flows.
pub(super) fn translate(
    call: &CallEvent,
    fds: &mut FdTable,
    session: &mut Session,
) -> Result<Translated, TranslateError> {
    let local_ip = session.local_ip(0);
    let remote_ip = session.network.remote_ip;
    let c = match call.name.as_str() {
        "socket" => {
            if let Some(family) = call.args.first() {
                if has_symbol(family, "AF_INET6") || has_symbol(family, "PF_INET6") {
                    return Err(unsupported("IPv6 sockets (IPv4 only)"));
                }
            }
            let kind_arg = arg(call, 1)?;
            let kind = if has_symbol(kind_arg, "SOCK_STREAM") {
                SocketKind::Stream
            } else if has_symbol(kind_arg, "SOCK_DGRAM") {
                SocketKind::Datagram
            } else {
                return Err(unsupported(format!(
                    "socket type {}",
                    render_expr(kind_arg)
                )));
            };
            SocketCall::Socket { kind }
        }
        "bind" => {
            let fd = fd_arg(call, fds)?;
            let addr = address_arg(
                arg(call, 1)?,
                SocketAddrV4::new(local_ip, DEFAULT_SERVICE_PORT),
            )?;
            if let Some(d) = script_fd_arg(call).and_then(|s| fds.get_mut(s)) {
                d.local_port = Some(addr.port());
                match d.kind {
                    SocketKind::Stream => session.tcp_local_port = Some(addr.port()),
                    SocketKind::Datagram => session.udp_local_port = Some(addr.port()),
                }
            } else {
                session.tcp_local_port = Some(addr.port());
            }
            SocketCall::Bind { fd, addr }
        }
        "listen" => {
            let fd = fd_arg(call, fds)?;
            let backlog = int(arg(call, 1)?)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(1);
            if let Some(port) = script_fd_arg(call)
                .and_then(|s| fds.get(s))
                .and_then(|d| d.local_port)
            {
                session.tcp_local_port = Some(port);
            }
            session.tcp_remote_port = DEFAULT_REMOTE_PORT;
            SocketCall::Listen { fd, backlog }
        }
        "accept" => SocketCall::Accept {
            fd: fd_arg(call, fds)?,
        },
        "connect" => {
            let fd = fd_arg(call, fds)?;
            let addr = address_arg(
                arg(call, 1)?,
                SocketAddrV4::new(remote_ip, DEFAULT_SERVICE_PORT),
            )?;
            let descriptor = script_fd_arg(call).and_then(|s| fds.get(s)).cloned();
            match descriptor.as_ref().map(|d| d.kind) {
                Some(SocketKind::Datagram) => {
                    session.udp_remote_port = addr.port();
                }
                _ => {
                    session.tcp_remote_port = addr.port();
                    session.tcp_local_port = descriptor.and_then(|d| d.local_port);
                }
            }
            SocketCall::Connect { fd, addr }
        }
        "write" => SocketCall::Write {
            fd: fd_arg(call, fds)?,
            data: super::frames::filler(len_arg(call, 2)?),
        },
        "send" => {
            let fd = fd_arg(call, fds)?;
            let data = super::frames::filler(len_arg(call, 2)?);
            let flags = call.args.get(3).cloned().unwrap_or(Expr::Int(0));
            if has_symbol(&flags, "MSG_OOB") {
                SocketCall::WriteUrgent { fd, data }
            } else {
                check_flags(&flags, &["MSG_DONTWAIT", "MSG_NOSIGNAL"])?;
                SocketCall::Write { fd, data }
            }
        }
        "read" => SocketCall::Read {
            fd: fd_arg(call, fds)?,
            len: len_arg(call, 2)?,
        },
        "recv" => {
            let fd = fd_arg(call, fds)?;
            check_flags(call.args.get(3).unwrap_or(&Expr::Int(0)), &["MSG_DONTWAIT"])?;
            SocketCall::Read {
                fd,
                len: len_arg(call, 2)?,
            }
        }
        "sendto" => {
            let fd = fd_arg(call, fds)?;
            let data = super::frames::filler(len_arg(call, 2)?);
            check_flags(
                call.args.get(3).unwrap_or(&Expr::Int(0)),
                &["MSG_DONTWAIT", "MSG_NOSIGNAL"],
            )?;
            let default = SocketAddrV4::new(remote_ip, session.udp_remote_port);
            let addr = address_arg(call.args.get(4).unwrap_or(&Expr::Ellipsis), default)?;
            session.udp_remote_port = addr.port();
            SocketCall::SendTo { fd, data, addr }
        }
        "recvfrom" => {
            let fd = fd_arg(call, fds)?;
            check_flags(call.args.get(3).unwrap_or(&Expr::Int(0)), &["MSG_DONTWAIT"])?;
            SocketCall::RecvFrom {
                fd,
                len: len_arg(call, 2)?,
            }
        }
        "close" => SocketCall::Close {
            fd: fd_arg(call, fds)?,
        },
        "shutdown" => {
            let fd = fd_arg(call, fds)?;
            let how = match int(arg(call, 1)?) {
                Some(0) => ShutdownHow::Read,
                Some(1) => ShutdownHow::Write,
                Some(2) => ShutdownHow::Both,
                _ => return Err(bad(format!("shutdown how {}", render_expr(arg(call, 1)?)))),
            };
            SocketCall::Shutdown { fd, how }
        }
        "setsockopt" => {
            let fd = fd_arg(call, fds)?;
            let option = option_arg(arg(call, 1)?, arg(call, 2)?)?;
            let value_arg = arg(call, 3)?;
            let value = if option == SocketOption::Linger {
                match linger(value_arg)? {
                    Some(seconds) => seconds,
                    None => {
                        return Ok(Translated::Local {
                            value: 0,
                            note: Some(
                                "SO_LINGER with l_onoff=0 is the default; not passed on".into(),
                            ),
                        })
                    }
                }
            } else {
                int(value_arg).ok_or_else(|| {
                    bad(format!(
                        "option value {} is not a number",
                        render_expr(value_arg)
                    ))
                })?
            };
            SocketCall::SetOption { fd, option, value }
        }
        "getsockopt" => {
            let fd = fd_arg(call, fds)?;
            let option = option_arg(arg(call, 1)?, arg(call, 2)?)?;
            SocketCall::GetOption { fd, option }
        }
        "fcntl" => {
            let fd = fd_arg(call, fds)?;
            let command = arg(call, 1)?;
            let script_fd = script_fd_arg(call);
            if has_symbol(command, "F_GETFL") {
                let nonblocking = script_fd
                    .and_then(|s| fds.get(s))
                    .is_some_and(|d| d.nonblocking);
                return Ok(Translated::Local {
                    value: O_RDWR | if nonblocking { O_NONBLOCK } else { 0 },
                    note: None,
                });
            }
            if !has_symbol(command, "F_SETFL") {
                return Err(unsupported(format!(
                    "fcntl command {}",
                    render_expr(command)
                )));
            }
            let flags = int(arg(call, 2)?).ok_or_else(|| bad("fcntl flags are not a number"))?;
            let nonblocking = flags & O_NONBLOCK != 0;
            if let Some(d) = script_fd.and_then(|s| fds.get_mut(s)) {
                d.nonblocking = nonblocking;
            }
            SocketCall::SetNonBlocking { fd, nonblocking }
        }
        "join_group" | "leave_group" => {
            let fd = fd_arg(call, fds)?;
            let group = group_arg(arg(call, 1)?)?;
            let interface = interface_arg(call.args.get(2).unwrap_or(&Expr::Ellipsis))?;
            if call.name == "join_group" {
                SocketCall::JoinGroup {
                    fd,
                    group,
                    interface,
                }
            } else {
                SocketCall::LeaveGroup {
                    fd,
                    group,
                    interface,
                }
            }
        }
        "poll" => SocketCall::Poll {
            fds: poll_entries(call)?
                .into_iter()
                .map(|entry| PollRequest {
                    fd: fds.live(entry.fd),
                    events: entry.events,
                })
                .collect(),
        },
        other => {
            return Err(unsupported(format!(
                "the runner has no equivalent of {other}()"
            )))
        }
    };
    Ok(Translated::Call(c))
}

/// One `{fd=N, events=..., revents=...}` of a `poll` line, with the script's descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PollEntry {
    fd: i32,
    events: PollEvents,
    /// None for `revents=...`: not compared.
    revents: Option<PollEvents>,
}

/// A `poll` events expression: `POLLIN|POLLPRI`, `0`, or a number.
fn poll_events(e: &Expr, field: &str) -> Result<PollEvents, TranslateError> {
    let bits = int(e).ok_or_else(|| {
        let known: Vec<&str> = PollEvents::NAMED.iter().map(|(n, _)| *n).collect();
        bad(format!(
            "poll {field} {} is not a set of {}",
            render_expr(e),
            known.join(", ")
        ))
    })?;
    let known = PollEvents::NAMED
        .iter()
        .fold(0i64, |acc, (_, b)| acc | i64::from(b.0));
    if bits & !known != 0 {
        return Err(bad(format!(
            "poll {field} {} has bits no POLL name stands for",
            render_expr(e)
        )));
    }
    u16::try_from(bits)
        .map(PollEvents)
        .map_err(|_| bad(format!("poll {field} {bits} is out of range")))
}

/// The entries of `poll([{fd=4, events=POLLIN|POLLPRI, revents=POLLIN}], 1, 0)`, checked:
/// the count must match the list, and the timeout must be 0 (the runner has no waiting poll:
/// a script polls at the time it expects the events).
fn poll_entries(call: &CallEvent) -> Result<Vec<PollEntry>, TranslateError> {
    let Expr::List(list) = arg(call, 0)? else {
        return Err(bad(format!(
            "poll's first argument {} is not a list [{{fd=N, events=..., revents=...}}]",
            render_expr(arg(call, 0)?)
        )));
    };
    let mut entries = Vec::with_capacity(list.len());
    for item in list {
        let Expr::Struct(fields) = item else {
            return Err(bad(format!(
                "poll entry {} is not {{fd=N, events=..., revents=...}}",
                render_expr(item)
            )));
        };
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        if let Some((name, _)) = fields
            .iter()
            .find(|(n, _)| !matches!(n.as_str(), "fd" | "events" | "revents"))
        {
            return Err(bad(format!("poll entry has an unknown field {name}")));
        }
        let fd = field("fd")
            .and_then(int)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| bad("poll entry needs fd=N"))?;
        let events = poll_events(
            field("events").ok_or_else(|| bad("poll entry needs events=..."))?,
            "events",
        )?;
        let revents = match field("revents") {
            None => {
                return Err(bad(
                    "poll entry needs revents=... (the events expected back)",
                ))
            }
            Some(Expr::Ellipsis) => None,
            Some(e) => Some(poll_events(e, "revents")?),
        };
        entries.push(PollEntry {
            fd,
            events,
            revents,
        });
    }
    let n = arg(call, 1)?;
    if int(n).and_then(|v| usize::try_from(v).ok()) != Some(entries.len()) {
        return Err(bad(format!(
            "poll's count {} is not the number of entries ({})",
            render_expr(n),
            entries.len()
        )));
    }
    match int(arg(call, 2)?) {
        Some(0) => Ok(entries),
        Some(t) => Err(unsupported(format!(
            "poll with a timeout of {t} ms (only 0 is supported: poll at the time the events \
             are due)"
        ))),
        None => Err(bad(format!(
            "poll timeout {} is not a number",
            render_expr(arg(call, 2)?)
        ))),
    }
}

/// Flags other than `allowed` (and 0) have no equivalent.
fn check_flags(flags: &Expr, allowed: &[&str]) -> Result<(), TranslateError> {
    match flags {
        Expr::Int(0) | Expr::Ellipsis => Ok(()),
        Expr::Symbol(s) if allowed.contains(&s.as_str()) => Ok(()),
        Expr::Or(list) => list.iter().try_for_each(|f| check_flags(f, allowed)),
        other => Err(unsupported(format!("flags {}", render_expr(other)))),
    }
}

/// `{l_onoff=1, l_linger=N}` → Some(N); `l_onoff=0` → None.
fn linger(e: &Expr) -> Result<Option<i64>, TranslateError> {
    let Expr::Struct(fields) = e else {
        return Err(bad(format!(
            "SO_LINGER value {} is not {{l_onoff=..., l_linger=...}}",
            render_expr(e)
        )));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| int(v))
    };
    match (field("l_onoff"), field("l_linger")) {
        (Some(0), _) => Ok(None),
        (Some(_), Some(seconds)) => Ok(Some(seconds)),
        _ => Err(bad("SO_LINGER needs l_onoff and l_linger")),
    }
}

/// Calls that may block on a blocking descriptor.
pub(super) fn may_block(call: &SocketCall) -> bool {
    matches!(
        call,
        SocketCall::Accept { .. }
            | SocketCall::Connect { .. }
            | SocketCall::Read { .. }
            | SocketCall::RecvFrom { .. }
            | SocketCall::Write { .. }
            | SocketCall::WriteUrgent { .. }
            | SocketCall::SendTo { .. }
    )
}

/// Whether this outcome means "a blocking descriptor would still be waiting": `EAGAIN`, a
/// connect in progress, or a write that took only part of its data.
pub(super) fn would_block(call: &SocketCall, outcome: &CallOutcome, _written: usize) -> bool {
    match (call, outcome) {
        (
            SocketCall::Connect { .. },
            CallOutcome::Err(Errno::EINPROGRESS | Errno::EALREADY | Errno::EAGAIN),
        ) => true,
        (SocketCall::Write { data, .. }, CallOutcome::Ok(ok)) => {
            usize::try_from(ok.value).is_ok_and(|n| n < data.len())
        }
        (c, CallOutcome::Err(Errno::EAGAIN)) => may_block(c),
        _ => false,
    }
}

/// The call to retry: the rest of a write after `written_now` octets went, else the same call.
pub(super) fn continuation(call: &SocketCall, written_now: usize) -> SocketCall {
    match call {
        SocketCall::Write { fd, data } => SocketCall::Write {
            fd: *fd,
            data: data.get(written_now..).unwrap_or_default().to_vec(),
        },
        other => other.clone(),
    }
}

/// What a blocking call returns once it stops blocking: a connect that now reports
/// `EISCONN` succeeded; a write returns everything it wrote.
pub(super) fn finish_blocking(
    call: &SocketCall,
    outcome: CallOutcome,
    written: usize,
) -> CallOutcome {
    match (call, outcome) {
        (SocketCall::Connect { .. }, CallOutcome::Err(Errno::EISCONN)) => {
            CallOutcome::Ok(CallOk::value(0))
        }
        (SocketCall::Write { .. }, CallOutcome::Ok(ok)) => {
            CallOutcome::Ok(CallOk::value(ok.value.saturating_add(written as i64)))
        }
        (SocketCall::Write { .. }, CallOutcome::Err(_)) if written > 0 => {
            CallOutcome::Ok(CallOk::value(written as i64))
        }
        (_, outcome) => outcome,
    }
}

/// What the script expects of a call.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    /// The line's call, with its result and errno.
    pub event: CallEvent,
}

/// The comparison of a result with the expectation.
#[derive(Debug, Clone, Default)]
pub(super) struct Compared {
    pub mismatch: Option<String>,
    pub note: Option<String>,
}

impl Expected {
    pub(super) fn from_call(call: &CallEvent) -> Expected {
        Expected {
            event: call.clone(),
        }
    }

    /// The script itself expects `EAGAIN`/`EINPROGRESS`/`EALREADY`.
    pub(super) fn expects_would_block(&self) -> bool {
        matches!(
            self.event.errno.as_deref().and_then(Errno::from_name),
            Some(Errno::EAGAIN | Errno::EINPROGRESS | Errno::EALREADY)
        )
    }

    fn expected_text(&self) -> String {
        match &self.event.errno {
            Some(e) => format!("{} {e}", render_expr(&self.event.result)),
            None => render_expr(&self.event.result),
        }
    }

    /// Compares `outcome` of `call` with the expectation (mapping descriptors for `socket`
    /// and `accept`, and the value read by `getsockopt`).
    pub(super) fn compare(
        &self,
        outcome: &CallOutcome,
        call: Option<&SocketCall>,
        fds: &FdTable,
        check_buffer_sizes: bool,
    ) -> Compared {
        let mut compared = Compared::default();
        let expected_value = int(&self.event.result);
        let any = matches!(self.event.result, Expr::Ellipsis);
        match outcome {
            CallOutcome::Err(errno) => {
                let want = self.event.errno.as_deref().and_then(Errno::from_name);
                let ok = expected_value == Some(-1) && want.is_none_or(|w| w == *errno);
                if !ok && !any {
                    compared.mismatch = Some(format!(
                        "expected {}, got -1 {errno:?}",
                        self.expected_text()
                    ));
                }
            }
            CallOutcome::Ok(result) => {
                if let Some(SocketCall::Poll { .. }) = call {
                    if let Some(mismatch) = compare_revents(&self.event, &result.revents) {
                        compared.mismatch = Some(mismatch);
                        return compared;
                    }
                }
                if expected_value == Some(-1) {
                    compared.mismatch = Some(format!(
                        "expected {}, got {}",
                        self.expected_text(),
                        result.value
                    ));
                    return compared;
                }
                let is_new_fd = matches!(
                    call,
                    Some(SocketCall::Socket { .. } | SocketCall::Accept { .. })
                );
                // getsockopt returns 0; the option's value comes back in `value`.
                let returned = match call {
                    Some(SocketCall::GetOption { .. }) => 0,
                    _ => result.value,
                };
                if !is_new_fd && !any {
                    match expected_value {
                        Some(v) if v != returned => {
                            compared.mismatch =
                                Some(format!("expected {}, got {returned}", self.expected_text(),));
                            return compared;
                        }
                        Some(_) => {}
                        None => {
                            compared.note = Some(format!(
                                "result {} not compared",
                                render_expr(&self.event.result)
                            ))
                        }
                    }
                }
                if let Some(SocketCall::GetOption { option, .. }) = call {
                    let wanted = self.event.args.get(3).and_then(int);
                    match (option, wanted) {
                        (SocketOption::ReceiveBuffer | SocketOption::SendBuffer, Some(_))
                            if !check_buffer_sizes =>
                        {
                            compared.note = Some(format!(
                                "{option:?} value {} not compared \
                                 (buffer sizes are the implementation's choice)",
                                result.value
                            ));
                        }
                        (
                            SocketOption::ReuseAddress
                            | SocketOption::KeepAlive
                            | SocketOption::NoDelay,
                            Some(w),
                        ) => {
                            if (w != 0) != (result.value != 0) {
                                compared.mismatch = Some(format!(
                                    "expected option value {w}, got {}",
                                    result.value
                                ));
                            }
                        }
                        (_, Some(w)) => {
                            if w != result.value {
                                let name = |v: i64| {
                                    if *option == SocketOption::Error {
                                        i32::try_from(v)
                                            .ok()
                                            .and_then(Errno::from_number)
                                            .map_or(v.to_string(), |e| format!("{v} ({e:?})"))
                                    } else {
                                        v.to_string()
                                    }
                                };
                                compared.mismatch = Some(format!(
                                    "expected option value {}, got {}",
                                    name(w),
                                    name(result.value)
                                ));
                            }
                        }
                        (_, None) => {}
                    }
                }
                let _ = fds;
            }
            CallOutcome::Unsupported(why) => {
                compared.mismatch = Some(format!("unsupported: {why}"))
            }
        }
        compared
    }
}

/// The first entry of a `poll` line whose `revents` differ from what the target reported.
fn compare_revents(event: &CallEvent, got: &[PollEvents]) -> Option<String> {
    let Ok(entries) = poll_entries(event) else {
        return None; // translate() already refused it
    };
    if got.len() != entries.len() {
        return Some(format!(
            "expected {} poll entries back, got {}",
            entries.len(),
            got.len()
        ));
    }
    entries.iter().zip(got).find_map(|(entry, got)| {
        let want = entry.revents?;
        (want != *got).then(|| {
            format!(
                "fd {}: expected revents={want}, got revents={got} (events={})",
                entry.fd, entry.events
            )
        })
    })
}

/// After a call succeeded: record the descriptor `socket` or `accept` handed out under the
/// number the script expects.
pub(super) fn after_success(
    call: &SocketCall,
    event: &CallEvent,
    result: &CallOk,
    fds: &mut FdTable,
    session: &mut Session,
) {
    let live = i32::try_from(result.value).unwrap_or(-1);
    let script_fd = int(&event.result)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(live);
    match call {
        SocketCall::Socket { kind } => {
            let nonblocking = event
                .args
                .get(1)
                .is_some_and(|a| has_symbol(a, "SOCK_NONBLOCK"));
            fds.insert(
                script_fd,
                Descriptor {
                    live,
                    kind: *kind,
                    nonblocking,
                    local_port: None,
                },
            );
        }
        SocketCall::Accept { fd } => {
            let local_port = fds.script_fd_of_live(*fd).and_then(|(_, d)| d.local_port);
            fds.insert(
                script_fd,
                Descriptor {
                    live,
                    kind: SocketKind::Stream,
                    nonblocking: false,
                    local_port,
                },
            );
            if let Some(peer) = result.peer {
                session.tcp_remote_port = peer.port();
            }
        }
        _ => {}
    }
}

/// `-1 ECONNREFUSED` or `4`.
pub(super) fn render_outcome(outcome: &CallOutcome, call: Option<&SocketCall>) -> String {
    match outcome {
        CallOutcome::Ok(ok) if matches!(call, Some(SocketCall::GetOption { .. })) => {
            format!("0 (value {})", ok.value)
        }
        CallOutcome::Ok(ok) if matches!(call, Some(SocketCall::Poll { .. })) => {
            let entries: Vec<String> = ok.revents.iter().map(|r| format!("revents={r}")).collect();
            format!("{} ([{}])", ok.value, entries.join(", "))
        }
        CallOutcome::Ok(ok) => ok.value.to_string(),
        CallOutcome::Err(e) => format!("-1 {e:?}"),
        CallOutcome::Unsupported(why) => format!("unsupported ({why})"),
    }
}

/// An expression as the script writes it.
pub(super) fn render_expr(e: &Expr) -> String {
    match e {
        Expr::Ellipsis => "...".into(),
        Expr::Int(v) => v.to_string(),
        Expr::Symbol(s) => s.clone(),
        Expr::Or(list) => list.iter().map(render_expr).collect::<Vec<_>>().join("|"),
        Expr::List(list) => format!(
            "[{}]",
            list.iter().map(render_expr).collect::<Vec<_>>().join(", ")
        ),
        Expr::Struct(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(n, v)| format!("{n}={}", render_expr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::String(s) => format!("{s:?}"),
        Expr::Address(a) => a.to_string(),
        Expr::Ip(a) => a.to_string(),
    }
}

/// `accept(3, ..., ...) = 4`.
pub(super) fn render_call(call: &CallEvent) -> String {
    let args: Vec<String> = call.args.iter().map(render_expr).collect();
    let mut s = format!(
        "{}({}) = {}",
        call.name,
        args.join(", "),
        render_expr(&call.result)
    );
    if let Some(e) = &call.errno {
        s.push(' ');
        s.push_str(e);
    }
    s
}
