//! The engine every source shares: one blob in, findings out, with the
//! suppressions applied (inline allow comments, config allowlists, the
//! baseline). Shared state is a few atomics and mutexes touched only when a
//! blob has matches; each worker thread owns a [`Worker`] with its buffers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::archive;
use crate::baseline::Baseline;
use std::ops::Range;

use crate::decode::{self, Encoding};
use crate::finding::{
    fingerprint, join_parts, Finding, LineContext, LineIndex, Location, Part, PartLocation,
    Provenance, Secret, Spans,
};
use crate::matcher::{Match, Matcher, Scratch};
use crate::scan::{Diagnostic, ScanResult, Skipped, Summary};
use crate::suppress::{Allowlist, InlineAllows};

mod pairs;
pub mod text;

pub use text::{decode_as, decode_text, Text, BINARY_SNIFF_LEN};

/// True when the first bytes of `data` contain a NUL. This also calls UTF-16
/// binary: sources that can scan UTF-16 use [`decode_text`] instead.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Encodings looked inside by default: base64 of a URL-encoded key, a
/// Kubernetes `data:` value holding a Docker config with a base64 `auth`.
pub const DEFAULT_DECODE_DEPTH: usize = 2;

/// Matcher plus suppressions, shared by all worker threads of one scan.
pub struct Scanner {
    pub matcher: Matcher,
    pub allowlist: Allowlist,
    pub baseline: Option<Baseline>,
    /// How many encodings deep to look for keys (`--max-decode-depth`).
    decode_depth: usize,
    /// How far to look inside archives (`--max-archive-depth`, the caps).
    archive_limits: archive::Limits,
    archive_tally: archive::Tally,
    tally: Tally,
}

#[derive(Default)]
struct Tally {
    /// Shared with a progress line.
    files: std::sync::Arc<AtomicU64>,
    bytes: std::sync::Arc<AtomicU64>,
    allowed_inline: AtomicU64,
    ignored: AtomicU64,
    allowed_by_config: AtomicU64,
    baselined: AtomicU64,
    /// Every place recorded: a hit (its rule and secret) at a location.
    found: Mutex<Vec<(BlobHit, Location)>>,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<Diagnostic>>,
    baseline_used: Mutex<HashSet<String>>,
}

/// A secret found in one blob, before it is tied to a path and commit.
#[derive(Debug, Clone)]
pub struct BlobHit {
    /// Index of the rule in the matcher.
    pub rule: usize,
    pub fingerprint: String,
    pub secret: Secret,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// How the secret was encoded where it was found (see [`Location::decoded`]).
    pub decoded: Vec<Encoding>,
    /// For a multi-part finding, each part's value and place, in the
    /// rule's part order; the line and columns above span them all.
    pub parts: Vec<(Secret, PartLocation)>,
    /// The member of an archive blob it is in, outermost first (see
    /// [`Provenance::Member`]); empty when the blob is not an archive.
    pub member: Vec<String>,
    /// The text around the secret on its line (see [`LineContext`]).
    pub context: Option<LineContext>,
}

/// A match that no allow comment or allowlist dropped, before pairing and
/// the baseline.
struct Kept {
    rule: usize,
    /// The secret's bytes, or for a decoded match the encoded span.
    range: Range<usize>,
    secret: Secret,
    chain: Vec<Encoding>,
}

/// A secret found inside decoded text, placed at the encoded span of the
/// blob that was scanned.
struct DecodedMatch {
    rule: usize,
    secret: Vec<u8>,
    place: Range<usize>,
    chain: Vec<Encoding>,
}

