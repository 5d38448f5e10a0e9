//! Reading chitties: photographed shopping lists.
//!
//! - [`photo`]: checking an upload, and preparing a photo for OCR.
//! - [`ocr`]: the OCR engine (Tesseract) behind a trait.
//! - [`reader`]: the durable job that reads each stored chitty once, on any node, after a
//!   restart too.
//!
//! The rules that turn read text into proposed order lines (quantities, product matching,
//! aliases) are pure and live in `app::domain::chitty`; [`lines`] applies them.

pub mod ocr;
pub mod photo;
pub mod reader;

use app::api::{ChittyCandidate, ChittyLine, Product};
use app::domain::chitty::{parse_line, proposal, rank};
use ocr::OcrLine;

/// Lines of a list read with less confidence than this are dropped as noise (specks and
/// lines of the paper read as letters), unless they parse to an item with a quantity.
const MIN_LINE_CONFIDENCE: f32 = 20.0;

/// The order lines a list's text proposes: each line read as quantity and item, with the
/// shop's products it most likely means. Lines that hold no item are left out.
pub fn lines(read: &[OcrLine], products: &[Product], aliases: &[(String, i64)]) -> Vec<ChittyLine> {
    let names: Vec<(i64, &str)> = products.iter().map(|p| (p.id, p.name.as_str())).collect();
    let mut out = Vec::new();
    for line in read {
        let Some(parsed) = parse_line(&line.text) else { continue };
        if line.confidence < MIN_LINE_CONFIDENCE && !parsed.quantity_read {
            continue;
        }
        let matches = rank(&parsed.item, &names, aliases);
        let candidates = matches
            .iter()
            .filter_map(|m| {
                let p = products.iter().find(|p| p.id == m.product_id)?;
                Some(ChittyCandidate { product_id: p.id, name: p.name.clone(), confidence: m.confidence })
            })
            .collect();
        out.push(ChittyLine {
            position: out.len() as i64,
            text: line.text.clone(),
            item: parsed.item,
            quantity: parsed.quantity,
            quantity_read: parsed.quantity_read,
            unit: parsed.unit,
            ocr_confidence: line.confidence.round().clamp(0.0, 100.0) as u8,
            candidates,
            product_id: proposal(&matches),
        });
    }
    out
}
