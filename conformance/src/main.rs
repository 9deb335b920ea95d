//! The `wirecheck` command.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use wirecheck_conformance::capture::{CaptureError, CaptureReader};
use wirecheck_conformance::decode::{self, Summary};
use wirecheck_conformance::host::{run_host, HostOptions};
use wirecheck_conformance::pipeline;
use wirecheck_conformance::reassembly::CaptureReassembler;

mod conform_command;

/// wirecheck: decode and verify IPv4 captures with a lossless codec checked against Wireshark,
/// and run the wirecheck stack as a host on a TAP device.
#[derive(Parser, Debug)]
#[command(name = "wirecheck", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print one line per packet (tshark-like summary) or one JSON object per packet.
    Decode {
        /// pcap or pcapng files; `-` reads standard input.
        #[arg(required_unless_present = "live")]
        files: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Summary)]
        format: Format,
        /// Reassemble IPv4 fragments: the packet that completes a datagram also shows the
        /// reassembled datagram (in JSON, its transport fields, as tshark does with reassembly
        /// on). Reassembly runs in capture order, on one core.
        #[arg(long)]
        reassemble: bool,
        /// Decoding threads (default: every core).
        #[arg(long)]
        threads: Option<usize>,
        /// Capture live from this interface (needs the `live` feature and libpcap).
        #[arg(long, value_name = "IFACE", conflicts_with = "files")]
        live: Option<String>,
        /// BPF filter for --live.
        #[arg(long, value_name = "BPF", requires = "live")]
        filter: Option<String>,
    },
    /// Report malformed, truncated and badly checksummed packets, and reassembly anomalies.
    ///
    /// Exit status: 0 when no findings, 1 when there are findings, 2 when an input cannot be read.
    Verify {
        /// pcap or pcapng files; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<String>,
        /// Also decode the datagrams reassembled from fragments.
        #[arg(long)]
        reassemble: bool,
        /// Print only the per-file summary, not each packet's findings.
        #[arg(long, short)]
        quiet: bool,
        /// Also print informational findings (Ethernet padding, snaplen cuts, protocols not
        /// decoded), which never count as findings for the exit status.
        #[arg(long)]
        all: bool,
        /// Decoding threads (default: every core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Run conformance scenarios against a stack under test and score them per RFC
    /// requirement. With no arguments: wirecheck's bundled scenarios against wirecheck's own
    /// stack.
    ///
    /// Exit status: 0 when no scenario failed, 1 when one did, 2 when the arguments or a suite
    /// could not be used.
    Conform(conform_command::ConformArgs),
    /// Replay one side of a recorded TCP, UDP or ICMP echo conversation against a target and
    /// report where its answers differ from the recorded ones.
    ///
    /// Exit status: 0 when the target answered as recorded, 1 when it differed, 2 when the
    /// capture or arguments could not be used.
    Replay(conform_command::ReplayArgs),
    /// Run the wirecheck stack as a host on a Linux TAP device, with ICMP echo and the echo
    /// (7), discard (9) and chargen (19) services over UDP and TCP.
    ///
    /// The device must exist (`ip tuntap add dev NAME mode tap`, then `ip link set NAME up`)
    /// unless --create is given. Ctrl-C (or SIGTERM) stops the host: open connections are
    /// reset, the capture is written out and a summary printed.
    Host {
        /// The TAP device to attach to.
        #[arg(long, value_name = "NAME")]
        tap: String,
        /// The host's address and prefix length, e.g. 192.0.2.2/24.
        #[arg(long, value_name = "A/P", value_parser = parse_cidr)]
        addr: wirecheck_stack::Ipv4Cidr,
        /// Default gateway (on the link).
        #[arg(long, value_name = "G")]
        gateway: Option<std::net::Ipv4Addr>,
        /// Interface MTU (68 or more).
        #[arg(long, value_name = "N", default_value_t = 1500,
              value_parser = clap::value_parser!(u16).range(68..))]
        mtu: u16,
        /// The host's MAC address (default: 02:00 and the four octets of the address).
        #[arg(long, value_name = "MAC")]
        mac: Option<wirecheck_codec::ethernet::MacAddr>,
        /// Record every frame in and out to this pcap file.
        #[arg(long, value_name = "FILE")]
        pcap: Option<std::path::PathBuf>,
        /// Create the TAP device if it does not exist (it goes away when the host stops).
        #[arg(long)]
        create: bool,
        /// Seed of the stack's randomness (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// TCP send and receive buffer per connection, octets.
        #[arg(long, value_name = "OCTETS", default_value_t = 256 * 1024)]
        tcp_buffer: usize,
        /// Write every frame the stack queues, even pure ACKs that a later one in the same
        /// write batch supersedes (by default those are left out, as a receiver handling a
        /// burst of frames before answering would).
        #[arg(long)]
        no_ack_coalescing: bool,
    },
}

