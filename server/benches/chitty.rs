//! How well chitties are read: an evaluation set generated here (shopping lists from the demo
//! catalogue, written the ways people write them, drawn in printed and handwriting-like fonts
//! from Debian's font packages, plain and as degraded phone photos), run through the server's
//! own pipeline (prepare → Tesseract → parse → match) one photo at a time.
//!
//! Reports per group: the share of list lines whose product was proposed right, the share
//! whose quantity was read right, and the time per photo (p50/p95), to docs/BENCHMARKS-chitty.md.
//!
//! `cargo bench -p server --bench chitty` (needs `tesseract-ocr`, `fonts-dkg-handwriting`,
//! `fonts-breip`, `fonts-dancingscript`; `.ci/bench` installs them). `BENCH_LISTS=n` sets the
//! lists per font (default 8).

#[path = "support/lists.rs"]
mod lists;

use app::api::Product;
use server::chitty::ocr::{Ocr, Tesseract};
use server::chitty::{lines, photo};
use std::fmt::Write as _;
use std::time::Instant;

/// The demo catalogue: (id, name, how people write it on a list).
const CATALOGUE: &[(i64, &str, &[&str])] = &[
    (1, "Sourdough loaf", &["sourdough loaf", "sourdough", "sourdough bread"]),
    (2, "Croissant", &["croissants", "croissant"]),
    (3, "Rye bread", &["rye bread", "rye loaf", "rye"]),
    (4, "Cinnamon bun", &["cinnamon buns", "cinnamon bun"]),
    (5, "Apples (1 kg)", &["apples", "kg apples", "apples 1kg"]),
    (6, "Bananas (1 kg)", &["bananas", "banana"]),
    (7, "Tomatoes (500 g)", &["tomatoes", "tomatos"]),
    (8, "Oat milk (1 l)", &["oat milk", "oatmilk"]),
];

/// How a quantity is written: `{n}` is the number, `{w}` the number word.
const QUANTITY_FORMS: &[&str] = &["{n} {item}", "{n}x {item}", "{item} x{n}", "{item} - {n}", "{w} {item}", "{item}"];
const WORDS: &[&str] = &["", "one", "two", "three", "four", "five", "six"];

struct Group {
    name: &'static str,
    fonts: &'static [&'static str],
    photo: bool,
}

const GROUPS: &[Group] = &[
    Group {
        name: "printed",
        fonts: &[
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        ],
        photo: false,
    },
    Group {
        name: "handwriting-like",
        fonts: &[
            "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
            "/usr/share/fonts/truetype/breip/Breip.ttf",
            "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
        ],
        photo: false,
    },
    Group {
        name: "handwriting-like, phone photo",
        fonts: &[
            "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
            "/usr/share/fonts/truetype/breip/Breip.ttf",
            "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
        ],
        photo: true,
    },
];

