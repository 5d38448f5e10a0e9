//! Shopping lists drawn as images, for the chitty tests and the OCR benchmark: text in a font
//! from the machine's font packages, on paper, optionally made to look like a phone photo of
//! it (tinted paper, uneven light, a slight turn, blur, noise, JPEG).

#![allow(dead_code)]

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;
use std::path::Path;

/// Loads a TrueType/OpenType font file, or `None` if the package is not installed.
pub fn font(path: &str) -> Option<FontVec> {
    let bytes = std::fs::read(Path::new(path)).ok()?;
    FontVec::try_from_vec(bytes).ok()
}

/// DejaVu Sans, which every Debian machine here has.
pub const PRINTED: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Draws `lines` in dark ink on white paper, `px` pixels per line of type.
pub fn render(font: &FontVec, lines: &[&str], px: f32) -> RgbImage {
    let scaled = font.as_scaled(PxScale::from(px));
    let line_height = (scaled.height() + scaled.line_gap()).ceil().max(px) * 1.35;
    let margin = px * 1.5;
    let width_of = |line: &str| -> f32 {
        let mut w = 0.0;
        let mut prev = None;
        for c in line.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                w += scaled.kern(p, id);
            }
            w += scaled.h_advance(id);
            prev = Some(id);
        }
        w
    };
    let widest = lines.iter().map(|l| width_of(l)).fold(0.0, f32::max);
    let (w, h) = ((widest + 2.0 * margin).ceil() as u32, (line_height * lines.len() as f32 + 2.0 * margin).ceil() as u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for (i, line) in lines.iter().enumerate() {
        let baseline = margin + scaled.ascent() + line_height * i as f32;
        let mut x = margin;
        let mut prev = None;
        for c in line.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                x += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px_, py_) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                    if px_ >= 0 && py_ >= 0 && (px_ as u32) < w && (py_ as u32) < h {
                        let p = img.get_pixel_mut(px_ as u32, py_ as u32);
                        let ink = [25.0f32, 30.0, 60.0];
                        for (ch, k) in p.0.iter_mut().zip(ink) {
                            *ch = (f32::from(*ch) * (1.0 - coverage) + k * coverage).round() as u8;
                        }
                    }
                });
            }
            x += scaled.h_advance(id);
            prev = Some(id);
        }
    }
    img
}

/// A small deterministic random source (xorshift), so every run draws the same photos.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// The paper photographed: tinted, lit from one side, turned a few degrees, slightly out of
/// focus, with sensor noise.
pub fn as_phone_photo(img: &RgbImage, rng: &mut Rng) -> RgbImage {
    let (w, h) = img.dimensions();
    let angle = rng.range(-3.0, 3.0).to_radians();
    let (sin, cos) = angle.sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let tint = [rng.range(0.90, 1.0), rng.range(0.85, 0.97), rng.range(0.70, 0.90)];
    // Light falls off from a corner: from full to 55–75 % across the page.
    let dark = rng.range(0.55, 0.75);
    let (lx, ly) = (rng.unit(), rng.unit());
    let noise = rng.range(6.0, 14.0);
    let mut out = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            // Sample the flat page where this pixel of the turned photo comes from.
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
            let src = sample(img, sx, sy);
            let dist = (((x as f32 / w as f32) - lx).powi(2) + ((y as f32 / h as f32) - ly).powi(2)).sqrt() / 1.42;
            let light = 1.0 - (1.0 - dark) * dist;
            let mut p = [0u8; 3];
            for c in 0..3 {
                let v = src[c] * tint[c] * light + (rng.unit() - 0.5) * 2.0 * noise;
                p[c] = v.clamp(0.0, 255.0) as u8;
            }
            out.put_pixel(x, y, Rgb(p));
        }
    }
    image::imageops::blur(&out, rng.range(0.6, 1.3))
}

/// Bilinear sample; outside the page is a dark table.
fn sample(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x >= (w - 1) as f32 || y >= (h - 1) as f32 {
        return [70.0, 60.0, 50.0];
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let p = |xx: u32, yy: u32| f32::from(img.get_pixel(xx, yy)[c]);
        let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
        let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
        *o = top * (1.0 - fy) + bottom * fy;
    }
    out
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Png)
}

pub fn jpeg(img: &RgbImage) -> Vec<u8> {
    encode(img, ImageFormat::Jpeg)
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone()).write_to(&mut out, format).expect("encode an image in memory");
    out.into_inner()
}
