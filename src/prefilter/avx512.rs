//! The AVX-512 kernel of the prefilter: 64 positions per step. A byte pair's
//! hash is two GF(2) affine byte transforms (GFNI), one per byte, XORed; the
//! transforms ignore bit 5, so they fold ASCII case for free. Each hash
//! indexes a 256-entry table with two two-register byte permutations
//! (`vpermi2b`, AVX-512 VBMI) and a blend on the hash's top bit.
//! It computes exactly [`Prefilter::mask_at`](super::Prefilter::mask_at)
//! for every position; the tests hold it to that.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::{Tables, LOOKAHEAD, OFFSETS};

/// True when the CPU runs [`candidates`].
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vbmi")
        && is_x86_feature_detected!("avx512vbmi2")
        && is_x86_feature_detected!("gfni")
        && is_x86_feature_detected!("popcnt")
}

/// Bit matrices for `_mm512_gf2p8affine_epi64_epi8`: byte `7 - i` selects
/// the input bits whose parity is output bit `i`. `FIRST` is
/// `a.rotate_left(3)` and `SECOND` the identity, each without input bit 5;
/// the affine constants put back what `fold` (setting bit 5) contributes, so
/// `first(a) ^ second(b) == pair_hash(fold(a), fold(b))`.
const FIRST: i64 = 0x0040_8001_0204_0810;
const FIRST_CONSTANT: i32 = 0x01;
const SECOND: i64 = 0x0102_0408_1000_4080;
const SECOND_CONSTANT: i32 = 0x20;

/// Blocks of 64 positions per batch: batch offsets fit in a `u16`.
const BATCH_BLOCKS: usize = 256;

// The `u16` offsets, and the tail's two blocks in the batch list.
const _: () = assert!(64 * BATCH_BLOCKS <= u16::MAX as usize + 1);
const _: () = assert!(64 * BATCH_BLOCKS >= 128);

/// What [`candidates`] promises and [`keep_possible_starts`] relies on:
/// `offsets` strictly increase and each is below `len`. Checked by
/// `debug_assert!`s, so that the tests (built with debug assertions) catch
/// a kernel change that breaks it before a gather reads out of bounds.
fn increasing_below(offsets: &[u16], len: usize) -> bool {
    offsets.windows(2).all(|w| w[0] < w[1]) && offsets.last().is_none_or(|&o| (o as usize) < len)
}

