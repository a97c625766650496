//! Multi-part findings: the matches of one blob that are parts of a
//! multi-part rule (an AWS key id and its secret key) are combined when
//! they sit within the rule's line window.
//!
//! Each multi-part rule, in rule order, anchors on its first part: every
//! match of the first part's rule is an anchor, and each other part goes to
//! the anchor nearest to it (fewest lines apart, then fewest bytes), nearest
//! pairs first, so two pairs written one after the other pair up as
//! written, whichever comes first in each. A match is a part of at most one
//! finding. Parts combine only when they were found the same way: all in
//! plain text, or all decoded through the same encodings (`group`).
//!
//! The work is bounded: an anchor considers only the [`NEAREST`] matches of
//! each part rule on either side of it, so a blob of thousands of key ids
//! on one line costs a few comparisons per key id.

use std::collections::HashSet;

use crate::matcher::MultiPart;

/// Matches of a part's rule looked at on each side of an anchor.
const NEAREST: usize = 8;

/// One match that may be a part, as pairing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub rule: usize,
    /// 1-based line of the match's start.
    pub line: usize,
    /// Byte range of the secret (for decoded matches: of the encoded text).
    pub start: usize,
    pub end: usize,
    /// Matches combine only within one group (how they were decoded).
    pub group: usize,
    /// `start..end` is the match's own text (plain text), not the encoded
    /// span it was decoded from (which the other parts found there share).
    pub exact: bool,
}

/// One multi-part finding: the index of the rule in `multi` and, for each
/// part in the rule's order, the index of its candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formed {
    pub multi: usize,
    pub parts: Vec<usize>,
}

