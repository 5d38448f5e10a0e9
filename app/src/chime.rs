//! The new-order chime: a short two-tone sound made with the Web Audio API (no audio file).
//!
//! Browsers refuse to play sound before the user has interacted with the page (autoplay
//! rules). The chime's audio context is created on the first attempt; if the browser keeps it
//! suspended, [`Chime::blocked`] turns true and the board shows an "Enable sound" button whose
//! click (a user gesture) unlocks it. The sound switch is remembered in `localStorage`.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Chime {
    /// The sound switch.
    pub enabled: RwSignal<bool>,
    /// The browser has not allowed sound yet: a click on the page is needed.
    pub blocked: RwSignal<bool>,
    /// How many times the chime has rung on this page (also shown to tests as an attribute).
    pub rung: RwSignal<u32>,
    #[cfg(feature = "hydrate")]
    context: StoredValue<Option<web_sys::AudioContext>, LocalStorage>,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const STORAGE_KEY: &str = "ordercast.sound";

impl Chime {
    pub fn new() -> Chime {
        let chime = Chime {
            enabled: RwSignal::new(true),
            blocked: RwSignal::new(false),
            rung: RwSignal::new(0),
            #[cfg(feature = "hydrate")]
            context: StoredValue::new_local(None),
        };
        // Effects run only in the browser, after hydration, so the server-rendered switch and
        // the hydrated one agree before the stored preference is applied.
        Effect::new(move |_| {
            #[cfg(feature = "hydrate")]
            if let Some(stored) = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) {
                chime.enabled.set(stored != "off");
            }
        });
        // Browsers allow only a few audio contexts per page: give it back when the board goes.
        #[cfg(feature = "hydrate")]
        on_cleanup(move || {
            if let Some(Some(ctx)) = chime.context.try_get_value() {
                let _ = ctx.close();
            }
        });
        chime
    }

    pub fn set_enabled(&self, on: bool) {
        self.enabled.set(on);
        #[cfg(feature = "hydrate")]
        if let Some(s) = storage() {
            let _ = s.set_item(STORAGE_KEY, if on { "on" } else { "off" });
        }
        if on {
            self.unlock();
        }
    }

    /// Called from a click: lets the browser start the audio context.
    pub fn unlock(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = self.audio() {
            let _ = ctx.resume();
            self.blocked.set(false);
        }
    }

    /// Rings once, if the switch is on.
    pub fn ring(&self) {
        if !self.enabled.get_untracked() {
            return;
        }
        self.rung.update(|n| *n += 1);
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = self.audio() {
            if ctx.state() != web_sys::AudioContextState::Running {
                let _ = ctx.resume();
                if ctx.state() != web_sys::AudioContextState::Running {
                    self.blocked.set(true);
                }
            }
            play(&ctx);
        }
    }

    #[cfg(feature = "hydrate")]
    fn audio(&self) -> Option<web_sys::AudioContext> {
        if let Some(ctx) = self.context.get_value() {
            return Some(ctx);
        }
        let ctx = web_sys::AudioContext::new().ok()?;
        self.context.set_value(Some(ctx.clone()));
        Some(ctx)
    }
}

impl Default for Chime {
    fn default() -> Self {
        Chime::new()
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Two short sine tones, fading in and out so they do not click.
#[cfg(feature = "hydrate")]
fn play(ctx: &web_sys::AudioContext) {
    let now = ctx.current_time();
    for (i, freq) in [880.0f32, 1175.0].into_iter().enumerate() {
        let start = now + i as f64 * 0.18;
        let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else { return };
        osc.set_type(web_sys::OscillatorType::Sine);
        osc.frequency().set_value(freq);
        let g = gain.gain();
        let _ = g.set_value_at_time(0.0, start);
        let _ = g.linear_ramp_to_value_at_time(0.25, start + 0.02);
        let _ = g.linear_ramp_to_value_at_time(0.0, start + 0.16);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&ctx.destination());
        let _ = osc.start_with_when(start);
        let _ = osc.stop_with_when(start + 0.17);
    }
}
