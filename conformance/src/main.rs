use wirecheck_conformance::capture::CaptureReader;
fn main() {
    for f in std::env::args().skip(1) {
        match CaptureReader::open(&f) {
            Err(e) => println!("ERR {e}"),
            Ok(r) => {
                let mut n = 0;
                for rec in r {
                    match rec {
                        Ok(_) => n += 1,
                        Err(e) => {
                            println!("ERR {e}");
                            break;
                        }
                    }
                }
                println!("{f}: {n}");
            }
        }
    }
}
