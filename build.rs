fn main() {
    // Only the Node-API addon needs napi's link setup; the core (and wasm) build skips it.
    if std::env::var_os("CARGO_FEATURE_NATIVE").is_some() {
        napi_build::setup();
    } else {
        // Without a rerun-if-changed line, cargo re-runs this script (and rebuilds the crate)
        // whenever any file of the package changes, a README edit included.
        println!("cargo::rerun-if-changed=build.rs");
    }
}
