//! A multi-literal search that scales to hundreds of ASCII case-insensitive
//! keywords: a bucketed filter over hashed byte pairs proposes candidate
//! positions cheaply, and an exact comparison confirms them.
//!
//! Every keyword of two or more bytes goes into one of eight buckets. For each
//! of the first [`OFFSETS`] byte pairs of a keyword (pair `k` is bytes `k` and
//! `k + 1`), the pair is case-folded and hashed to one byte, and table `k`
//! records, per hash value, which buckets hold a keyword with that pair at
//! that offset. A haystack position is a candidate for a bucket when all
//! `OFFSETS` tables accept the pairs found there; offsets past a keyword's
//! last pair accept anything for that keyword's bucket. Keywords are
//! bucketed by how many pairs they have and then alphabetically, so a
//! bucket's keywords share pairs and its tables stay sparse.
//!
//! The filter runs as an AVX-512 (VBMI, VBMI2) kernel when the CPU has it,
//! else as portable scalar code that computes the same bucket masks; a test
//! compares the two. On CPUs with AVX2 but not those, an AVX2 kernel skips
//! the bucket masks (too costly without two-register byte permutes) and
//! computes the bitmap test below for every position instead ([`simd`]
//! chooses, and `TILL_SCAN_SIMD` overrides). The kernels hand their
//! candidates over in batches, written without a branch per candidate. Bitmaps of the keywords' first pairs and
//! first four bytes, small enough for the L1 cache, drop most of them (again
//! without a branch each), and the rest are confirmed, eight bytes at a time,
//! against the keywords that begin with the same (folded) two bytes, so the
//! reported matches are exactly the occurrences an ASCII case-insensitive
//! overlapping Aho-Corasick search reports, in order of their start.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod simd;

pub use simd::{selection, Simd};

/// Byte pairs per keyword that the filter checks.
pub const OFFSETS: usize = 5;

/// Buckets: one bit each in a `u8` mask. Eight let the kernel look a pair
/// up with two permutes and a blend; sixteen would halve the candidates but
/// cost twice that, which measured slower overall.
const BUCKETS: usize = 8;

/// Bytes of padding the kernels may read past a position: pair `OFFSETS - 1`
/// ends at byte `OFFSETS`.
#[cfg(target_arch = "x86_64")]
pub(crate) const LOOKAHEAD: usize = OFFSETS;

/// One case-insensitive keyword set, ready to search.
#[derive(Debug, Clone)]
pub struct Prefilter {
    tables: Box<Tables>,
    /// Keywords, lowercased.
    literals: Vec<Vec<u8>>,
    /// Keywords shorter than four bytes, by their first two (lowercased)
    /// bytes.
    short: HeadIndex,
    /// The other keywords, by the hash of their first four bytes
    /// ([`quad_hash`]): a candidate is compared with the few keywords that
    /// share that hash, not with all that share its first pair.
    long: HeadIndex,
    /// Bitmaps small enough to stay in the L1 cache, so that most false
    /// candidates end after a load or two: the (lowercased) first pairs of
    /// the keywords shorter than four bytes, and hashes of the (folded)
    /// first four bytes of the others.
    short_pairs: Box<[u64; 1024]>,
    quads: Box<[u64; 1024]>,
    simd: Simd,
}

/// A keyword's first (up to) eight bytes, ready to compare with eight bytes
/// of haystack at once: `(hay | fold) & mask == word` where `fold` sets bit
/// 5 at the keyword's letters (so `A` and `a` both become `a`, and nothing
/// else does) and `mask` covers its length.
#[derive(Debug, Clone, Copy)]
struct Head {
    word: u64,
    fold: u64,
    mask: u64,
    id: u32,
}

impl Head {
    fn new(id: u32, literal: &[u8]) -> Head {
        let (mut word, mut fold, mut mask) = (0u64, 0u64, 0u64);
        for (i, &b) in literal.iter().take(8).enumerate() {
            word |= (b as u64) << (8 * i);
            mask |= 0xff << (8 * i);
            if b.is_ascii_lowercase() {
                fold |= 0x20 << (8 * i);
            }
        }
        Head {
            word,
            fold,
            mask,
            id,
        }
    }
}

/// The filter's tables: per offset, per pair hash, the buckets that accept
/// it.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub masks: [[u8; 256]; OFFSETS],
}

