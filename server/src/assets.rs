//! The site's static assets under `/pkg` (the WASM, its JS glue, the stylesheet): served
//! precompressed (brotli, gzip) and, when their names carry content hashes (release builds
//! by cargo-leptos, `hash-files`), cached by browsers for a year. Everything else the server
//! answers (pages, API) is `no-cache`: a page always shows current data and names the
//! current assets.
//!
//! Release builds compress the assets once, before listening, when the compressed copies are
//! missing or older than the files (a few seconds after each build); debug builds serve them
//! as they are.

use axum::http::{header, HeaderValue};
use app::scripts::Assets;
use axum::Router;
use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The file names' content hashes, from cargo-leptos's `hash.txt` next to the server binary
/// (as leptos reads it for the WASM and JS), e.g. `css: 3kF…`.
fn hashes(options: &LeptosOptions) -> Vec<(String, String)> {
    if !options.hash_files {
        return Vec::new();
    }
    let path = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default()
        .join(options.hash_file.as_ref());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

/// The URLs of the stylesheet and the compiled code the pages name, and the WASM chunks of
/// each lazily loaded page from the split manifest (`--split` builds), read once at start.
pub fn page_assets(options: &LeptosOptions) -> Assets {
    let hashes = hashes(options);
    let hash = |kind: &str| hashes.iter().find(|(k, _)| k == kind).map(|(_, v)| v.as_str());
    let hashed = |name: &str, kind: &str, ext: &str| match hash(kind) {
        Some(h) => format!("{name}.{h}.{ext}"),
        None => format!("{name}.{ext}"),
    };
    let url = |file: &str| format!("/{}/{file}", options.site_pkg_dir);
    let name = options.output_name.as_ref();
    // As leptos names the WASM: `_bg` when neither hashed nor built by cargo-leptos.
    let wasm = if options.hash_files || option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        hashed(name, "wasm", "wasm")
    } else {
        format!("{name}_bg.wasm")
    };
    // The split manifest, when there is one: each lazily loaded function's chunks, keyed by its
    // name without the trailing number (`shop_front_loader`, the `ShopFront` island's).
    let manifest = pkg_dir(options).join(hashed("__wasm_split_manifest", "manifest", "json"));
    let split: Option<HashMap<String, Vec<String>>> =
        std::fs::read_to_string(&manifest).ok().and_then(|text| serde_json::from_str(&text).ok());
    let chunks = split
        .iter()
        .flatten()
        .filter_map(|(key, files)| {
            let (name, number) = key.trim_start_matches('_').rsplit_once('_')?;
            number.bytes().all(|b| b.is_ascii_digit()).then(|| {
                (name.to_owned(), files.iter().map(|f| url(&format!("{f}.wasm"))).collect())
            })
        })
        .collect();
    Assets {
        stylesheet: url(&hashed(name, "css", "css")),
        js: url(&hashed(name, "js", "js")),
        wasm: url(&wasm),
        split_js: split.is_some().then(|| url(&format!("__wasm_split.{}.js", hash("split").unwrap_or("______________________")))),
        chunks,
    }
}

/// `/pkg`: precompressed files, immutable when their names are hashed.
pub fn pkg_service(options: &LeptosOptions) -> Router {
    let dir = pkg_dir(options);
    let cache = if options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" };
    Router::new().fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip()).layer(
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    )
}

fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// Writes `.br` and `.gz` copies of the assets that lack fresh ones. Release builds only.
pub fn precompress(options: &LeptosOptions) {
    if cfg!(debug_assertions) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(pkg_dir(options)) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let wanted = matches!(path.extension().and_then(|e| e.to_str()), Some("wasm" | "js" | "css"));
        if !wanted {
            continue;
        }
        for (ext, compress) in [("br", brotli_bytes as fn(&[u8]) -> std::io::Result<Vec<u8>>), ("gz", gzip_bytes)] {
            let target = PathBuf::from(format!("{}.{ext}", path.display()));
            if is_fresh(&target, &path) {
                continue;
            }
            let written = std::fs::read(&path).and_then(|bytes| compress(&bytes)).and_then(|out| {
                // Written aside and renamed: another node starting at the same time never
                // serves half a file.
                let tmp = PathBuf::from(format!("{}.{}.tmp", target.display(), std::process::id()));
                std::fs::write(&tmp, out)?;
                std::fs::rename(&tmp, &target)
            });
            match written {
                Ok(()) => tracing::info!(file = %target.display(), "precompressed"),
                Err(e) => tracing::warn!(file = %target.display(), error = %e, "cannot precompress; serving it uncompressed"),
            }
        }
    }
}

fn is_fresh(copy: &Path, original: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(copy), modified(original)), (Some(c), Some(o)) if c >= o)
}

fn brotli_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(bytes)?;
        w.flush()?;
    }
    Ok(out)
}

fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut w = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::best());
    w.write_all(bytes)?;
    w.finish()
}
