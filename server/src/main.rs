use clap::Parser;
use server::config::Config;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: glibc's free-list upkeep (`malloc_consolidate`,
/// `unlink_chunk`) was over a tenth of the server's time under write load (docs/BENCHMARKS.md).
#[cfg(not(feature = "dhat-heap"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With `--features dhat-heap`: every allocation recorded by site, written to `dhat-heap.json`
/// when the server stops (slow; for finding where memory goes, never for production).
#[cfg(feature = "dhat-heap")]
#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

#[tokio::main]
async fn main() {
    #[cfg(feature = "dhat-heap")]
    let _profiler = dhat::Profiler::new_heap();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")))
        .init();
    let config = Config::parse();
    if let Err(e) = server::run(config).await {
        tracing::error!(error = %e, "ordercast stopped");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
