//! The AVX2 kernel of the prefilter (x86-64-v3): 32 positions per step.
//!
//! Without AVX-512's two-register byte permutes, a 256-entry table costs
//! sixteen `vpshufb` and fifteen blends per pair and offset, several times
//! the AVX-512 kernel; so this kernel does not compute the bucket masks. It
//! computes, for every position, what
//! [`Prefilter::may_start`](super::Prefilter::may_start) decides: whether
//! the folded hash of the four bytes there is in the bitmap of the keywords'
//! first quads, or the two lowercased bytes there in the bitmap of the first
//! pairs of keywords shorter than four bytes. Two gathers per eight
//! positions read the bitmaps (8 KiB each, in the L1 cache). The result is
//! exact with respect to `may_start` (the tests hold it to that), a superset
//! of the keyword occurrences, and on source code about as selective as the
//! bucket masks and the bitmaps together are on the AVX-512 path.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::{may_start_in, LOOKAHEAD, QUAD_MULTIPLIER};

/// True when the CPU runs [`candidates`].
pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt")
}

/// Blocks of 32 positions per batch: batch offsets fit in a `u16`.
const BATCH_BLOCKS: usize = 512;

// The `u16` offsets, and the tail's two blocks in the batch list.
const _: () = assert!(32 * BATCH_BLOCKS <= u16::MAX as usize + 1);
const _: () = assert!(32 * BATCH_BLOCKS >= 64);

/// Bytes a block reads from its start: 32 positions and the three bytes
/// after the last one's first; the loads reach byte 35.
const BLOCK_READ: usize = 36;
const _: () = assert!(BLOCK_READ <= 32 + LOOKAHEAD);

#[cfg(test)]
thread_local! {
    /// Calls of [`candidates`] on this thread, so that a test can prove a
    /// scan went through the kernel rather than another path.
    pub(super) static RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The bitmaps the kernel reads, as in [`Prefilter`](super::Prefilter).
pub struct Bitmaps<'a> {
    pub short_pairs: &'a [u64; 1024],
    pub quads: &'a [u64; 1024],
}

/// Calls `batch(base, offsets)` with the positions of `hay` at which a
/// keyword may start (as `may_start` decides), as increasing offsets from
/// `base`, batch after batch in increasing order; `batch` may reorder or
/// overwrite `offsets`. The same contract as the AVX-512 kernel's
/// `candidates`.
///
/// # Safety
///
/// The CPU must support AVX2 and POPCNT ([`available`]).
#[target_feature(enable = "avx2,popcnt")]
pub unsafe fn candidates(maps: &Bitmaps, hay: &[u8], batch: &mut impl FnMut(usize, &mut [u16])) {
    #[cfg(test)]
    RUNS.set(RUNS.get() + 1);
    // Not zeroed, as in the AVX-512 kernel: only what `append` wrote is read.
    let mut list = [MaybeUninit::<u16>::uninit(); BATCH_BLOCKS * 32];
    let mut at = 0;
    while at + BLOCK_READ <= hay.len() {
        let blocks = ((hay.len() - BLOCK_READ - at) / 32 + 1).min(BATCH_BLOCKS);
        debug_assert!(blocks >= 1 && at + 32 * (blocks - 1) + BLOCK_READ <= hay.len());
        let mut n = 0;
        for b in 0..blocks {
            debug_assert!(n <= 32 * b && n + 32 <= list.len());
            // SAFETY: block b reads hay[at + 32 * b..][..BLOCK_READ], in
            // bounds because b < blocks; `append` writes at most 32 entries
            // (in whole groups of 8) from n <= 32 * b, inside `list`.
            unsafe {
                let mask = block(maps, hay.as_ptr().add(at + 32 * b));
                n += append(mask, (32 * b) as u16, list.as_mut_ptr().add(n).cast());
            }
        }
        // SAFETY: `append` wrote (initialised) the first n entries.
        let offsets = unsafe { written(&mut list, n) };
        batch(at, offsets);
        at += 32 * blocks;
    }
    // The tail goes through the same block from a zero-padded copy; the
    // positions without four bytes left are decided by the scalar code,
    // which reads no quad there.
    let rest = &hay[at..];
    debug_assert!(rest.len() < BLOCK_READ);
    let mut pad = [0u8; 32 + BLOCK_READ];
    pad[..rest.len()].copy_from_slice(rest);
    let quads_end = rest.len().saturating_sub(3);
    let mut n = 0;
    let mut base = 0;
    while base < rest.len() {
        // SAFETY: base < rest.len() < BLOCK_READ, so the block's reads end
        // within `pad`; at most two blocks write 64 entries into `list`.
        unsafe {
            let mut mask = block(maps, pad.as_ptr().add(base));
            let mut exact = 0u32;
            for i in 0..32 {
                let p = base + i;
                if p >= quads_end && p < rest.len() {
                    exact |= (may_start_in(maps.short_pairs, maps.quads, rest, p) as u32) << i;
                }
            }
            let live = quads_end.saturating_sub(base).min(32);
            mask = if live == 32 {
                mask
            } else {
                mask & ((1u32 << live) - 1)
            };
            n += append(mask | exact, base as u16, list.as_mut_ptr().add(n).cast());
        }
        base += 32;
    }
    if n > 0 {
        // SAFETY: as above.
        let offsets = unsafe { written(&mut list, n) };
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

/// For each byte value, the positions of its set bits, in increasing order,
/// as the bytes of a `u64` (the rest zero).
static BIT_POSITIONS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut v = 0;
    while v < 256 {
        let (mut word, mut k, mut bit) = (0u64, 0, 0);
        while bit < 8 {
            if v >> bit & 1 == 1 {
                word |= (bit as u64) << (8 * k);
                k += 1;
            }
            bit += 1;
        }
        table[v] = word;
        v += 1;
    }
    table
};

/// Writes `offset + i` for each set bit `i` of `mask`, in increasing order,
/// at `out`, and returns how many it wrote: eight positions at a time from
/// a table, without a branch per position.
///
/// # Safety
///
/// `out..out + 32` must be writable, and the CPU must have the features
/// `candidates` enables.
#[inline]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn append(mask: u32, offset: u16, out: *mut u16) -> usize {
    let mut n = 0;
    for byte in 0..4 {
        let bits = (mask >> (8 * byte)) as u8;
        let base = _mm_set1_epi16((offset + 8 * byte as u16) as i16);
        let positions = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(BIT_POSITIONS[bits as usize] as i64));
        debug_assert!(n <= 8 * byte as usize);
        // SAFETY: n <= 8 * byte, so the eight entries stored end within the
        // 32 the caller lets us write.
        unsafe { _mm_storeu_si128(out.add(n).cast(), _mm_add_epi16(positions, base)) };
        n += bits.count_ones() as usize;
    }
    n
}