#[cfg(test)]
thread_local! {
    /// Calls of [`candidates`] on this thread, so that a test can prove a
    /// scan went through the kernel rather than the portable path.
    pub(super) static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Calls `batch(base, offsets)` with the positions of `hay` whose bucket
/// mask is not empty, as increasing offsets from `base`, batch after batch
/// in increasing order. The kernel writes a block's positions with a
/// compress and a store rather than a branch per position, so the cost of a
/// candidate does not depend on how the candidates fall; `batch` may reorder
/// or overwrite `offsets`.
///
/// # Safety
///
/// The CPU must support AVX-512 F, BW, VBMI and VBMI2 and GFNI
/// ([`available`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,gfni,popcnt")]
pub unsafe fn candidates(tables: &Tables, hay: &[u8], batch: &mut impl FnMut(usize, &mut [u16])) {
    #[cfg(test)]
    RUNS.set(RUNS.get() + 1);
    let t: [[__m512i; 4]; OFFSETS] = std::array::from_fn(|k| {
        std::array::from_fn(|q| {
            // SAFETY: q < 4, so the load reads bytes 64 * q .. 64 * q + 64 of
            // a 256-byte table (an unaligned load needs no alignment).
            unsafe { _mm512_loadu_si512(tables.masks[k].as_ptr().add(q * 64).cast()) }
        })
    });
    // Not zeroed: that would cost more than a small file's scan. Only the
    // entries `append` writes are ever read.
    let mut list = [MaybeUninit::<u16>::uninit(); BATCH_BLOCKS * 64];
    let mut at = 0;
    while at + 64 + LOOKAHEAD <= hay.len() {
        let blocks = ((hay.len() - LOOKAHEAD - at) / 64).min(BATCH_BLOCKS);
        debug_assert!(blocks >= 1 && at + 64 * blocks + LOOKAHEAD <= hay.len());
        let mut n = 0;
        for b in 0..blocks {
            debug_assert!(n <= 64 * b && n + 64 <= list.len());
            // SAFETY: the block reads hay[at + 64 * b..][..64 + LOOKAHEAD],
            // in bounds because b < blocks; `append` writes at most 64
            // entries from n <= 64 * b, inside `list`.
            unsafe {
                let mask = block(&t, hay.as_ptr().add(at + 64 * b));
                n += append(mask, (64 * b) as u16, list.as_mut_ptr().add(n).cast());
            }
        }
        // SAFETY: `append` wrote (initialised) the first n entries.
        let offsets = unsafe { written(&mut list, n) };
        debug_assert!(increasing_below(offsets, 64 * blocks));
        batch(at, offsets);
        at += 64 * blocks;
    }
    // The tail goes through the same kernel from a zero-padded copy, which
    // reads as the scalar code reads bytes past the end.
    let mut pad = [0u8; 128 + 64 + LOOKAHEAD];
    let rest = &hay[at..];
    debug_assert!(rest.len() < 64 + LOOKAHEAD);
    pad[..rest.len()].copy_from_slice(rest);
    let mut n = 0;
    let mut base = 0;
    while base < rest.len() {
        debug_assert!(base + 64 + LOOKAHEAD <= pad.len() && n + 64 <= list.len());
        // SAFETY: base < rest.len() < 64 + LOOKAHEAD, so the block's reads end
        // within `pad`; at most two blocks write 128 entries into `list`.
        unsafe {
            let mut mask = block(&t, pad.as_ptr().add(base));
            let live = rest.len() - base;
            if live < 64 {
                mask &= (1u64 << live) - 1;
            }
            n += append(mask, base as u16, list.as_mut_ptr().add(n).cast());
        }
        base += 64;
    }
    if n > 0 {
        // SAFETY: as above.
        let offsets = unsafe { written(&mut list, n) };
        debug_assert!(increasing_below(offsets, rest.len()));
        batch(at, offsets);
    }
}

/// The first `n` entries of `list`.
///
/// # Safety
///
/// They must have been initialised.
unsafe fn written(list: &mut [MaybeUninit<u16>], n: usize) -> &mut [u16] {
    debug_assert!(n <= list.len());
    // SAFETY: the caller guarantees list[..n] is initialised, and
    // `MaybeUninit<u16>` has the layout of `u16`.
    unsafe { std::slice::from_raw_parts_mut(list[..n].as_mut_ptr().cast(), n) }
}

/// Writes `offset + i` for each set bit `i` of `mask`, in increasing order,
/// at `out`, and returns how many it wrote.
///
/// # Safety
///
/// `out..out + 64` must be writable, and the CPU must have the features
/// `candidates` enables.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
unsafe fn append(mask: u64, offset: u16, out: *mut u16) -> usize {
    let low = _mm512_set_epi16(
        31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9,
        8, 7, 6, 5, 4, 3, 2, 1, 0,
    );
    let low = _mm512_add_epi16(low, _mm512_set1_epi16(offset as i16));
    let high = _mm512_add_epi16(low, _mm512_set1_epi16(32));
    let (first, second) = (mask as u32, (mask >> 32) as u32);
    let count = first.count_ones() as usize;
    // SAFETY: the caller lets us write 64 entries from `out`; the second
    // store starts at most 32 entries in.
    unsafe {
        _mm512_storeu_si512(out.cast(), _mm512_maskz_compress_epi16(first, low));
        _mm512_storeu_si512(
            out.add(count).cast(),
            _mm512_maskz_compress_epi16(second, high),
        );
    }
    count + second.count_ones() as usize
}

/// Keeps, in order at the front of `offsets`, the candidates at which a
/// keyword may start by the bitmaps of first pairs and of first-quad hashes
/// (as [`Prefilter::may_start`](super::Prefilter::may_start) decides), 16 at
/// a time. Returns how many it kept and how many it read: it stops at the
/// last whole group of 16 whose positions all have four bytes left in `hay`,
/// and the caller finishes the rest.
///
/// # Safety
///
/// `offsets` must increase and each be less than `hay.len()` (as
/// [`candidates`] hands them over), and the CPU must have the features
/// `candidates` enables.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
pub unsafe fn keep_possible_starts(
    hay: &[u8],
    offsets: &mut [u16],
    short_pairs: &[u64; 1024],
    quads: &[u64; 1024],
) -> (usize, usize) {
    debug_assert!(increasing_below(offsets, hay.len()));
    let (mut kept, mut done) = (0, 0);
    let fold = _mm512_set1_epi32(0x2020_2020);
    let multiplier = _mm512_set1_epi32(super::QUAD_MULTIPLIER as i32);
    let (upper_a, letters, case) = (
        _mm512_set1_epi8(b'A' as i8),
        _mm512_set1_epi8(26),
        _mm512_set1_epi8(0x20),
    );
    let (low_byte, low_bits, one) = (
        _mm512_set1_epi32(0xff),
        _mm512_set1_epi32(31),
        _mm512_set1_epi32(1),
    );
    while done + 16 <= offsets.len() && offsets[done + 15] as usize + 4 <= hay.len() {
        debug_assert!(kept <= done);
        // SAFETY: offsets[done..done + 16] is in bounds; every gathered quad
        // lies in `hay`, since offsets increase and the last one has four
        // bytes left; bitmap words are indexed by 16-bit values over 32,
        // inside the 2048 words of each bitmap; the store of 16 offsets at
        // `kept <= done` ends within what this group read.
        unsafe {
            let at = _mm512_cvtepu16_epi32(_mm256_loadu_si256(offsets.as_ptr().add(done).cast()));
            let quad = _mm512_i32gather_epi32::<1>(at, hay.as_ptr().cast());
            let q = _mm512_srli_epi32::<16>(_mm512_mullo_epi32(
                _mm512_or_si512(quad, fold),
                multiplier,
            ));
            let quad_word =
                _mm512_i32gather_epi32::<4>(_mm512_srli_epi32::<5>(q), quads.as_ptr().cast());
            let upper = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(quad, upper_a), letters);
            let lower = _mm512_mask_add_epi8(quad, upper, quad, case);
            let p = _mm512_or_si512(
                _mm512_slli_epi32::<8>(_mm512_and_si512(lower, low_byte)),
                _mm512_and_si512(_mm512_srli_epi32::<8>(lower), low_byte),
            );
            let pair_word =
                _mm512_i32gather_epi32::<4>(_mm512_srli_epi32::<5>(p), short_pairs.as_ptr().cast());
            let bits = _mm512_or_si512(
                _mm512_srlv_epi32(quad_word, _mm512_and_si512(q, low_bits)),
                _mm512_srlv_epi32(pair_word, _mm512_and_si512(p, low_bits)),
            );
            let keep = _mm512_test_epi32_mask(bits, one);
            let packed = _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(keep, at));
            _mm256_storeu_si256(offsets.as_mut_ptr().add(kept).cast(), packed);
            kept += keep.count_ones() as usize;
        }
        done += 16;
    }
    (kept, done)
}

