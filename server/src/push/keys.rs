//! The VAPID key pair (RFC 8292) this server signs pushes with.
//!
//! Browsers subscribe with the public key ("application server key") and push services only
//! accept pushes signed by its private half, so the pair must outlive restarts and be the same
//! on every node: given by `--vapid-private-key`, or else made once and kept in `push_keys`.

use crate::db::Db;
use ct_codecs::{Base64UrlSafeNoPadding, Decoder, Encoder};
use crate::store;
use jwt_simple::prelude::ES256KeyPair;
use web_push::{PartialVapidSignatureBuilder, VapidSignatureBuilder};

/// Raw key bytes as browsers and `web-push` take them: base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default()
}

/// The key pair, ready to sign. Not `Clone`: copying the decoded key derives its public half
/// again (a P-256 scalar multiplication, ~100 µs), so it is shared behind an `Arc`. Held by
/// value in `AppState`, which axum clones for every request, it once took a third of the
/// server's CPU time under load.
pub struct Vapid {
    /// The private key, decoded once (copied for each push, which binds it to an endpoint).
    signer: PartialVapidSignatureBuilder,
    /// The public key (65 bytes uncompressed P-256 point, base64url): what browsers subscribe with.
    pub public_key: String,
    /// Who runs this server (`mailto:` or `https:`), for push services to contact.
    pub subject: String,
}

impl Vapid {
    /// The key given by flag, or the one in the database, made there if there is none yet.
    pub async fn load(db: &Db, given: Option<&str>, subject: &str) -> Result<Vapid, String> {
        let private_key = match given {
            Some(key) => key.trim().to_owned(),
            None => {
                let mut conn = db.write().await.map_err(|e| e.to_string())?;
                if store::push::keys(&mut conn).await.map_err(|e| e.to_string())?.is_none() {
                    let private = b64url(&ES256KeyPair::generate().to_bytes());
                    let public = VapidSignatureBuilder::from_base64_no_sub(&private).map_err(|e| e.to_string())?.get_public_key();
                    store::push::insert_keys(&mut conn, &private, &b64url(&public))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                // Whoever was first, this is the pair every node uses.
                let (private_key, _) = store::push::keys(&mut conn).await.map_err(|e| e.to_string())?.ok_or("no VAPID key")?;
                private_key
            }
        };
        let signer = VapidSignatureBuilder::from_base64_no_sub(&private_key)
            .map_err(|e| format!("the VAPID private key is not a raw P-256 key in base64url: {e}"))?;
        Ok(Vapid { public_key: b64url(&signer.get_public_key()), signer, subject: subject.to_owned() })
    }

    /// A signer for one message (`web-push` binds the signature to the endpoint's origin).
    pub fn signer(&self) -> PartialVapidSignatureBuilder {
        self.signer.clone()
    }
}

/// Raw key bytes from base64url (browsers pad it or not; both are accepted).
pub fn decode_b64url(text: &str) -> Option<Vec<u8>> {
    Base64UrlSafeNoPadding::decode_to_vec(text.trim_end_matches('='), None).ok()
}