/// ASCII case folding as the filter sees it: it also merges some pairs of
/// punctuation and control bytes, which only costs false candidates.
#[inline(always)]
pub(crate) fn fold(b: u8) -> u8 {
    b | 0x20
}

/// The hash of the (already folded) byte pair `a`, `b`.
#[inline(always)]
pub(crate) fn pair_hash(a: u8, b: u8) -> u8 {
    a.rotate_left(3) ^ b
}

impl Prefilter {
    /// Builds the filter; `None` when a keyword is shorter than two bytes
    /// (such a keyword would make its bucket accept every position) or
    /// when there are more than 65,535.
    pub fn new<B: AsRef<[u8]>>(keywords: &[B]) -> Option<Prefilter> {
        let literals: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_ref().to_ascii_lowercase())
            .collect();
        // (The head indexes count keywords in `u16`.)
        if literals.iter().any(|l| l.len() < 2) || literals.len() > usize::from(u16::MAX) {
            return None;
        }
        let tables = build_tables(&literals);
        let short = HeadIndex::new(&literals, |literal| {
            (literal.len() < 4).then(|| short_key(literal))
        });
        let long = HeadIndex::new(&literals, |literal| literal.get(..4).map(long_key));
        let mut short_pairs = Box::new([0u64; 1024]);
        let mut quads = Box::new([0u64; 1024]);
        for literal in &literals {
            let (set, bit) = match literal.get(..4) {
                Some(quad) => (&mut quads, quad_hash(quad)),
                None => (&mut short_pairs, pair_key(literal)),
            };
            set[bit / 64] |= 1 << (bit % 64);
        }
        Some(Prefilter {
            tables,
            literals,
            short,
            long,
            short_pairs,
            quads,
            simd: selection().simd,
        })
    }

    /// Whether a SIMD kernel runs. The portable twin is exact but slower
    /// than an Aho-Corasick automaton, so the matcher uses the automaton
    /// when this is false.
    pub fn accelerated(&self) -> bool {
        self.simd != Simd::Portable
    }

    /// The code path this filter runs.
    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// Forces the portable code path (for tests and comparisons).
    pub fn scalar(mut self) -> Prefilter {
        self.simd = Simd::Portable;
        self
    }

    /// Runs `simd` instead of what detection chose (for tests and
    /// comparisons); `None` when this CPU cannot run it.
    pub fn with_simd(mut self, simd: Simd) -> Option<Prefilter> {
        simd.available().then(|| {
            self.simd = simd;
            self
        })
    }

    /// The keywords, lowercased, indexed by the ids `for_each_match` reports.
    pub fn literals(&self) -> &[Vec<u8>] {
        &self.literals
    }

    /// Calls `found(keyword id, start)` for every occurrence of every keyword
    /// in `hay` (ASCII case-insensitive, overlapping), in order of start.
    pub fn for_each_match(&self, hay: &[u8], mut found: impl FnMut(usize, usize)) {
        match self.simd {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => {
                let mut batch = |base: usize, offsets: &mut [u16]| {
                    // Most candidates fail the bitmaps; dropping them
                    // without a branch each leaves few for the exact test.
                    // SAFETY: the kernel's offsets increase and point into
                    // `hay[base..]`, and `detect` checked the CPU features.
                    let (mut kept, done) = unsafe {
                        avx512::keep_possible_starts(
                            &hay[base..],
                            offsets,
                            &self.short_pairs,
                            &self.quads,
                        )
                    };
                    for i in done..offsets.len() {
                        let offset = offsets[i];
                        offsets[kept] = offset;
                        kept += self.may_start(hay, base + offset as usize) as usize;
                    }
                    for &offset in &offsets[..kept] {
                        self.confirm(hay, base + offset as usize, &mut found);
                    }
                };
                debug_assert!(avx512::available());
                // SAFETY: `detect` chose this path only after checking at
                // run time that the CPU has every feature the kernel uses.
                unsafe { avx512::candidates(&self.tables, hay, &mut batch) }
            }
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => {
                // The kernel's candidates already passed the bitmaps.
                let mut batch = |base: usize, offsets: &mut [u16]| {
                    for &offset in offsets.iter() {
                        self.confirm(hay, base + offset as usize, &mut found);
                    }
                };
                debug_assert!(avx2::available());
                // SAFETY: this path is chosen only after checking at run
                // time that the CPU has AVX2 and POPCNT.
                unsafe { avx2::candidates(&self.bitmaps(), hay, &mut batch) }
            }
            Simd::Portable => {
                for at in 0..hay.len() {
                    if self.mask_at(hay, at) != 0 && self.may_start(hay, at) {
                        self.confirm(hay, at, &mut found);
                    }
                }
            }
        }
    }

    /// Calls `candidate(position)` for every position the kernel proposes,
    /// in increasing order: those whose bucket mask ([`mask_at`]) is not
    /// empty, except on the AVX2 path, whose kernel proposes those where
    /// `may_start` holds ([`may_start_at`]).
    ///
    /// [`mask_at`]: Prefilter::mask_at
    /// [`may_start_at`]: Prefilter::may_start_at
    pub fn for_each_candidate(&self, hay: &[u8], mut candidate: impl FnMut(usize)) {
        match self.simd {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => {
                let mut batch = |base: usize, offsets: &mut [u16]| {
                    for &offset in offsets.iter() {
                        candidate(base + offset as usize);
                    }
                };
                debug_assert!(avx512::available());
                // SAFETY: as in `for_each_match`.
                unsafe { avx512::candidates(&self.tables, hay, &mut batch) }
            }
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => {
                let mut batch = |base: usize, offsets: &mut [u16]| {
                    for &offset in offsets.iter() {
                        candidate(base + offset as usize);
                    }
                };
                debug_assert!(avx2::available());
                // SAFETY: as in `for_each_match`.
                unsafe { avx2::candidates(&self.bitmaps(), hay, &mut batch) }
            }
            Simd::Portable => {
                for at in 0..hay.len() {
                    if self.mask_at(hay, at) != 0 {
                        candidate(at);
                    }
                }
            }
        }
    }

    /// The bucket mask at `at`: the reference every kernel must reproduce.
    /// Bytes past the end of `hay` read as zero.
    #[inline]
    pub fn mask_at(&self, hay: &[u8], at: usize) -> u8 {
        let byte = |i: usize| fold(hay.get(i).copied().unwrap_or(0));
        let mut mask = u8::MAX;
        let mut a = byte(at);
        for (k, table) in self.tables.masks.iter().enumerate() {
            let b = byte(at + k + 1);
            mask &= table[pair_hash(a, b) as usize];
            if mask == 0 {
                break;
            }
            a = b;
        }
        mask
    }

    /// Whether a keyword may start at `at`, by the bitmaps of first pairs
    /// and first quads: false only when none does. The reference of the
    /// AVX2 kernel.
    pub fn may_start_at(&self, hay: &[u8], at: usize) -> bool {
        self.may_start(hay, at)
    }

    #[inline(always)]
    fn may_start(&self, hay: &[u8], at: usize) -> bool {
        may_start_in(&self.short_pairs, &self.quads, hay, at)
    }

    #[cfg(target_arch = "x86_64")]
    fn bitmaps(&self) -> avx2::Bitmaps<'_> {
        avx2::Bitmaps {
            short_pairs: &self.short_pairs,
            quads: &self.quads,
        }
    }

    /// Reports the keywords that really occur at `at`.
    #[inline]
    fn confirm(&self, hay: &[u8], at: usize, found: &mut impl FnMut(usize, usize)) {
        let Some(pair) = hay.get(at..at + 2) else {
            return;
        };
        let eight = match hay.get(at..at + 8) {
            Some(bytes) => u64::from_le_bytes(bytes.try_into().unwrap()),
            None => {
                let mut bytes = [0u8; 8];
                bytes[..hay.len() - at].copy_from_slice(&hay[at..]);
                u64::from_le_bytes(bytes)
            }
        };
        if !self.short.is_empty() {
            self.confirm_heads(self.short.get(short_key(pair)), hay, at, eight, found);
        }
        if let Some(quad) = hay.get(at..at + 4) {
            self.confirm_heads(self.long.get(long_key(quad)), hay, at, eight, found);
        }
    }

    /// Reports those of `heads` that occur at `at`, where `eight` holds the
    /// (up to) eight bytes that start there.
    #[inline(always)]
    fn confirm_heads(
        &self,
        heads: &[Head],
        hay: &[u8],
        at: usize,
        eight: u64,
        found: &mut impl FnMut(usize, usize),
    ) {
        for head in heads {
            if (eight | head.fold) & head.mask != head.word {
                continue;
            }
            let literal = &self.literals[head.id as usize];
            let whole = at + literal.len() <= hay.len()
                && (literal.len() <= 8
                    || hay
                        .get(at + 8..at + literal.len())
                        .is_some_and(|rest| rest.eq_ignore_ascii_case(&literal[8..])));
            if whole {
                found(head.id as usize, at);
            }
        }
    }
}

