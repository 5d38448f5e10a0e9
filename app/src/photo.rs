//! Sending a photo of a list from the browser: shrunk first, so a 4 MB phone photo crosses a
//! slow connection as ~300 KB (handwriting stays well readable at 1,600 px), then posted as
//! `multipart/form-data`. Browser only.

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
use crate::{api::Chitty, client::ApiFailure};

/// The longer side a photo is shrunk to before upload.
pub const UPLOAD_SIDE: u32 = 1600;

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod browser {
    use super::UPLOAD_SIDE;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Blob, CanvasRenderingContext2d, File, HtmlCanvasElement, ImageBitmap};

    /// The photo as a JPEG at most [`UPLOAD_SIDE`] pixels a side, upright (the browser applies
    /// its EXIF orientation when decoding). `None` if the browser cannot decode it; then the
    /// original is sent and the server decides.
    pub async fn shrink(file: &File) -> Option<Blob> {
        let window = web_sys::window()?;
        let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file).ok()?).await.ok()?.dyn_into().ok()?;
        let (w, h) = (bitmap.width(), bitmap.height());
        let long = w.max(h).max(1);
        if long <= UPLOAD_SIDE && file.size() < 1_500_000.0 {
            return Some(file.clone().into());
        }
        let scale = f64::from(UPLOAD_SIDE.min(long)) / f64::from(long);
        let (sw, sh) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
        let canvas: HtmlCanvasElement = window.document()?.create_element("canvas").ok()?.dyn_into().ok()?;
        canvas.set_width(sw);
        canvas.set_height(sh);
        let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(sw), f64::from(sh)).ok()?;
        bitmap.close();
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let done = Closure::once_into_js(move |blob: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &blob);
            });
            let _ = canvas.to_blob_with_type_and_encoder_options(done.unchecked_ref(), "image/jpeg", &JsValue::from_f64(0.85));
        });
        JsFuture::from(promise).await.ok()?.dyn_into::<Blob>().ok()
    }
}

/// Sends the chosen photo (shrunk where the browser can) and the note to a shop.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub async fn send_list(shop_id: i64, file: web_sys::File, note: String) -> Result<Chitty, ApiFailure> {
    let fail = |m: &str| crate::api::ErrorDetail { code: crate::api::ErrorCode::Internal, message: m.to_owned() };
    let future = async move {
        let form = web_sys::FormData::new().map_err(|_| fail("this browser cannot send files"))?;
        match browser::shrink(&file).await {
            Some(blob) => form.append_with_blob_and_filename("photo", &blob, "list.jpg"),
            None => form.append_with_blob_and_filename("photo", &file, &file.name()),
        }
        .map_err(|_| fail("the photo could not be attached"))?;
        if !note.trim().is_empty() {
            form.append_with_str("note", note.trim()).map_err(|_| fail("the note could not be attached"))?;
        }
        let request = gloo_net::http::Request::post(&format!("/api/v1/shops/{shop_id}/chitties"))
            .body(form)
            .map_err(|_| fail("the photo could not be attached"))?;
        crate::client::finish(request.send().await).await
    };
    send_wrapper::SendWrapper::new(future).await
}

/// A preview URL for a chosen file (revoke it with [`revoke_preview`]).
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn preview(file: &web_sys::File) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(file).ok()
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn revoke_preview(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}