/// The candidate bits of the 64 positions starting at `p`.
///
/// # Safety
///
/// `p..p + 64 + LOOKAHEAD` must be readable, and the CPU must have the
/// features `candidates` enables.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,gfni,popcnt")]
unsafe fn block(t: &[[__m512i; 4]; OFFSETS], p: *const u8) -> u64 {
    let first = _mm512_set1_epi64(FIRST);
    let second = _mm512_set1_epi64(SECOND);
    // SAFETY: the caller guarantees p + j .. p + j + 64 is readable for
    // every j <= LOOKAHEAD.
    let x: [__m512i; OFFSETS + 1] =
        std::array::from_fn(|j| unsafe { _mm512_loadu_si512(p.add(j).cast()) });
    let mut acc = _mm512_set1_epi8(-1);
    for k in 0..OFFSETS {
        let h = _mm512_xor_si512(
            _mm512_gf2p8affine_epi64_epi8::<FIRST_CONSTANT>(x[k], first),
            _mm512_gf2p8affine_epi64_epi8::<SECOND_CONSTANT>(x[k + 1], second),
        );
        let upper = _mm512_movepi8_mask(h);
        let low = _mm512_permutex2var_epi8(t[k][0], h, t[k][1]);
        let high = _mm512_permutex2var_epi8(t[k][2], h, t[k][3]);
        acc = _mm512_and_si512(acc, _mm512_mask_blend_epi8(upper, low, high));
    }
    _mm512_test_epi8_mask(acc, acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefilter::{fold, pair_hash};

    #[test]
    fn affine_hash_is_the_scalar_pair_hash_for_every_pair() {
        if !available() {
            return;
        }
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        for high in 0..=255u8 {
            for chunk in 0..4u8 {
                for i in 0..64u8 {
                    a[i as usize] = high;
                    b[i as usize] = chunk * 64 + i;
                }
                // SAFETY: `available` checked the features; the loads and
                // store stay within the 64-byte arrays.
                let got = unsafe { hash(&a, &b) };
                for i in 0..64 {
                    assert_eq!(got[i], pair_hash(fold(a[i]), fold(b[i])), "{high} {}", b[i]);
                }
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,gfni")]
    unsafe fn hash(a: &[u8; 64], b: &[u8; 64]) -> [u8; 64] {
        let mut out = [0u8; 64];
        // SAFETY: 64-byte loads and store on 64-byte arrays.
        unsafe {
            let h = _mm512_xor_si512(
                _mm512_gf2p8affine_epi64_epi8::<FIRST_CONSTANT>(
                    _mm512_loadu_si512(a.as_ptr().cast()),
                    _mm512_set1_epi64(FIRST),
                ),
                _mm512_gf2p8affine_epi64_epi8::<SECOND_CONSTANT>(
                    _mm512_loadu_si512(b.as_ptr().cast()),
                    _mm512_set1_epi64(SECOND),
                ),
            );
            _mm512_storeu_si512(out.as_mut_ptr().cast(), h);
        }
        out
    }
}
