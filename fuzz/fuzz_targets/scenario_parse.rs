//! The scenario parser on arbitrary text, and the renderer on whatever it accepts.
//!
//! A bad scenario must give an error with a position inside the text, never a panic or a
//! runaway; a scenario that parses must render to text that parses back to the same tree
//! (line numbers aside), so `wirecheck replay --print-script` output is always a scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirecheck_conformance::conform::parse::parse_script;
use wirecheck_conformance::conform::replay::script_to_text;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_script(text, None) {
        Err(e) => {
            let lines = text.lines().count().max(1);
            assert!(
                e.line >= 1 && e.line <= lines + 1,
                "line {} of {lines}",
                e.line
            );
            let _ = e.to_string();
        }
        Ok(script) => {
            let rendered = script_to_text(&script);
            let again = parse_script(&rendered, None)
                .unwrap_or_else(|e| panic!("rendered scenario does not parse: {e}\n{rendered}"));
            let strip = |s: &wirecheck_conformance::conform::script::Script| {
                let mut s = s.clone();
                for e in &mut s.events {
                    e.line = 0;
                }
                s.description.clear();
                s
            };
            assert_eq!(strip(&script), strip(&again), "{rendered}");
        }
    }
});