fn parse_cidr(text: &str) -> Result<wirecheck_stack::Ipv4Cidr, String> {
    let (address, prefix) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: expected ADDRESS/PREFIX, e.g. 192.0.2.2/24"))?;
    let address: std::net::Ipv4Addr = address.parse().map_err(|e| format!("{address:?}: {e}"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|&p| p <= 32)
        .ok_or_else(|| format!("{prefix:?}: the prefix length is 0 to 32"))?;
    Ok(wirecheck_stack::Ipv4Cidr::new(address, prefix))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per packet, like tshark's default output.
    Summary,
    /// JSON Lines keyed by Wireshark display-filter field names.
    Json,
}

/// Exit status for unreadable input.
const EXIT_UNREADABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode {
            files,
            format,
            reassemble,
            threads,
            live,
            filter,
        } => {
            if let Some(iface) = live {
                return live_decode(&iface, filter.as_deref(), format);
            }
            decode_files(&files, format, reassemble, threads)
        }
        Command::Verify {
            files,
            reassemble,
            quiet,
            all,
            threads,
        } => verify_files(&files, reassemble, quiet, all, threads),
        Command::Conform(args) => conform_command::conform(args),
        Command::Replay(args) => conform_command::replay(args),
        Command::Host {
            tap,
            addr,
            gateway,
            mtu,
            mac,
            pcap,
            create,
            seed,
            tcp_buffer,
            no_ack_coalescing,
        } => {
            let options = HostOptions {
                tap,
                create,
                address: addr,
                gateway,
                mtu,
                mac: mac.unwrap_or_else(|| HostOptions::default_mac(addr.address)),
                pcap,
                seed: seed.unwrap_or_else(clock_seed),
                tcp_buffer,
                ack_coalescing: !no_ack_coalescing,
            };
            host(&options)
        }
    }
}

/// A seed that differs from run to run.
fn clock_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

