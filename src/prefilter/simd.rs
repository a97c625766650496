//! Which code path the prefilter runs: the best this CPU has, or the one
//! the environment variable `TILL_SCAN_SIMD` asks for
//! (`auto|avx512|avx2|portable`), read once per process. A kernel the CPU
//! lacks falls back to the best one below it, with a note for `-v`.

use std::sync::OnceLock;

/// A code path of the prefilter, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    /// AVX-512 F, BW, VBMI, VBMI2 and GFNI: the bucket masks, 64 positions
    /// per step.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 (x86-64-v3): the first-pair and first-quad bitmaps, 32
    /// positions per step.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// No kernel: the matcher uses an Aho-Corasick automaton instead.
    Portable,
}

/// Every path, fastest first.
pub const ALL: &[Simd] = &[
    #[cfg(target_arch = "x86_64")]
    Simd::Avx512,
    #[cfg(target_arch = "x86_64")]
    Simd::Avx2,
    Simd::Portable,
];

impl Simd {
    /// The name `TILL_SCAN_SIMD` and `TILL_SCAN_EXPECT_SIMD` use.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => "avx512",
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => "avx2",
            Simd::Portable => "portable",
        }
    }

    /// Whether this CPU runs it.
    pub fn available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => super::avx512::available(),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => super::avx2::available(),
            Simd::Portable => true,
        }
    }

    /// The best path at or below `self` that this CPU runs.
    pub fn best_from(self) -> Simd {
        let from = ALL.iter().position(|&s| s == self).unwrap_or(0);
        ALL[from..]
            .iter()
            .copied()
            .find(|s| s.available())
            .unwrap_or(Simd::Portable)
    }
}

/// What detection chose, and why when it is not what was asked.
#[derive(Debug, Clone)]
pub struct Selection {
    pub simd: Simd,
    /// For `-v`: the request could not be met, or was not understood.
    pub note: Option<String>,
}

/// The path for this process, chosen on first use.
pub fn selection() -> &'static Selection {
    static CHOSEN: OnceLock<Selection> = OnceLock::new();
    CHOSEN.get_or_init(|| select(std::env::var("TILL_SCAN_SIMD").ok().as_deref()))
}

/// The path `request` (the value of `TILL_SCAN_SIMD`) leads to.
pub fn select(request: Option<&str>) -> Selection {
    let request = request.map(str::trim).unwrap_or("");
    if request.is_empty() || request.eq_ignore_ascii_case("auto") {
        return Selection {
            simd: ALL[0].best_from(),
            note: None,
        };
    }
    let Some(asked) = ALL
        .iter()
        .copied()
        .find(|s| s.name().eq_ignore_ascii_case(request))
    else {
        let simd = ALL[0].best_from();
        let known: Vec<&str> = ALL.iter().map(|s| s.name()).collect();
        return Selection {
            simd,
            note: Some(format!(
                "TILL_SCAN_SIMD={request:?} is not one of auto, {}; using {}",
                known.join(", "),
                simd.name()
            )),
        };
    };
    let simd = asked.best_from();
    Selection {
        simd,
        note: (simd != asked).then(|| {
            format!(
                "TILL_SCAN_SIMD={request}: this CPU cannot run it; using {}",
                simd.name()
            )
        }),
    }
}