/// Bit `i` set when a keyword may start at `p + i`, for the 32 positions
/// from `p`, each read as four bytes.
///
/// # Safety
///
/// `p..p + BLOCK_READ` must be readable, and the CPU must have the
/// features `candidates` enables.
#[inline]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn block(maps: &Bitmaps, p: *const u8) -> u32 {
    // Group 3 needs bytes 12..19 and 28..35: a load at p + 4 holds both in
    // its lanes; the others fit in a load at p.
    // SAFETY: the loads read p..p + 32 and p + 4..p + 36, within the
    // BLOCK_READ bytes the caller guarantees; `starts` reads the bitmaps.
    let keep = unsafe {
        let at0 = _mm256_loadu_si256(p.cast());
        let at4 = _mm256_loadu_si256(p.add(4).cast());
        [
            starts(maps, _mm256_shuffle_epi8(at0, quad_pattern(0))),
            starts(maps, _mm256_shuffle_epi8(at0, quad_pattern(4))),
            starts(maps, _mm256_shuffle_epi8(at0, quad_pattern(8))),
            starts(maps, _mm256_shuffle_epi8(at4, quad_pattern(8))),
        ]
    };
    // Back to position order: dwords of groups (0, 1) and (2, 3) pack to
    // words 0..8 | 16..24 and 8..16 | 24..32, and those to bytes 0..32.
    let words01 = _mm256_packs_epi32(keep[0], keep[1]);
    let words23 = _mm256_packs_epi32(keep[2], keep[3]);
    _mm256_movemask_epi8(_mm256_packs_epi16(words01, words23)) as u32
}

/// The `vpshufb` pattern that gathers, in each 128-bit lane, the four
/// quads starting at bytes `s..s + 4` of the lane into its four dwords.
#[inline]
#[target_feature(enable = "avx2")]
fn quad_pattern(s: i8) -> __m256i {
    let lane = |i: i8| s + i / 4 + i % 4;
    let p: [i8; 16] = std::array::from_fn(|i| lane(i as i8));
    _mm256_setr_epi8(
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13],
        p[14], p[15], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
        p[12], p[13], p[14], p[15],
    )
}

/// All ones in each 32-bit lane whose quad (four bytes, little-endian) may
/// start a keyword, zero elsewhere.
///
/// # Safety
///
/// The CPU must have the features `candidates` enables.
#[inline]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn starts(maps: &Bitmaps, quad: __m256i) -> __m256i {
    let low_bits = _mm256_set1_epi32(31);
    let low_byte = _mm256_set1_epi32(0xff);
    // The quad hash, as `quad_hash`.
    let q = _mm256_srli_epi32::<16>(_mm256_mullo_epi32(
        _mm256_or_si256(quad, _mm256_set1_epi32(0x2020_2020)),
        _mm256_set1_epi32(QUAD_MULTIPLIER as i32),
    ));
    // ASCII lowercase: bytes b with b + 63 in -128..=-103 (as i8) are A..=Z.
    let upper = _mm256_cmpgt_epi8(
        _mm256_set1_epi8(-102),
        _mm256_add_epi8(quad, _mm256_set1_epi8(63)),
    );
    let lower = _mm256_or_si256(quad, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
    // The pair key, as `pair_key`: first byte high.
    let pair = _mm256_or_si256(
        _mm256_slli_epi32::<8>(_mm256_and_si256(lower, low_byte)),
        _mm256_and_si256(_mm256_srli_epi32::<8>(lower), low_byte),
    );
    // SAFETY: both indexes are 16-bit values over 32, below 2048, and each
    // bitmap is 2048 32-bit words.
    let (quad_word, pair_word) = unsafe {
        (
            _mm256_i32gather_epi32::<4>(maps.quads.as_ptr().cast(), _mm256_srli_epi32::<5>(q)),
            _mm256_i32gather_epi32::<4>(
                maps.short_pairs.as_ptr().cast(),
                _mm256_srli_epi32::<5>(pair),
            ),
        )
    };
    let bits = _mm256_or_si256(
        _mm256_srlv_epi32(quad_word, _mm256_and_si256(q, low_bits)),
        _mm256_srlv_epi32(pair_word, _mm256_and_si256(pair, low_bits)),
    );
    let one = _mm256_set1_epi32(1);
    _mm256_cmpeq_epi32(_mm256_and_si256(bits, one), one)
}
