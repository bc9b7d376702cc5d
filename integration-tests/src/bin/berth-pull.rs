//! A tiny driver for crash tests: pulls one image into a data root with
//! `berth-image`, printing progress lines. Usage: `berth-pull DATA_ROOT REF`.

use std::process::ExitCode;

use berth_image::progress::Progress;
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService, PullOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, reference] = args.as_slice() else {
        eprintln!("usage: berth-pull DATA_ROOT REF");
        return ExitCode::from(2);
    };
    let service = match LocalImageService::open(ImageServiceConfig::new(root)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let progress = Progress::new(|e| println!("{e}"));
    match runtime.block_on(service.pull(reference, PullOptions::default(), progress)) {
        Ok(image) => {
            println!("pulled {}", image.id);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