fn host(options: &HostOptions) -> ExitCode {
    let result = run_host(options, |stop, line| {
        let stop = stop.clone();
        if let Err(e) = ctrlc::set_handler(move || stop.stop()) {
            eprintln!("wirecheck: warning: no Ctrl-C handler ({e})");
        }
        eprintln!("{line}");
    });
    match result {
        Ok(report) => {
            let d = &report.driver;
            let s = &report.services;
            eprintln!(
                "wirecheck host: stopped; {} frames in ({} octets), {} out ({} octets), {} \
                 dropped by the device, {} superseded ACKs left out; TCP: {} accepted, {} failed, echo {}/{} octets \
                 in/out, discard {} octets, chargen {} octets; UDP: {} datagrams in, {} out",
                d.frames_in,
                d.bytes_in,
                d.frames_out,
                d.bytes_out,
                d.write_drops,
                d.acks_coalesced,
                s.tcp_accepted,
                s.tcp_errors,
                s.echo_octets_in,
                s.echo_octets_out,
                s.discard_octets,
                s.chargen_octets,
                s.udp_datagrams_in,
                s.udp_datagrams_out,
            );
            if report.stack.transmit_queue_drops > 0 {
                eprintln!(
                    "wirecheck host: {} frames dropped at the stack's full transmit queue",
                    report.stack.transmit_queue_drops
                );
            }
            if let Some(path) = &options.pcap {
                eprintln!(
                    "wirecheck host: {} frames written to {}",
                    report.pcap_records,
                    path.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wirecheck: host: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// A progress bar on a terminal for files big enough to wait for; nothing otherwise.
fn progress_bar(path: &str) -> Option<indicatif::ProgressBar> {
    const WORTH_A_BAR: u64 = 64 * 1024 * 1024;
    if path == "-" || !std::io::stderr().is_terminal() {
        return None;
    }
    let len = std::fs::metadata(path).ok()?.len();
    if len < WORTH_A_BAR {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(path.to_string());
    Some(bar)
}

/// Bytes asked for as the capacity of an output pipe: Linux's default limit for unprivileged
/// processes (`/proc/sys/fs/pipe-max-size`).
#[cfg(target_os = "linux")]
const PIPE_BYTES: i32 = 1 << 20;

/// When standard output is a pipe, asks Linux for a larger one (64 KiB by default), so that
/// `decode | consumer` hands over a batch's text in one go instead of waking the other side
/// every 64 KiB. Anything else (a file, a terminal, a refusal) is left as it is.
fn enlarge_pipe(stdout: &std::io::Stdout) {
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{fcntl, FcntlArg};
        // Fails harmlessly (EBADF) on anything but a pipe.
        let _ = fcntl(stdout, FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stdout;
}

fn report_unreadable(e: &CaptureError) {
    eprintln!("wirecheck: {e}");
}

fn decode_files(
    files: &[String],
    format: Format,
    reassemble: bool,
    threads: Option<usize>,
) -> ExitCode {
    let stdout = std::io::stdout();
    enlarge_pipe(&stdout);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut status = 0u8;
    for path in files {
        let reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                report_unreadable(&e);
                status = EXIT_UNREADABLE;
                continue;
            }
        };
        let bar = progress_bar(path);
        let mut broken_pipe = false;
        let mut reassembler = CaptureReassembler::new();
        let mut first_seen = None;
        // Every batch's text is about the same size: reuse the buffers (a few in flight).
        let buffers = pipeline::BufferPool::new(8, 16 << 20);
        let error = pipeline::run(
            reader,
            threads.unwrap_or_else(pipeline::default_workers),
            |batch, first| {
                if reassemble {
                    // Rendered in order by the sink, which owns the reassembler.
                    (batch.to_vec(), first, Vec::new())
                } else {
                    let text = match format {
                        Format::Summary => decode::summary_lines(batch, first).into_bytes(),
                        Format::Json => {
                            let mut text = buffers.take(batch.len() * 640);
                            decode::write_json_lines(batch, &mut text);
                            text
                        }
                    };
                    (Vec::new(), first, text)
                }
            },
            |(records, first, mut text): (Vec<_>, _, Vec<u8>)| {
                if reassemble {
                    let first = *first_seen.get_or_insert(first);
                    text = decode::reassembling_lines(
                        &records,
                        first,
                        format == Format::Json,
                        &mut reassembler,
                    )
                    .into_bytes();
                }
                if !broken_pipe && out.write_all(&text).is_err() {
                    broken_pipe = true;
                }
                buffers.give(text);
            },
            |offset| {
                if let Some(b) = &bar {
                    b.set_position(offset)
                }
            },
        );
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if broken_pipe {
            // The reader went away (`| head`): stop quietly, as tshark and tcpdump do.
            return ExitCode::SUCCESS;
        }
        if let Some(e) = error {
            let _ = out.flush();
            report_unreadable(&e);
            status = EXIT_UNREADABLE;
        }
    }
    let _ = out.flush();
    ExitCode::from(status)
}

fn verify_files(
    files: &[String],
    reassemble: bool,
    quiet: bool,
    all: bool,
    threads: Option<usize>,
) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut unreadable = false;
    let mut any_findings = false;
    for path in files {
        let reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                report_unreadable(&e);
                unreadable = true;
                continue;
            }
        };
        let bar = progress_bar(path);
        let mut summary = Summary::new(path);
        let mut reassembler = CaptureReassembler::new();
        let error = pipeline::run(
            reader,
            threads.unwrap_or_else(pipeline::default_workers),
            |batch, _| decode::verify_batch(batch),
            |mut batch| {
                decode::reassemble_batch(&mut batch, &mut reassembler, reassemble);
                let text = summary.absorb(batch.count, &batch.findings, all);
                if !quiet {
                    let _ = out.write_all(text.as_bytes());
                }
            },
            |offset| {
                if let Some(b) = &bar {
                    b.set_position(offset)
                }
            },
        );
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let leftover = summary.absorb_capture_notes(&reassembler.finish(), all);
        if !quiet {
            let _ = out.write_all(leftover.as_bytes());
        }
        let _ = out.write_all(summary.finish().as_bytes());
        any_findings |= summary.has_findings();
        if let Some(e) = error {
            let _ = out.flush();
            report_unreadable(&e);
            unreadable = true;
        }
    }
    let _ = out.flush();
    ExitCode::from(if unreadable {
        EXIT_UNREADABLE
    } else if any_findings {
        1
    } else {
        0
    })
}

#[cfg(feature = "live")]
fn live_decode(iface: &str, filter: Option<&str>, format: Format) -> ExitCode {
    let first = std::cell::Cell::new(None);
    match wirecheck_conformance::live::run(iface, filter, |record| {
        let batch = std::slice::from_ref(record);
        // Times relative to the first packet captured, as for files.
        let start = first.get().unwrap_or(record.timestamp);
        first.set(Some(start));
        match format {
            Format::Summary => decode::summary_lines(batch, start),
            Format::Json => decode::json_lines(batch),
        }
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirecheck: live capture on {iface}: {e}");
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

#[cfg(not(feature = "live"))]
fn live_decode(iface: &str, _filter: Option<&str>, _format: Format) -> ExitCode {
    eprintln!(
        "wirecheck: cannot capture live on {iface}: this wirecheck was built without the `live` \
         feature; rebuild with `cargo build --release --features live` (needs libpcap-dev)"
    );
    ExitCode::from(EXIT_UNREADABLE)
}
