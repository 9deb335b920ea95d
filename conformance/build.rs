//! Rebuilds the crate when a bundled scenario is added, removed or changed: `include_dir!`
//! (conform::suite) embeds `scenarios/`, and without this Cargo would not notice new files.
fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=catalog");
}