/// The multi-part findings among `candidates` (any order).
pub fn pair(multi: &[MultiPart], candidates: &[Candidate]) -> Vec<Formed> {
    let mut used = vec![false; candidates.len()];
    let mut formed = Vec::new();
    // Candidates in order of position, per rule (built lazily).
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| (candidates[i].group, candidates[i].start, candidates[i].end));
    for (mi, m) in multi.iter().enumerate() {
        let of_rule = |rule: usize, used: &[bool]| -> Vec<usize> {
            order
                .iter()
                .copied()
                .filter(|&i| candidates[i].rule == rule && !used[i])
                .collect()
        };
        let anchors = of_rule(m.parts[0], &used);
        if anchors.is_empty() {
            continue;
        }
        // Per anchor: the candidate chosen for each part so far.
        let mut chosen: Vec<Option<Vec<usize>>> = anchors.iter().map(|&a| Some(vec![a])).collect();
        let mut taken: HashSet<usize> = anchors.iter().copied().collect();
        for &part_rule in &m.parts[1..] {
            let pool = of_rule(part_rule, &used);
            // (lines apart, bytes apart, anchor slot, candidate)
            let mut edges: Vec<(usize, usize, usize, usize)> = Vec::new();
            for (slot, picked) in chosen.iter().enumerate() {
                let Some(picked) = picked else { continue };
                let a = &candidates[picked[0]];
                let at = pool.partition_point(|&i| {
                    let c = &candidates[i];
                    (c.group, c.start) < (a.group, a.start)
                });
                let left = pool[..at].iter().rev().take(NEAREST);
                let right = pool[at..].iter().take(NEAREST);
                for &c in left.chain(right) {
                    let cand = &candidates[c];
                    if cand.group != a.group || taken.contains(&c) {
                        continue;
                    }
                    let lines = cand.line.abs_diff(a.line);
                    if lines > m.within_lines {
                        continue;
                    }
                    // Two rules may capture the same text: a part is
                    // another place than the parts chosen so far.
                    let overlaps = cand.exact
                        && picked.iter().any(|&p| {
                            let p = &candidates[p];
                            p.start < cand.end && cand.start < p.end
                        });
                    if overlaps {
                        continue;
                    }
                    let bytes = if cand.start >= a.end {
                        cand.start - a.end
                    } else {
                        a.start.saturating_sub(cand.end)
                    };
                    edges.push((lines, bytes, slot, c));
                }
            }
            edges.sort_unstable();
            let mut got = vec![false; chosen.len()];
            for (_, _, slot, c) in edges {
                if got[slot] || taken.contains(&c) {
                    continue;
                }
                got[slot] = true;
                taken.insert(c);
                if let Some(picked) = &mut chosen[slot] {
                    picked.push(c);
                }
            }
            for (slot, ok) in got.into_iter().enumerate() {
                if !ok {
                    chosen[slot] = None;
                }
            }
        }
        for picked in chosen.into_iter().flatten() {
            for &p in &picked {
                used[p] = true;
            }
            formed.push(Formed {
                multi: mi,
                parts: picked,
            });
        }
    }
    formed
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: usize = 0;
    const SECRET: usize = 1;
    const TENANT: usize = 2;

    fn two(within: usize) -> Vec<MultiPart> {
        vec![MultiPart {
            rule: 9,
            parts: vec![ID, SECRET],
            within_lines: within,
        }]
    }

    /// A candidate of `rule` on `line`, 100 bytes a line, `col` into it.
    fn c(rule: usize, line: usize, col: usize) -> Candidate {
        let start = (line - 1) * 100 + col;
        Candidate {
            rule,
            line,
            start,
            end: start + 20,
            group: 0,
            exact: true,
        }
    }

    fn parts(formed: &[Formed]) -> Vec<Vec<usize>> {
        formed.iter().map(|f| f.parts.clone()).collect()
    }

    #[test]
    fn parts_within_the_window_pair_and_one_line_further_do_not() {
        let cands = [c(ID, 1, 0), c(SECRET, 6, 0)];
        assert_eq!(parts(&pair(&two(5), &cands)), [vec![0, 1]]);
        assert!(pair(&two(4), &cands).is_empty());
        let same_line = [c(ID, 3, 0), c(SECRET, 3, 40)];
        assert_eq!(parts(&pair(&two(0), &same_line)), [vec![0, 1]]);
    }

    #[test]
    fn a_lone_half_forms_nothing() {
        assert!(pair(&two(5), &[c(ID, 1, 0)]).is_empty());
        assert!(pair(&two(5), &[c(SECRET, 1, 0), c(SECRET, 2, 0)]).is_empty());
    }

    #[test]
    fn the_nearest_companion_wins_and_each_is_used_once() {
        // id, then two secrets: the nearer one pairs, the other stays alone.
        let cands = [c(ID, 3, 0), c(SECRET, 1, 0), c(SECRET, 4, 0)];
        assert_eq!(parts(&pair(&two(5), &cands)), [vec![0, 2]]);
        // Two ids, one secret: one pair.
        let cands = [c(ID, 1, 0), c(ID, 2, 0), c(SECRET, 3, 0)];
        assert_eq!(parts(&pair(&two(5), &cands)), [vec![1, 2]]);
    }

    #[test]
    fn two_pairs_in_one_file_pair_as_written_in_either_order() {
        // id1 secret1 id2 secret2
        let cands = [c(ID, 1, 0), c(SECRET, 2, 0), c(ID, 3, 0), c(SECRET, 4, 0)];
        let mut got = parts(&pair(&two(5), &cands));
        got.sort();
        assert_eq!(got, [vec![0, 1], vec![2, 3]]);
        // secret1 id1 secret2 id2, given in any order.
        let cands = [c(ID, 4, 0), c(SECRET, 1, 0), c(SECRET, 3, 0), c(ID, 2, 0)];
        let mut got = parts(&pair(&two(5), &cands));
        got.sort();
        assert_eq!(got, [vec![0, 2], vec![3, 1]]);
        // Both on one line (a CSV row each), the same line wins over bytes.
        let cands = [c(ID, 2, 0), c(SECRET, 2, 30), c(ID, 3, 0), c(SECRET, 3, 30)];
        let mut got = parts(&pair(&two(5), &cands));
        got.sort();
        assert_eq!(got, [vec![0, 1], vec![2, 3]]);
    }

    #[test]
    fn three_parts_need_all_three() {
        let multi = vec![MultiPart {
            rule: 9,
            parts: vec![TENANT, ID, SECRET],
            within_lines: 3,
        }];
        let cands = [c(TENANT, 1, 0), c(ID, 2, 0), c(SECRET, 3, 0)];
        assert_eq!(parts(&pair(&multi, &cands)), [vec![0, 1, 2]]);
        assert!(pair(&multi, &cands[..2]).is_empty());
        let far = [c(TENANT, 1, 0), c(ID, 2, 0), c(SECRET, 9, 0)];
        assert!(pair(&multi, &far).is_empty());
    }

    #[test]
    fn parts_pair_only_within_one_group_and_not_on_the_same_text() {
        let mut secret = c(SECRET, 1, 40);
        secret.group = 1;
        assert!(pair(&two(5), &[c(ID, 1, 0), secret]).is_empty());
        let overlapping = [c(ID, 1, 0), c(SECRET, 1, 0)];
        assert!(pair(&two(5), &overlapping).is_empty());
        // Decoded parts all sit at the encoded span they came from.
        let decoded = overlapping.map(|c| Candidate { exact: false, ..c });
        assert_eq!(parts(&pair(&two(5), &decoded)), [vec![0, 1]]);
    }

    #[test]
    fn thousands_of_anchors_cost_a_bounded_number_of_edges() {
        let cands: Vec<Candidate> = (0..20_000)
            .map(|i| Candidate {
                rule: i % 2,
                line: 1,
                start: i * 30,
                end: i * 30 + 20,
                group: 0,
                exact: true,
            })
            .collect();
        let formed = pair(&two(5), &cands);
        assert_eq!(formed.len(), 10_000);
    }
}
