//! `berth-shim`: the per-container shim process. Started by
//! `berth_shim::ShimClient`, not by hand.

fn main() {
    std::process::exit(berth_shim::server::main());
}