/// Per-thread state: matcher scratch space and reusable buffers.
#[derive(Default)]
pub struct Worker {
    scratch: Scratch,
    matches: Vec<Match>,
    /// Read buffer for sources that load blobs from disk.
    pub buffer: Vec<u8>,
    /// One buffer per level of nested archives, for their members.
    pub(crate) archive_buffers: Vec<Vec<u8>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another worker panicked mid-push; the data is
    // still a valid Vec, so keep going rather than turn one bug into two.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scanner {
    pub fn new(matcher: Matcher, allowlist: Allowlist, baseline: Option<Baseline>) -> Scanner {
        Scanner {
            matcher,
            allowlist,
            baseline,
            decode_depth: DEFAULT_DECODE_DEPTH,
            archive_limits: archive::Limits::default(),
            archive_tally: archive::Tally::default(),
            tally: Tally::default(),
        }
    }

    /// Looks inside archives within `limits` (depth 0: never).
    pub fn with_archive_limits(mut self, limits: archive::Limits) -> Scanner {
        self.archive_limits = limits;
        self
    }

    pub fn archive_limits(&self) -> &archive::Limits {
        &self.archive_limits
    }

    pub(crate) fn archive_tally(&self) -> &archive::Tally {
        &self.archive_tally
    }

    /// Looks inside encoded text to `depth` levels (0: never).
    pub fn with_decode_depth(mut self, depth: usize) -> Scanner {
        self.decode_depth = depth;
        self
    }

    pub fn skip(&self, path: String, reason: crate::scan::SkipReason) {
        lock(&self.tally.skipped).push(Skipped { path, reason });
    }

    /// Counts a file or directory that ignore files left out of the scan.
    /// The files and bytes scanned so far, live, for a progress line.
    pub fn counters(&self) -> (std::sync::Arc<AtomicU64>, std::sync::Arc<AtomicU64>) {
        (
            std::sync::Arc::clone(&self.tally.files),
            std::sync::Arc::clone(&self.tally.bytes),
        )
    }

    pub fn count_ignored(&self) {
        self.tally.ignored.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, path: String, message: String) {
        lock(&self.tally.errors).push(Diagnostic { path, message });
    }

    /// Scans one blob read at `provenance` and records its secrets.
    pub fn scan_blob(&self, worker: &mut Worker, data: &[u8], provenance: &Provenance) {
        let hits = self.find(worker, data);
        self.record(&hits, provenance);
    }

    /// The secrets in one blob, with inline allow comments, the secret
    /// allowlists and the baseline applied; not yet tied to a path.
    pub fn find(&self, worker: &mut Worker, data: &[u8]) -> Vec<BlobHit> {
        self.tally.files.fetch_add(1, Ordering::Relaxed);
        self.tally
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.find_metadata(worker, data)
    }

