fn main() {
    // Only the Node-API addon needs napi's link setup; the core (and wasm) build skips it.
    if std::env::var_os("CARGO_FEATURE_NATIVE").is_some() {
        napi_build::setup();
    }
}