/// [`Prefilter::may_start`] over the bitmaps alone.
#[inline(always)]
fn may_start_in(short_pairs: &[u64; 1024], quads: &[u64; 1024], hay: &[u8], at: usize) -> bool {
    let bit = |set: &[u64; 1024], i: usize| set[i / 64] >> (i % 64) & 1;
    match hay.get(at..at + 4) {
        Some(quad) => bit(short_pairs, pair_key(quad)) | bit(quads, quad_hash(quad)) != 0,
        None => hay
            .get(at..at + 2)
            .is_some_and(|pair| bit(short_pairs, pair_key(pair)) != 0),
    }
}

/// Bits of the keys of a [`HeadIndex`]: its table of 4,096 `u16` takes
/// 8 KiB, so that the lookup of every candidate stays in the L1 cache, and a
/// thousand keywords still share a key only now and then.
const INDEX_BITS: u32 = 12;

/// The [`HeadIndex`] key of a keyword shorter than four bytes, or of a
/// candidate: its first two bytes, lowercased, hashed.
#[inline(always)]
fn short_key(bytes: &[u8]) -> usize {
    (pair_key(bytes) as u32).wrapping_mul(QUAD_MULTIPLIER) as usize >> (32 - INDEX_BITS)
}

/// The [`HeadIndex`] key of a longer keyword or a candidate: the top bits
/// of [`quad_hash`].
#[inline(always)]
fn long_key(quad: &[u8]) -> usize {
    quad_hash(quad) >> (16 - INDEX_BITS)
}

