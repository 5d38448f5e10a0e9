//! The new-order chime: a short two-tone sound made with the Web Audio API (no audio file).
//!
//! Browsers refuse to play sound before the user has interacted with the page (autoplay
//! rules). The board probes for that as soon as it opens ([`Chime::probe`]): if the browser
//! keeps the audio context suspended, [`Chime::blocked`] turns true and the board covers itself
//! with a "Start the board" overlay whose click (a user gesture) unlocks it, so the first
//! order of the day is never silent. The sound switch and the loud setting are remembered in
//! `localStorage`.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Chime {
    /// The sound switch.
    pub enabled: RwSignal<bool>,
    /// Louder and longer, for a noisy kitchen.
    pub loud: RwSignal<bool>,
    /// The browser has not allowed sound yet: a click on the page is needed.
    pub blocked: RwSignal<bool>,
    /// How many times the chime has rung on this page (also shown to tests as an attribute).
    pub rung: RwSignal<u32>,
    #[cfg(feature = "hydrate")]
    context: StoredValue<Option<web_sys::AudioContext>, LocalStorage>,
}

const STORAGE_KEY: &str = "ordercast.sound";
/// How long a new audio context may take to start where sound is allowed.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PROBE_MS: u64 = 1_000;
const LOUD_KEY: &str = "ordercast.sound.loud";

impl Chime {
    pub fn new() -> Chime {
        let chime = Chime {
            enabled: RwSignal::new(true),
            loud: RwSignal::new(false),
            blocked: RwSignal::new(false),
            rung: RwSignal::new(0),
            #[cfg(feature = "hydrate")]
            context: StoredValue::new_local(None),
        };
        // Effects run only in the browser, after hydration, so the server-rendered switch and
        // the hydrated one agree before the stored preference is applied.
        Effect::new(move |_| {
            if let Some(stored) = crate::kept::get(STORAGE_KEY) {
                chime.enabled.set(stored != "off");
            }
            if let Some(stored) = crate::kept::get(LOUD_KEY) {
                chime.loud.set(stored == "on");
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
        crate::kept::set(STORAGE_KEY, if on { "on" } else { "off" });
        if on {
            self.unlock();
        }
    }

    pub fn set_loud(&self, on: bool) {
        self.loud.set(on);
        crate::kept::set(LOUD_KEY, if on { "on" } else { "off" });
    }

    /// Finds out whether the browser would let the chime ring now, without ringing. A new
    /// audio context starts suspended even where sound is allowed and runs a moment later; one
    /// still suspended after that is blocked until a click, and [`Chime::blocked`] turns true.
    pub fn probe(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = self.audio() {
            if ctx.state() == web_sys::AudioContextState::Running {
                return;
            }
            let _ = ctx.resume();
            let blocked = self.blocked;
            set_timeout(
                move || {
                    if ctx.state() != web_sys::AudioContextState::Running {
                        let _ = blocked.try_set(true);
                    }
                },
                std::time::Duration::from_millis(PROBE_MS),
            );
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
            play(&ctx, self.loud.get_untracked());
        }
    }

    /// Rings once from a click, whatever the switch says, so staff can hear it before service.
    pub fn ring_test(&self) {
        self.unlock();
        #[cfg(feature = "hydrate")]
        if let Some(ctx) = self.audio() {
            play(&ctx, self.loud.get_untracked());
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

/// Two short sine tones, fading in and out so they do not click; loud plays them three
/// times as a brighter triangle wave at nearly full volume.
#[cfg(feature = "hydrate")]
fn play(ctx: &web_sys::AudioContext, loud: bool) {
    let now = ctx.current_time();
    let (repeats, peak, wave) = if loud { (3, 0.9, web_sys::OscillatorType::Triangle) } else { (1, 0.25, web_sys::OscillatorType::Sine) };
    let tones = (0..repeats).flat_map(|_| [880.0f32, 1175.0]);
    for (i, freq) in tones.enumerate() {
        let start = now + i as f64 * 0.18;
        let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else { return };
        osc.set_type(wave);
        osc.frequency().set_value(freq);
        let g = gain.gain();
        let _ = g.set_value_at_time(0.0, start);
        let _ = g.linear_ramp_to_value_at_time(peak, start + 0.02);
        let _ = g.linear_ramp_to_value_at_time(0.0, start + 0.16);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&ctx.destination());
        let _ = osc.start_with_when(start);
        let _ = osc.stop_with_when(start + 0.17);
    }
}