    /// Like [`Scanner::find`] for text that is not a file (a commit's
    /// author and message): not counted among the files scanned.
    pub fn find_metadata(&self, worker: &mut Worker, data: &[u8]) -> Vec<BlobHit> {
        worker.matches.clear();
        self.matcher
            .scan(data, &mut worker.scratch, &mut worker.matches);
        let decoded = if self.decode_depth > 0 {
            self.find_decoded(&mut worker.scratch, data)
        } else {
            Vec::new()
        };
        if worker.matches.is_empty() && decoded.is_empty() {
            return Vec::new();
        }
        self.tidy(&mut worker.matches);
        let mut allows = InlineAllows::new(data);
        let mut kept: Vec<Kept> = Vec::new();
        for m in &worker.matches {
            let bytes = &data[m.secret.clone()];
            if !self.suppressed(&mut allows, m.rule, data, &m.span, bytes) {
                kept.push(Kept {
                    rule: m.rule,
                    range: m.secret.clone(),
                    secret: Secret::new(bytes),
                    chain: Vec::new(),
                });
            }
        }
        for d in decoded {
            // The same key in plain text inside the encoded span (a `\/`
            // elsewhere in a JSON string) was found above.
            let plain = worker.matches.iter().any(|m| {
                m.rule == d.rule
                    && m.secret.start >= d.place.start
                    && m.secret.end <= d.place.end
                    && data[m.secret.clone()] == d.secret[..]
            });
            if plain {
                continue;
            }
            if !self.suppressed(&mut allows, d.rule, data, &d.place, &d.secret) {
                kept.push(Kept {
                    rule: d.rule,
                    secret: Secret::new(&d.secret),
                    range: d.place,
                    chain: d.chain,
                });
            }
        }
        // Located in increasing order: the secrets of two rules may overlap,
        // so asking start, end, start, end could step back and make the line
        // index start over from the top.
        let mut offsets: Vec<usize> = kept
            .iter()
            .flat_map(|k| [k.range.start, k.range.end])
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut lines = LineIndex::new(data);
        let places: Vec<(usize, usize)> = offsets.iter().map(|&o| lines.locate(o)).collect();
        let place = |o: usize| places[offsets.partition_point(|&x| x < o)];
        let spans: Vec<PartLocation> = kept
            .iter()
            .map(|k| {
                let (line, column) = place(k.range.start);
                let (end_line, end_column) = place(k.range.end);
                PartLocation {
                    line,
                    column,
                    end_line,
                    end_column,
                }
            })
            .collect();
        // Every matched span, allowed or not: none may show in another
        // secret's line context.
        let masks = Spans::new(
            worker
                .matches
                .iter()
                .map(|m| m.secret.clone())
                .chain(kept.iter().map(|k| k.range.clone()))
                .collect(),
        );
        let context = |i: usize| LineContext::around(data, &kept[i].range, &masks);
        // Multi-part findings, only where some match can be a part.
        let mut in_pair = vec![false; kept.len()];
        let mut hits = Vec::new();
        if kept.iter().any(|k| self.matcher.is_part(k.rule)) {
            for (rule, members) in self.pair(&kept, &spans) {
                for &i in &members {
                    in_pair[i] = true;
                }
                if let Some(mut hit) = self.multi_part_hit(rule, &members, &kept, &spans) {
                    hit.context = members.first().map(|&i| context(i));
                    hits.push(hit);
                }
            }
        }
        let contexts: Vec<Option<LineContext>> = (0..kept.len())
            .map(|i| {
                let single = !in_pair[i] && !self.matcher.rule(kept[i].rule).part_only;
                single.then(|| context(i))
            })
            .collect();
        let singles = kept.into_iter().zip(spans).zip(in_pair).zip(contexts);
        for (((k, at), paired), context) in singles {
            if paired || self.matcher.rule(k.rule).part_only {
                continue;
            }
            let fp = fingerprint(&self.matcher.rule(k.rule).id, k.secret.expose());
            if self.baselined(&fp) || self.secret_baselined(k.secret.expose().as_bytes()) {
                continue;
            }
            hits.push(BlobHit {
                rule: k.rule,
                fingerprint: fp,
                secret: k.secret,
                line: at.line,
                column: at.column,
                end_line: at.end_line,
                end_column: at.end_column,
                decoded: k.chain,
                parts: Vec::new(),
                member: Vec::new(),
                context,
            });
        }
        hits.sort_by_key(|h| (h.line, h.column, h.rule));
        hits
    }

    /// The multi-part findings among `kept`: the rule and, per part, the
    /// index of the match in `kept`.
    fn pair(&self, kept: &[Kept], spans: &[PartLocation]) -> Vec<(usize, Vec<usize>)> {
        let mut chains: Vec<&[Encoding]> = Vec::new();
        let mut index = Vec::new();
        let mut candidates = Vec::new();
        for (i, k) in kept.iter().enumerate() {
            if !self.matcher.is_part(k.rule) {
                continue;
            }
            let group = chains
                .iter()
                .position(|c| *c == &k.chain[..])
                .unwrap_or_else(|| {
                    chains.push(&k.chain);
                    chains.len() - 1
                });
            index.push(i);
            candidates.push(pairs::Candidate {
                rule: k.rule,
                line: spans[i].line,
                start: k.range.start,
                end: k.range.end,
                group,
                exact: k.chain.is_empty(),
            });
        }
        let multi = self.matcher.multi_part();
        pairs::pair(multi, &candidates)
            .into_iter()
            .map(|f| {
                let members = f.parts.iter().map(|&c| index[c]).collect();
                (multi[f.multi].rule, members)
            })
            .collect()
    }