/// Keywords grouped by a short hash key, for the exact comparison.
#[derive(Debug, Clone)]
struct HeadIndex {
    heads: Vec<Head>,
    /// `heads[start[k]..start[k + 1]]` have key `k`.
    start: Vec<u16>,
}

impl HeadIndex {
    /// Indexes the keywords `key` gives a key (`None`: not in this index).
    fn new(literals: &[Vec<u8>], key: impl Fn(&[u8]) -> Option<usize>) -> HeadIndex {
        let mut keyed: Vec<(usize, u32)> = literals
            .iter()
            .enumerate()
            .filter_map(|(i, literal)| Some((key(literal)?, i as u32)))
            .collect();
        keyed.sort_unstable();
        let keys = 1usize << INDEX_BITS;
        let mut start = vec![0u16; keys + 1];
        for &(k, _) in &keyed {
            start[k + 1] += 1;
        }
        for k in 0..keys {
            start[k + 1] += start[k];
        }
        let heads = keyed
            .iter()
            .map(|&(_, i)| Head::new(i, &literals[i as usize]))
            .collect();
        HeadIndex { heads, start }
    }

    fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    #[inline(always)]
    fn get(&self, key: usize) -> &[Head] {
        &self.heads[self.start[key] as usize..self.start[key + 1] as usize]
    }
}

/// A 16-bit hash of four bytes, folded as [`fold`] does: the top half of
/// their little-endian word, folded, times [`QUAD_MULTIPLIER`].
#[inline(always)]
fn quad_hash(quad: &[u8]) -> usize {
    let v = u32::from_le_bytes([quad[0], quad[1], quad[2], quad[3]]) | 0x2020_2020;
    (v.wrapping_mul(QUAD_MULTIPLIER) >> 16) as usize
}

pub(crate) const QUAD_MULTIPLIER: u32 = 0x9E37_79B1;

/// The first two bytes of `bytes`, lowercased, as a table index.
#[inline(always)]
fn pair_key(bytes: &[u8]) -> usize {
    (bytes[0].to_ascii_lowercase() as usize) << 8 | bytes[1].to_ascii_lowercase() as usize
}