/// One list: its lines as written and what each means (product id, quantity).
fn make_list(rng: &mut lists::Rng) -> (Vec<String>, Vec<(i64, i64)>) {
    let count = 3 + (rng.next_u64() % 4) as usize;
    let mut ids: Vec<i64> = CATALOGUE.iter().map(|c| c.0).collect();
    let mut written = Vec::new();
    let mut expected = Vec::new();
    for _ in 0..count {
        let (id, _, spellings) = CATALOGUE.iter().find(|c| c.0 == ids[(rng.next_u64() % ids.len() as u64) as usize]).copied().unwrap_or(CATALOGUE[0]);
        ids.retain(|&i| i != id);
        let item = *rng.pick(spellings);
        let form = *rng.pick(QUANTITY_FORMS);
        let n = if form == "{item}" { 1 } else { 1 + (rng.next_u64() % 6) as i64 };
        written.push(form.replace("{n}", &n.to_string()).replace("{w}", WORDS[n as usize]).replace("{item}", item));
        expected.push((id, n));
    }
    (written, expected)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let per_font: usize = std::env::var("BENCH_LISTS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let now = chrono::Utc::now();
    let products: Vec<Product> = CATALOGUE
        .iter()
        .map(|&(id, name, _)| Product {
            id,
            shop_id: 1,
            name: name.into(),
            price_minor: 100,
            stock: 100,
            low_stock_threshold: 0,
            available: true,
            updated_at: now,
        })
        .collect();
    let ocr = Tesseract { command: std::env::var("ORDERCAST_OCR_COMMAND").unwrap_or_else(|_| "tesseract".into()) };
    let version = std::process::Command::new(&ocr.command)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_owned())
        .unwrap_or_else(|_| "tesseract not found".into());

    let mut table = String::new();
    let mut misses = String::new();
    for group in GROUPS {
        let mut rng = lists::Rng::new(7);
        let (mut lines_total, mut products_right, mut quantities_right, mut extra) = (0usize, 0usize, 0usize, 0usize);
        let mut times = Vec::new();
        let mut images = 0;
        for font_path in group.fonts {
            let Some(font) = lists::font(font_path) else {
                eprintln!("{font_path} is missing; skipping it");
                continue;
            };
            for _ in 0..per_font {
                let (written, expected) = make_list(&mut rng);
                let refs: Vec<&str> = written.iter().map(String::as_str).collect();
                let page = lists::render(&font, &refs, rng.range(48.0, 64.0));
                let bytes = if group.photo { lists::jpeg(&lists::as_phone_photo(&page, &mut rng)) } else { lists::png(&page) };

                let started = Instant::now();
                let (_, image) = photo::decode(&bytes).expect("a generated photo decodes");
                let png = photo::png(&photo::prepare(&image)).expect("encode");
                let read = ocr.read(png).await.expect("tesseract runs");
                let proposed = lines(&read, &products, &[]);
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                images += 1;

                let mut used = vec![false; proposed.len()];
                for &(id, qty) in &expected {
                    lines_total += 1;
                    match proposed.iter().enumerate().find(|(i, l)| !used[*i] && l.product_id == Some(id)) {
                        Some((i, line)) => {
                            used[i] = true;
                            products_right += 1;
                            if line.quantity == qty {
                                quantities_right += 1;
                            }
                        }
                        None => {
                            if misses.lines().count() < 60 {
                                let font = font_path.rsplit('/').next().unwrap_or(font_path);
                                let name = CATALOGUE.iter().find(|c| c.0 == id).map(|c| c.1).unwrap_or("?");
                                let _ = writeln!(
                                    misses,
                                    "| {} | {font} | {name} | {} |",
                                    group.name,
                                    read.iter().map(|l| l.text.replace('|', "/")).collect::<Vec<_>>().join(" ⏎ ")
                                );
                            }
                        }
                    }
                }
                extra += proposed.iter().enumerate().filter(|(i, l)| !used[*i] && l.product_id.is_some()).count();
            }
        }
        times.sort_by(f64::total_cmp);
        let pct = |n: usize| if lines_total == 0 { 0.0 } else { 100.0 * n as f64 / lines_total as f64 };
        let _ = writeln!(
            table,
            "| {} | {images} | {lines_total} | {:.1} % | {:.1} % | {extra} | {:.0} | {:.0} |",
            group.name,
            pct(products_right),
            pct(quantities_right),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
        );
        println!("{}: {images} photos, products {:.1} %, quantities {:.1} %", group.name, pct(products_right), pct(quantities_right));
    }

    let report = format!(
        "# Chitty reading: benchmark report\n\n\
         Generated by `cargo bench -p server --bench chitty` on {date}. Interpretation: \
         [BENCHMARKS.md](BENCHMARKS.md#reading-chitties).\n\n\
         ## Machine\n\n{machine}- OCR: {version}, one photo at a time, `OMP_THREAD_LIMIT=1`\n\n\
         ## Results\n\n\
         {per_font} lists per font, 3–6 lines each, the demo catalogue's eight products written as people write them \
         (\"2 croissants\", \"croissants x2\", \"two rye\", \"oatmilk\", …). A line counts as right when a read line proposes \
         its product; its quantity when that line also has the right quantity. *Wrong proposals* are read lines that \
         proposed a product that was not on the list. Time per photo: decode, prepare, Tesseract, parse and match.\n\n\
         | group | photos | lines | product right | quantity right | wrong proposals | p50 ms | p95 ms |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n{table}\n\
         ## Lines missed (first 60)\n\n| group | font | product | what Tesseract read (lines ⏎) |\n|---|---|---|---|\n{misses}",
        date = now.format("%Y-%m-%d"),
        machine = machine(),
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/BENCHMARKS-chitty.md");
    std::fs::write(path, report).expect("write the report");
    println!("wrote {path}");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("- CPU: {cpu}, {cores} cores\n- Kernel: Linux {}\n", kernel.trim())
}