    /// The hit of a multi-part finding of `rule` made of `members` (indexes
    /// into `kept`, in part order), unless the baseline lists it.
    fn multi_part_hit(
        &self,
        rule: usize,
        members: &[usize],
        kept: &[Kept],
        spans: &[PartLocation],
    ) -> Option<BlobHit> {
        let joined = join_parts(members.iter().map(|&i| kept[i].secret.expose()));
        let secret = Secret::new(joined.as_bytes());
        let fp = fingerprint(&self.matcher.rule(rule).id, secret.expose());
        if self.baselined(&fp)
            || self.secret_baselined(secret.expose().as_bytes())
            || self.parts_baselined(members, kept)
        {
            return None;
        }
        let first = members
            .iter()
            .map(|&i| spans[i])
            .min_by_key(|s| (s.line, s.column))?;
        let last = members
            .iter()
            .map(|&i| spans[i])
            .max_by_key(|s| (s.end_line, s.end_column))?;
        Some(BlobHit {
            rule,
            fingerprint: fp,
            secret,
            line: first.line,
            column: first.column,
            end_line: last.end_line,
            end_column: last.end_column,
            decoded: kept[members[0]].chain.clone(),
            parts: members
                .iter()
                .map(|&i| (kept[i].secret.clone(), spans[i]))
                .collect(),
            member: Vec::new(),
            context: None,
        })
    }

    /// A baseline written before a multi-part rule existed lists its parts
    /// one by one: when it lists every part that was reported on its own
    /// (not part-only), the multi-part finding is one it accepted.
    fn parts_baselined(&self, members: &[usize], kept: &[Kept]) -> bool {
        let Some(baseline) = &self.baseline else {
            return false;
        };
        let own: Vec<String> = members
            .iter()
            .map(|&i| &kept[i])
            .filter(|k| !self.matcher.rule(k.rule).part_only)
            .map(|k| fingerprint(&self.matcher.rule(k.rule).id, k.secret.expose()))
            .collect();
        if own.is_empty() || !own.iter().all(|fp| baseline.contains(fp)) {
            return false;
        }
        self.tally.baselined.fetch_add(1, Ordering::Relaxed);
        lock(&self.tally.baseline_used).extend(own);
        true
    }

    /// The fingerprints a hit stands for when comparing a blob with the one
    /// it replaced: its own, and for a multi-part hit each part's under the
    /// part's rule (what the part would be reported as on its own).
    pub fn fingerprints_of(&self, hit: &BlobHit) -> Vec<String> {
        let mut out = vec![hit.fingerprint.clone()];
        let parts = &self.matcher.rule(hit.rule).parts;
        for (part, (secret, _)) in parts.iter().zip(&hit.parts) {
            out.push(fingerprint(&part.rule, secret.expose()));
        }
        out
    }

    /// Whether `hit` is new against `before` (the [`Scanner::fingerprints_of`]
    /// the replaced blobs' hits): a single secret that was there, alone or
    /// as a part, is not; nor is a multi-part hit that was there whole, or
    /// whose every part that reports alone was there (halves moved closer).
    pub fn is_new(&self, hit: &BlobHit, before: &HashSet<String>) -> bool {
        if before.contains(&hit.fingerprint) {
            return false;
        }
        let rule = self.matcher.rule(hit.rule);
        if rule.parts.is_empty() {
            return true;
        }
        let mut alone = rule
            .parts
            .iter()
            .zip(&hit.parts)
            .filter(|(part, _)| {
                self.matcher
                    .rules()
                    .iter()
                    .find(|c| c.rule.id == part.rule)
                    .is_some_and(|c| !c.rule.part_only)
            })
            .map(|(part, (secret, _))| fingerprint(&part.rule, secret.expose()))
            .peekable();
        alone.peek().is_none() || !alone.all(|fp| before.contains(&fp))
    }

