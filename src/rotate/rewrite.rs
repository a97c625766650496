//! Byte-exact replacement of secrets by their scoped keys: everything but the
//! secret's bytes (line endings, encoding, surrounding text) is preserved.

use aho_corasick::{AhoCorasick, MatchKind};

/// Replaces each of a set of secrets by its scoped key.
#[derive(Debug)]
pub struct Replacer {
    finder: AhoCorasick,
    replacements: Vec<Vec<u8>>,
}

impl Replacer {
    /// `pairs` of (secret, replacement). Longer secrets win over secrets they
    /// contain.
    pub fn new(pairs: &[(&[u8], &[u8])]) -> Replacer {
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(pairs.iter().map(|(s, _)| *s))
            .expect("a handful of literal secrets always builds");
        Replacer {
            finder,
            replacements: pairs.iter().map(|(_, r)| r.to_vec()).collect(),
        }
    }

    /// Whether `data` contains any of the secrets.
    pub fn occurs_in(&self, data: &[u8]) -> bool {
        self.finder.is_match(data)
    }

    /// `data` with every secret replaced, and how many replacements per
    /// secret (by index); `None` when no secret occurs.
    pub fn apply(&self, data: &[u8]) -> Option<(Vec<u8>, Vec<usize>)> {
        let mut counts = vec![0; self.replacements.len()];
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut last = 0;
        for m in self.finder.find_iter(data) {
            out.extend_from_slice(&data[last..m.start()]);
            out.extend_from_slice(&self.replacements[m.pattern().as_usize()]);
            counts[m.pattern().as_usize()] += 1;
            last = m.end();
        }
        if last == 0 && counts.iter().all(|&c| c == 0) {
            return None;
        }
        out.extend_from_slice(&data[last..]);
        Some((out, counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_and_keeps_every_other_byte() {
        let r = Replacer::new(&[(b"sk-AAA", b"till_sk_1.x"), (b"gsk_B", b"till_sk_2.y")]);
        let data = b"a=sk-AAA\r\nb = 'sk-AAA' # gsk_B\r\n\xff\xfe end";
        let (out, counts) = r.apply(data).unwrap();
        assert_eq!(
            out,
            b"a=till_sk_1.x\r\nb = 'till_sk_1.x' # till_sk_2.y\r\n\xff\xfe end".to_vec()
        );
        assert_eq!(counts, vec![2, 1]);
        assert!(r.apply(b"nothing here").is_none());
    }

    #[test]
    fn the_longer_secret_wins() {
        let r = Replacer::new(&[(b"abc", b"1"), (b"abcdef", b"2")]);
        assert_eq!(r.apply(b"xabcdefx abc").unwrap().0, b"x2x 1".to_vec());
    }
}
