//! The photo of a list: checked when it is uploaded, and prepared for the OCR engine when it
//! is read.
//!
//! Checking decodes the whole image, under limits set before decoding: a tiny file that
//! declares 30,000 × 30,000 pixels is refused from its header, never allocated.
//! Preparing turns a phone photo into what Tesseract reads best: upright (EXIF orientation),
//! grey, a size where handwriting is 30–60 px tall, and black on white by an adaptive
//! threshold, which survives the uneven light of a photo where one global threshold does not.

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Largest side, in pixels, of an accepted photo.
pub const MAX_SIDE: u32 = 12_000;
/// Most pixels an accepted photo may have (a 48-megapixel phone camera's).
pub const MAX_PIXELS: u64 = 48_000_000;
/// The longer side a photo is scaled to before reading.
const READ_SIDE: u32 = 2000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image is {width} × {height} pixels; at most {MAX_SIDE} pixels a side and {} megapixels are accepted", MAX_PIXELS / 1_000_000)]
    TooManyPixels { width: u32, height: u32 },
    #[error("the image could not be decoded ({0}); it may be cut short or damaged")]
    Corrupt(String),
}

/// What an accepted photo is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Decodes the photo (upright), refusing what is not a readable image of a sensible size.
/// CPU-bound: call it from a blocking task.
pub fn decode(bytes: &[u8]) -> Result<(Checked, DynamicImage), PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| PhotoError::NotAnImage)?;
    let content_type = match reader.format() {
        Some(ImageFormat::Jpeg) => "image/jpeg",
        Some(ImageFormat::Png) => "image/png",
        Some(ImageFormat::WebP) => "image/webp",
        _ => return Err(PhotoError::NotAnImage),
    };
    // The size the header declares, read without decoding anything.
    let declared = imagesize::blob_size(bytes).map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let too_big = |width: u32, height: u32| {
        width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS
    };
    let (w, h) = (u32::try_from(declared.width).unwrap_or(u32::MAX), u32::try_from(declared.height).unwrap_or(u32::MAX));
    if too_big(w, h) {
        return Err(PhotoError::TooManyPixels { width: w, height: h });
    }
    if content_type == "image/jpeg" && !jpeg_is_complete(bytes) {
        return Err(PhotoError::Corrupt("the JPEG ends before its end marker".into()));
    }
    let mut decoder = reader.into_decoder().map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if too_big(width, height) {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    decoder.set_limits(limits).map_err(|_| PhotoError::TooManyPixels { width, height })?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    Ok((Checked { content_type, width, height }, image))
}

/// A JPEG's decoder fills a cut-short file with grey rather than failing: check that the
/// end-of-image marker is there (cameras may pad after it).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// The photo made ready for OCR: grey, scaled, thresholded. CPU-bound.
pub fn prepare(image: &DynamicImage) -> GrayImage {
    let gray = image.to_luma8();
    let (w, h) = gray.dimensions();
    let long = w.max(h).max(1);
    // Shrink big photos (faster, and handwriting stays well over Tesseract's minimum);
    // enlarge small ones (their letters are too few pixels tall to read).
    let scale = if long > READ_SIDE {
        f64::from(READ_SIDE) / f64::from(long)
    } else if long < READ_SIDE / 2 {
        2.0
    } else {
        1.0
    };
    let gray = if scale == 1.0 {
        gray
    } else {
        let (sw, sh) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
        image::imageops::resize(&gray, sw, sh, image::imageops::FilterType::Triangle)
    };
    let radius = (gray.width().max(gray.height()) / 60).clamp(8, 40);
    adaptive_threshold(&gray, radius, 12)
}

/// Black where a pixel is darker than the mean of its (2r+1)² neighbourhood by more than
/// `offset`, white elsewhere. Uses an integral image: constant time per pixel.
pub fn adaptive_threshold(img: &GrayImage, radius: u32, offset: i32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    // integral[(y+1)*(w+1) + (x+1)] = sum of img[0..=y][0..=x]
    let stride = wu + 1;
    let mut integral = vec![0u64; stride * (hu + 1)];
    for y in 0..hu {
        let mut row = 0u64;
        for x in 0..wu {
            row += u64::from(img.as_raw()[y * wu + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row;
        }
    }
    let r = radius as usize;
    let mut out = GrayImage::new(w, h);
    for y in 0..hu {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(hu));
        for x in 0..wu {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(wu));
            let sum = integral[y1 * stride + x1] + integral[y0 * stride + x0] - integral[y0 * stride + x1] - integral[y1 * stride + x0];
            let count = ((y1 - y0) * (x1 - x0)) as i64;
            let mean = (sum as i64) / count;
            let p = i64::from(img.as_raw()[y * wu + x]);
            out.as_mut()[y * wu + x] = if p < mean - i64::from(offset) { 0 } else { 255 };
        }
    }
    out
}

/// PNG bytes of a prepared image, as the OCR engine takes it.
pub fn png(image: &GrayImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, RgbImage};

    fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    #[test]
    fn jpeg_and_png_are_accepted_with_their_size() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([200, 190, 180])));
        for (format, content_type) in [(ImageFormat::Jpeg, "image/jpeg"), (ImageFormat::Png, "image/png")] {
            let (checked, _) = decode(&encoded(&img, format)).expect("decodes");
            assert_eq!(checked, Checked { content_type, width: 40, height: 30 });
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([10, 20, 30])));
        let jpeg = encoded(&img, ImageFormat::Jpeg);
        assert_eq!(decode(&[]).map(|c| c.0), Err(PhotoError::Empty));
        assert_eq!(decode(b"milk\n2 bread\n").map(|c| c.0), Err(PhotoError::NotAnImage));
        assert_eq!(decode(b"GIF89a\x01\x00\x01\x00").map(|c| c.0), Err(PhotoError::NotAnImage));
        assert!(matches!(decode(&jpeg[..jpeg.len() / 2]), Err(PhotoError::Corrupt(_))));
        let png = encoded(&img, ImageFormat::Png);
        assert!(matches!(decode(&png[..png.len() / 2]), Err(PhotoError::Corrupt(_))));
    }

    #[test]
    fn a_tiny_file_declaring_a_huge_image_is_refused_before_decoding() {
        let bomb = huge_png_header(30_000, 30_000);
        assert!(bomb.len() < 100);
        assert_eq!(decode(&bomb).map(|c| c.0), Err(PhotoError::TooManyPixels { width: 30_000, height: 30_000 }));
    }

    /// A PNG signature and IHDR chunk declaring `w` × `h` pixels, and no pixel data.
    pub(crate) fn huge_png_header(w: u32, h: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(w.to_be_bytes());
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([8, 0, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(13u32.to_be_bytes());
        png.extend(&ihdr);
        png.extend(crc32(&ihdr).to_be_bytes());
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn thresholding_keeps_dark_strokes_under_uneven_light() {
        // A gradient from dark to light with a darker stroke across it.
        let img = GrayImage::from_fn(200, 50, |x, y| {
            let base = 60 + (x * 180 / 200) as u8;
            Luma([if (20..26).contains(&y) { base.saturating_sub(50) } else { base }])
        });
        let out = adaptive_threshold(&img, 10, 12);
        for x in [5, 100, 195] {
            assert_eq!(out.get_pixel(x, 22)[0], 0, "stroke at x={x}");
            assert_eq!(out.get_pixel(x, 45)[0], 255, "paper at x={x}");
        }
    }
}