    /// The inline allow comments and the secret allowlists: whether they
    /// drop one match (`span`: the text an allow comment must cover).
    fn suppressed(
        &self,
        allows: &mut InlineAllows<'_>,
        rule: usize,
        data: &[u8],
        span: &Range<usize>,
        secret_bytes: &[u8],
    ) -> bool {
        if allows.allows(span) {
            self.tally.allowed_inline.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        if self.allowlist.secret_allowed(secret_bytes) {
            self.tally.allowed_by_config.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        let scoped = self.allowlist.scoped();
        if !scoped.is_empty() {
            let whole = data.get(span.clone()).unwrap_or(secret_bytes);
            let text = crate::suppress::MatchText {
                rule: &self.matcher.rule(rule).id,
                secret: secret_bytes,
                whole,
                data,
                start: span.start,
            };
            if scoped.content_allowed(&text) {
                self.tally.allowed_by_config.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    /// Whether another tool's accepted list (a gitleaks report) has this
    /// secret.
    fn secret_baselined(&self, secret: &[u8]) -> bool {
        match &self.baseline {
            Some(b) if b.foreign().contains_secret(secret) => {
                self.tally.baselined.fetch_add(1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Whether the gitleaks-style place criteria drop one hit: a rule
    /// limited to other paths (not counted: the rule did not apply there),
    /// a path or commit allowlist (counted as allowed by config), or a
    /// place another tool's list accepted (counted as baselined).
    fn place_suppressed(&self, hit: &BlobHit, provenance: &Provenance) -> bool {
        let rule = &self.matcher.rule(hit.rule).id;
        let path = provenance.path();
        let commit = provenance.commit().map(|c| c.id.as_str());
        let scoped = self.allowlist.scoped();
        if !scoped.is_empty() {
            if !scoped.rule_applies(rule, path) {
                return true;
            }
            if scoped.place_allowed(rule, path, commit) {
                self.tally.allowed_by_config.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        if let (Some(b), Some(path)) = (&self.baseline, path) {
            let rel = crate::suppress::scoped::relative(b.root(), path);
            if b.foreign().place_matches(rule, rel, hit.line, commit) {
                self.tally.baselined.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }

    /// Whether the baseline lists `fp` (and then counts it as used).
    fn baselined(&self, fp: &str) -> bool {
        match &self.baseline {
            Some(baseline) if baseline.contains(fp) => {
                self.tally.baselined.fetch_add(1, Ordering::Relaxed);
                lock(&self.tally.baseline_used).insert(fp.to_string());
                true
            }
            _ => false,
        }
    }

    /// Keys inside the encoded spans of `data`, to `decode_depth` levels.
    fn find_decoded(&self, scratch: &mut Scratch, data: &[u8]) -> Vec<DecodedMatch> {
        let mut out = Vec::new();
        self.decode_into(scratch, data, self.decode_depth, None, &mut out);
        out.sort_by(|a, b| {
            (a.place.start, a.place.end, a.rule, &a.secret).cmp(&(
                b.place.start,
                b.place.end,
                b.rule,
                &b.secret,
            ))
        });
        out.dedup_by(|b, a| a.rule == b.rule && a.place == b.place && a.secret == b.secret);
        out
    }

    fn decode_into(
        &self,
        scratch: &mut Scratch,
        data: &[u8],
        depth: usize,
        outer: Option<(&Range<usize>, &[Encoding])>,
        out: &mut Vec<DecodedMatch>,
    ) {
        for d in decode::encoded_spans(data) {
            // Nested spans are placed where the outermost encoded text is.
            let place = outer.map_or_else(|| d.span.clone(), |(p, _)| p.clone());
            let mut chain = outer.map_or_else(Vec::new, |(_, c)| c.to_vec());
            chain.push(d.encoding);
            let mut matches = Vec::new();
            self.matcher.scan(&d.text, scratch, &mut matches);
            self.tidy(&mut matches);
            out.extend(matches.iter().map(|m| DecodedMatch {
                rule: m.rule,
                secret: d.text[m.secret.clone()].to_vec(),
                place: place.clone(),
                chain: chain.clone(),
            }));
            if depth > 1 {
                self.decode_into(scratch, &d.text, depth - 1, Some((&place, &chain)), out);
            }
        }
    }

    /// Records hits found in a blob read at `provenance` (config path
    /// allowlists apply to its path). A hit inside an archive member is
    /// recorded at that member of `provenance`; path allowlists apply to the
    /// archive's path and to the member paths inside it.
    pub fn record(&self, hits: &[BlobHit], provenance: &Provenance) {
        if hits.is_empty() {
            return;
        }
        if provenance
            .path()
            .is_some_and(|path| self.allowlist.path_allowed(path))
        {
            self.tally
                .allowed_by_config
                .fetch_add(hits.len() as u64, Ordering::Relaxed);
            return;
        }
        let mut found = Vec::with_capacity(hits.len());
        for h in hits {
            if h.member.iter().any(|m| self.allowlist.path_allowed(m)) {
                self.tally.allowed_by_config.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if self.place_suppressed(h, provenance) {
                continue;
            }
            let place = if h.member.is_empty() {
                provenance.clone()
            } else {
                Provenance::Member {
                    archive: Box::new(provenance.clone()),
                    members: h.member.clone(),
                }
            };
            let location = Location {
                provenance: place,
                line: h.line,
                column: h.column,
                end_line: h.end_line,
                end_column: h.end_column,
                decoded: h.decoded.clone(),
                parts: h.parts.iter().map(|(_, at)| *at).collect(),
                context: h.context.clone(),
            };
            found.push((h.clone(), location));
        }
        lock(&self.tally.found).extend(found);
    }

    /// One match per rule and secret, in order of position, without the
    /// fallback matches a specific rule shadows.
    fn tidy(&self, matches: &mut Vec<Match>) {
        matches.sort_by_key(|m| (m.secret.start, m.secret.end, m.rule));
        matches.dedup_by(|b, a| a.rule == b.rule && a.secret == b.secret);
        self.drop_shadowed_fallbacks(matches);
    }

    /// Removes matches of fallback rules whose secret overlaps the secret of
    /// a specific rule's match: one key, one finding, under its real name.
    fn drop_shadowed_fallbacks(&self, matches: &mut Vec<Match>) {
        let is_fallback = |m: &Match| self.matcher.rule(m.rule).fallback;
        if !matches.iter().any(is_fallback) {
            return;
        }
        // Specific secrets by start, with the furthest end reached so far:
        // one binary search per fallback match instead of a pass over all
        // specific ones (thousands of each on one long line).
        let mut specific: Vec<std::ops::Range<usize>> = matches
            .iter()
            .filter(|m| !is_fallback(m))
            .map(|m| m.secret.clone())
            .collect();
        specific.sort_unstable_by_key(|s| s.start);
        let reach: Vec<usize> = specific
            .iter()
            .scan(0, |far, s| {
                *far = s.end.max(*far);
                Some(*far)
            })
            .collect();
        matches.retain(|m| {
            // Specific secrets starting before this one ends; one of them
            // overlaps it when the furthest of their ends is past its start.
            let before = specific.partition_point(|s| s.start < m.secret.end);
            !is_fallback(m) || before == 0 || reach[before - 1] <= m.secret.start
        });
    }

    /// Collects everything recorded so far into a sorted result.
    pub fn finish(&self, duration: std::time::Duration) -> ScanResult {
        let t = &self.tally;
        let unused_baseline = match &self.baseline {
            Some(b) => {
                let used = lock(&t.baseline_used);
                b.fingerprints()
                    .filter(|f| !used.contains(*f))
                    .map(String::from)
                    .collect()
            }
            None => Vec::new(),
        };
        // One finding per fingerprint (rule + secret), however many places.
        let mut findings: Vec<Finding> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (hit, location) in std::mem::take(&mut *lock(&t.found)) {
            let i = *index.entry(hit.fingerprint.clone()).or_insert_with(|| {
                let rule = self.matcher.rule(hit.rule).clone();
                let parts = rule
                    .parts
                    .iter()
                    .zip(&hit.parts)
                    .map(|(p, (secret, _))| Part {
                        name: p.name.clone(),
                        rule_id: p.rule.clone(),
                        secret: secret.clone(),
                    })
                    .collect();
                findings.push(Finding {
                    rule,
                    secret: hit.secret,
                    fingerprint: hit.fingerprint,
                    locations: Vec::new(),
                    parts,
                    validation: None,
                });
                findings.len() - 1
            });
            findings[i].locations.push(location);
        }
        let mut result = ScanResult {
            findings,
            summary: Summary {
                files_scanned: t.files.load(Ordering::Relaxed),
                bytes_scanned: t.bytes.load(Ordering::Relaxed),
                skipped: std::mem::take(&mut *lock(&t.skipped)),
                errors: std::mem::take(&mut *lock(&t.errors)),
                allowed_inline: t.allowed_inline.load(Ordering::Relaxed),
                allowed_by_config: t.allowed_by_config.load(Ordering::Relaxed),
                baselined: t.baselined.load(Ordering::Relaxed),
                ignored: t.ignored.load(Ordering::Relaxed),
                archives_scanned: self.archive_tally.archives.load(Ordering::Relaxed),
                archive_members_scanned: self.archive_tally.members.load(Ordering::Relaxed),
                unused_baseline,
                duration,
            },
        };
        result.sort();
        result
    }
}

/// Proves a multi-part rule's examples: each must produce its finding (all
/// parts, within the window) and no negative example may. Its parts' rules
/// are taken from `all`.
pub fn check_multi_part_examples(
    rule: &crate::rules::Rule,
    all: &crate::rules::RuleSet,
) -> Result<(), Vec<String>> {
    let mut set = crate::rules::RuleSet::default();
    for part in &rule.parts {
        match all.get(&part.rule) {
            Some(r) if !r.is_multi_part() => set.rules.push(r.clone()),
            _ => {
                return Err(vec![format!(
                    "part `{}` names rule `{}`, which is not a loaded rule with a pattern",
                    part.name, part.rule
                )])
            }
        }
    }
    set.rules.push(rule.clone());
    let matcher = Matcher::new(&set).map_err(|e| vec![e.to_string()])?;
    let errors = matcher.compile_all();
    if !errors.is_empty() {
        return Err(errors);
    }
    let index = set.rules.len() - 1;
    let scanner = Scanner::new(matcher, Allowlist::default(), None);
    let mut worker = Worker::default();
    let mut failures = Vec::new();
    for example in &rule.examples {
        let hits = scanner.find_metadata(&mut worker, example.as_bytes());
        if !hits.iter().any(|h| h.rule == index) {
            failures.push(format!(
                "example not found (all parts, paired): {example:?}"
            ));
        }
    }
    for negative in &rule.negative_examples {
        let hits = scanner.find_metadata(&mut worker, negative.as_bytes());
        if let Some(h) = hits.iter().find(|h| h.rule == index) {
            let parts: Vec<&str> = h.parts.iter().map(|(s, _)| s.expose()).collect();
            failures.push(format!(
                "negative example matched ({parts:?}): {negative:?}"
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

#[cfg(test)]
mod tests;