/// How many scans on this thread went through the kernel of `simd`.
#[cfg(test)]
fn kernel_runs(simd: Simd) -> usize {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => avx512::RUNS.get(),
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => avx2::RUNS.get(),
        Simd::Portable => 0,
    }
}

/// A set of pair hashes, or `None` for "any".
type HashSet256 = Option<[u64; 4]>;

/// The pair hashes `literal` needs at each offset.
fn literal_sets(literal: &[u8]) -> [HashSet256; OFFSETS] {
    let mut sets = [None; OFFSETS];
    for (k, set) in sets.iter_mut().enumerate() {
        if k + 1 < literal.len() {
            let h = pair_hash(fold(literal[k]), fold(literal[k + 1]));
            let mut bits = [0u64; 4];
            bits[h as usize / 64] |= 1 << (h % 64);
            *set = Some(bits);
        }
    }
    sets
}

fn union(a: HashSet256, b: HashSet256) -> HashSet256 {
    let (a, b) = (a?, b?);
    Some(std::array::from_fn(|i| a[i] | b[i]))
}

/// The chance that a random position passes a bucket with these sets, were
/// pair hashes uniform: what the bucketing minimises.
fn pass_rate(sets: &[HashSet256; OFFSETS]) -> f64 {
    sets.iter()
        .map(|s| match s {
            None => 1.0,
            Some(bits) => bits.iter().map(|w| w.count_ones()).sum::<u32>() as f64 / 256.0,
        })
        .product()
}

/// Splits the keywords, in bucketing order, into at most [`BUCKETS`] runs:
/// a run ends when adding the next keyword would raise its pass rate above
/// `limit`. Returns the bucket of each keyword in `order`, or `None` when
/// more buckets would be needed.
fn split(order: &[&[HashSet256; OFFSETS]], limit: f64) -> Option<Vec<usize>> {
    let mut bucket = 0;
    let mut sets: Option<[HashSet256; OFFSETS]> = None;
    let mut out = Vec::with_capacity(order.len());
    for lit in order {
        let merged = match &sets {
            None => **lit,
            Some(s) => std::array::from_fn(|k| union(s[k], lit[k])),
        };
        if sets.is_some() && pass_rate(&merged) > limit {
            bucket += 1;
            if bucket == BUCKETS {
                return None;
            }
            sets = Some(**lit);
        } else {
            sets = Some(merged);
        }
        out.push(bucket);
    }
    Some(out)
}

fn build_tables(literals: &[Vec<u8>]) -> Box<Tables> {
    let mut tables = Box::new(Tables {
        masks: [[0u8; 256]; OFFSETS],
    });
    if literals.is_empty() {
        return tables;
    }
    // Short keywords first, so keywords with as many pairs share buckets;
    // then alphabetically, so shared prefixes share pairs.
    let mut order: Vec<usize> = (0..literals.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&literals[a], &literals[b]);
        (a.len().min(OFFSETS + 1), a).cmp(&(b.len().min(OFFSETS + 1), b))
    });
    let sets: Vec<[HashSet256; OFFSETS]> =
        order.iter().map(|&i| literal_sets(&literals[i])).collect();
    let refs: Vec<&[HashSet256; OFFSETS]> = sets.iter().collect();
    // The smallest per-bucket pass-rate limit that fits in the buckets.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut best = split(&refs, hi).expect("a limit of 1 fits everything in one bucket");
    // 24 halvings pin the limit to 1/16,000,000 of a pass rate, finer
    // than any keyword set tells apart; more only cost start-up time.
    for _ in 0..24 {
        let mid = (lo + hi) / 2.0;
        match split(&refs, mid) {
            Some(b) => {
                best = b;
                hi = mid;
            }
            None => lo = mid,
        }
    }
    for (lit_sets, &bucket) in sets.iter().zip(&best) {
        let bit = 1u8 << bucket;
        for (table, set) in tables.masks.iter_mut().zip(lit_sets) {
            for h in 0..256usize {
                if set.is_none_or(|bits| bits[h / 64] & (1 << (h % 64)) != 0) {
                    table[h] |= bit;
                }
            }
        }
    }
    tables
}

#[cfg(test)]
mod tests;
