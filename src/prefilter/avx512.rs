//! The AVX-512 kernel of the prefilter: 64 positions per step. Each byte
//! pair hash indexes a 256-entry table with two two-register byte
//! permutations (`vpermi2b`, AVX-512 VBMI) and a blend on the hash's top bit.
//! It computes exactly [`Prefilter::mask_at`](super::Prefilter::mask_at)
//! for every position; the tests hold it to that.

use std::arch::x86_64::*;

use super::{fold, Tables, LOOKAHEAD, OFFSETS};

/// True when the CPU runs [`candidates`].
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vbmi")
}

/// Calls `candidate(position)` for each position of `hay` whose bucket mask
/// is not empty, in increasing order.
///
/// # Safety
///
/// The CPU must support AVX-512 F, BW and VBMI ([`available`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub unsafe fn candidates(tables: &Tables, hay: &[u8], candidate: &mut impl FnMut(usize)) {
    // SAFETY: each load reads 64 bytes inside a 256-byte array.
    let t: [[[__m512i; 4]; 2]; OFFSETS] = std::array::from_fn(|k| {
        std::array::from_fn(|g| {
            std::array::from_fn(|q| unsafe {
                _mm512_loadu_si512(tables.halves[k][g].as_ptr().add(q * 64).cast())
            })
        })
    });
    let mut at = 0;
    while at + 64 + LOOKAHEAD <= hay.len() {
        // SAFETY: the block reads hay[at..at + 64 + LOOKAHEAD], in bounds.
        let mut mask = unsafe { block(&t, hay.as_ptr().add(at)) };
        while mask != 0 {
            candidate(at + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        at += 64;
    }
    // The tail goes through the same kernel from a zero-padded copy, which
    // reads as the scalar code reads bytes past the end.
    let mut pad = [0u8; 128 + 64 + LOOKAHEAD];
    let rest = &hay[at..];
    pad[..rest.len()].copy_from_slice(rest);
    let mut base = 0;
    while base < rest.len() {
        // SAFETY: base < rest.len() < 64 + LOOKAHEAD, so the block's reads end
        // within `pad`.
        let mut mask = unsafe { block(&t, pad.as_ptr().add(base)) };
        let live = rest.len() - base;
        if live < 64 {
            mask &= (1u64 << live) - 1;
        }
        while mask != 0 {
            candidate(at + base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 64;
    }
}

/// The candidate bits of the 64 positions starting at `p`.
///
/// # Safety
///
/// `p..p + 64 + LOOKAHEAD` must be readable, and the CPU must have the
/// features `candidates` enables.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn block(t: &[[[__m512i; 4]; 2]; OFFSETS], p: *const u8) -> u64 {
    let case = _mm512_set1_epi8(fold(0) as i8);
    let high5 = _mm512_set1_epi8(0xF8u8 as i8);
    let low3 = _mm512_set1_epi8(0x07);
    // SAFETY: the caller guarantees p + j .. p + j + 64 is readable for
    // every j <= LOOKAHEAD.
    let x: [__m512i; OFFSETS + 1] = std::array::from_fn(|j| unsafe {
        _mm512_or_si512(_mm512_loadu_si512(p.add(j).cast()), case)
    });
    let mut acc = [_mm512_set1_epi8(-1); 2];
    for k in 0..OFFSETS {
        // a.rotate_left(3) ^ b per byte, from 16-bit shifts with the bits
        // that crossed into the neighbouring byte masked off.
        let rotated = _mm512_or_si512(
            _mm512_and_si512(_mm512_slli_epi16(x[k], 3), high5),
            _mm512_and_si512(_mm512_srli_epi16(x[k], 5), low3),
        );
        let h = _mm512_xor_si512(rotated, x[k + 1]);
        let upper = _mm512_movepi8_mask(h);
        for g in 0..2 {
            let low = _mm512_permutex2var_epi8(t[k][g][0], h, t[k][g][1]);
            let high = _mm512_permutex2var_epi8(t[k][g][2], h, t[k][g][3]);
            acc[g] = _mm512_and_si512(acc[g], _mm512_mask_blend_epi8(upper, low, high));
        }
    }
    let any = _mm512_or_si512(acc[0], acc[1]);
    _mm512_test_epi8_mask(any, any)
}
