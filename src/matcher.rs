//! RuleSet -> Matcher: one keyword pass over every rule's keywords picks the
//! candidate rules of a blob and where their keywords occur; only those
//! rules' regexes run, and only in windows around the hits (or over the whole
//! blob for rules that ask for it). Captured secrets then go through the
//! placeholder, stopword, allow, entropy and checksum filters.
//!
//! The keyword pass is the [`Prefilter`] (a SIMD filter over hashed byte
//! pairs plus exact confirmation), which scales to hundreds of keywords;
//! an Aho-Corasick automaton, which reports the same occurrences, takes over
//! only when some keyword is a single byte.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::Regex;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{meta, Anchored, Input};

use crate::filter;
use crate::prefilter::Prefilter;
use crate::rules::{Rule, RuleSet};
#[cfg(test)]
pub(crate) use shape::word_start_keyword;
use shape::{has_run, is_word_byte, leading_bytes, word_start_of, ByteSet};

/// A rule compiled for matching.
#[derive(Debug)]
pub struct CompiledRule {
    /// Shared with the findings it produces, which reference it.
    pub rule: Arc<Rule>,
    /// The pattern parsed, on first use: read for `word_start`, then
    /// compiled into `regex`.
    hir: OnceLock<Result<regex_syntax::hir::Hir, String>>,
    /// Compiled on first use; `Err` holds the compile error (e.g. size limit).
    regex: OnceLock<Result<meta::Regex, String>>,
    /// Compiled on first use, like `regex`.
    allow: OnceLock<Result<Vec<Regex>, String>>,
    stopwords: Vec<Vec<u8>>,
    /// The keyword (lower-case) every match begins with, right after a
    /// word boundary (`\blob…`), when there is one: its hits inside a word
    /// (`global`, `blob`) cannot start a match and open no window. Read from
    /// the pattern on first use.
    word_start: OnceLock<Option<Vec<u8>>>,
    /// Every match begins with one of the rule's keywords: its hits are
    /// searched anchored, one by one, instead of in windows around them.
    /// Read from the pattern on first use.
    keyword_led: OnceLock<bool>,
    /// A run of bytes every match contains ([`shape::required_run`]): a
    /// window without one is not searched. Read from the pattern on first
    /// use.
    required_run: OnceLock<Option<(ByteSet, usize)>>,
}

impl CompiledRule {
    fn hir(&self) -> Result<&regex_syntax::hir::Hir, &str> {
        self.hir
            .get_or_init(|| crate::rules::parse_pattern(&self.rule.pattern))
            .as_ref()
            .map_err(String::as_str)
    }

    fn regex(&self) -> Result<&meta::Regex, &str> {
        self.regex
            .get_or_init(|| {
                self.hir()
                    .map_err(str::to_string)
                    .and_then(crate::rules::compile_hir)
                    .map_err(|e| format!("invalid pattern: {e}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    fn keyword_led(&self) -> bool {
        *self.keyword_led.get_or_init(|| {
            self.rule.window > 0
                && self
                    .hir()
                    .is_ok_and(|hir| shape::keyword_led(hir, &self.rule.keywords))
        })
    }

    fn required_run(&self) -> Option<&(ByteSet, usize)> {
        self.required_run
            .get_or_init(|| shape::required_run(self.hir().ok()?))
            .as_ref()
    }

    fn word_start(&self) -> Option<&[u8]> {
        self.word_start
            .get_or_init(|| word_start_of(self.hir().ok()?, &self.rule.keywords))
            .as_deref()
    }

    fn allow(&self) -> Result<&[Regex], &str> {
        self.allow
            .get_or_init(|| {
                self.rule
                    .allow
                    .iter()
                    .map(|a| Regex::new(a).map_err(|e| format!("invalid allow pattern: {e}")))
                    .collect()
            })
            .as_deref()
            .map_err(String::as_str)
    }
}

/// One `after_keyword` regex of a rule (the rule's only one, or the one for
/// some of its keywords), compiled on first use.
#[derive(Debug)]
struct AfterSlot {
    rule: u32,
    pattern: String,
    compiled: OnceLock<Result<AfterCheck, String>>,
}

impl AfterSlot {
    fn check(&self) -> Result<&AfterCheck, &str> {
        self.compiled
            .get_or_init(|| AfterCheck::new(&self.pattern))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// No `after_keyword` check for a (keyword, rule) pair.
const NO_CHECK: u32 = u32::MAX;

/// A compiled `after_keyword` regex: anchored, with the most bytes a match
/// can span (`None`: unbounded).
#[derive(Debug)]
struct AfterCheck {
    regex: meta::Regex,
    /// The longest text a match can span: with bounded repetitions, the
    /// check reads no further than this, whatever the window.
    most: Option<usize>,
    /// The bytes every match begins with, one set per byte: most
    /// `after_keyword`s open with a class repeated a fixed number of times
    /// (`[A-Za-z0-9]{32}_`), and most keyword hits in ordinary text fail
    /// within a byte or two of it. Checked before the regex, which costs far
    /// more per call; empty when the pattern opens otherwise.
    lead: Vec<ByteSet>,
}

/// The most leading bytes of an `after_keyword` checked before its regex.
const AFTER_KEYWORD_LEAD: usize = 64;

impl AfterCheck {
    fn new(pattern: &str) -> Result<AfterCheck, String> {
        let invalid = |e: &dyn std::fmt::Display| format!("invalid after_keyword pattern: {e}");
        let regex =
            crate::rules::compile_test(&format!(r"\A(?:{pattern})")).map_err(|e| invalid(&e))?;
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(|e| invalid(&e))?;
        Ok(AfterCheck {
            regex,
            most: hir.properties().maximum_len(),
            lead: leading_bytes(&hir, AFTER_KEYWORD_LEAD),
        })
    }

    /// Whether the check matches at the start of `text`.
    fn matches(&self, cache: &mut meta::Cache, text: &[u8]) -> bool {
        let may_begin = text.len() >= self.lead.len()
            && self.lead.iter().zip(text).all(|(set, &b)| set.contains(b));
        if !may_begin {
            return false;
        }
        let input = Input::new(text).anchored(Anchored::Yes).earliest(true);
        self.regex.search_half_with(cache, &input).is_some()
    }
}

/// One accepted match in a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in [`Matcher::rules`].
    pub rule: usize,
    /// Byte range of the captured secret.
    pub secret: Range<usize>,
    /// Byte range of the whole regex match.
    pub span: Range<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("cannot build the keyword automaton: {0}")]
    Keywords(String),
}

/// All rules, compiled, plus the keyword automaton that selects them.
#[derive(Debug)]
pub struct Matcher {
    rules: Vec<CompiledRule>,
    keywords: Keywords,
    /// For each keyword pattern id, the rules it triggers, each with the
    /// index in `after_checks` of what must follow the keyword for that
    /// rule ([`NO_CHECK`]: nothing).
    keyword_rules: Vec<Vec<(u32, u32)>>,
    after_checks: Vec<AfterSlot>,
    /// The multi-part rules whose parts are all loaded.
    multi_part: Vec<MultiPart>,
    /// Per rule: it provides a part of some rule in `multi_part`.
    is_part: Vec<bool>,
}

/// A multi-part rule resolved against the matcher's rules.
#[derive(Debug, Clone)]
pub struct MultiPart {
    /// Index of the multi-part rule.
    pub rule: usize,
    /// Index of the rule providing each part, in the rule's part order.
    pub parts: Vec<usize>,
    pub within_lines: usize,
}

/// The keyword search: both report every occurrence of every keyword,
/// ASCII case-insensitively, with the same pattern ids.
#[derive(Debug)]
enum Keywords {
    Prefilter(Prefilter),
    Automaton(AhoCorasick),
}

/// Per-thread buffers reused across blobs, so scanning allocates nothing in
/// the common case of a blob without keyword hits.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per rule: merged windows around keyword hits.
    windows: Vec<Vec<Window>>,
    /// Rules that got at least one hit in the current blob.
    touched: Vec<u32>,
    /// This thread's search caches, per rule for its pattern and per
    /// `after_keyword` check, made on first use. Owning them avoids the shared
    /// cache pool a `regex::Regex` takes a lock on for every search.
    pattern_caches: Vec<Option<meta::Cache>>,
    after_caches: Vec<Option<meta::Cache>>,
    /// Capture slots: the whole match and the secret.
    slots: [Option<NonMaxUsize>; 4],
    /// Bytes handed to the regex engines so far (haystack lengths), so tests
    /// and benchmarks can check that the work per input byte stays flat.
    work: u64,
}

impl Scratch {
    /// Haystack bytes handed to the regex engines since this scratch was
    /// made: `after_keyword` checks plus pattern searches. An upper bound on
    /// what the engines read; for tests and benchmarks of the matcher's cost.
    pub fn regex_bytes(&self) -> u64 {
        self.work
    }
}

/// Where one rule searches a blob: a window around one keyword hit, or
/// around several merged.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: usize,
    end: usize,
    /// Keyword hits merged into the window.
    hits: u32,
}

/// The cache of `regex` in `caches[index]`, made on first use.
fn cache_for<'c>(
    caches: &'c mut [Option<meta::Cache>],
    index: usize,
    regex: &meta::Regex,
) -> &'c mut meta::Cache {
    caches[index].get_or_insert_with(|| regex.create_cache())
}

/// Bytes searched past a window's end, so a match ending near the edge is
/// not cut short by the end of the haystack.
const END_MARGIN: usize = 64;

/// Bytes after a keyword hit that a `window = 0` rule's `after_keyword` may
/// read. Other rules' `after_keyword` reads at most `window` bytes: without
/// a bound, an anchored regex with an unbounded repetition reads to the end
/// of the line from every hit, and a long line with many hits costs the
/// square of its length.
pub const AFTER_KEYWORD_LIMIT: usize = 1024;

/// Windows of one rule merge while the merged window stays within this many
/// times the rule's own span (`lead + window`); a hit past that opens a new,
/// overlapping window. Unbounded merging would turn a long line with a hit
/// every few bytes into one window whose every search reads to the end of
/// the line; capped, a search never reads more than a few spans, and the
/// overlap re-searches at most 1/MERGE_SPANS of the bytes.
const MERGE_SPANS: usize = 4;

/// How much data a matcher is built for: a few staged files want a cheap
/// build, a tree or a history wants the fastest scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Small,
    Large,
}

impl Matcher {
    pub fn new(set: &RuleSet) -> Result<Matcher, MatcherError> {
        Self::for_workload(set, Workload::Large)
    }

    pub fn for_workload(set: &RuleSet, workload: Workload) -> Result<Matcher, MatcherError> {
        Self::from_rules(set.clone(), workload)
    }

    /// [`Matcher::for_workload`] that takes the rules over instead of
    /// copying them (a command's setup, where start-up time counts).
    pub fn from_rules(set: RuleSet, workload: Workload) -> Result<Matcher, MatcherError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_ids: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        let mut keyword_rules: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut after_checks: Vec<AfterSlot> = Vec::new();
        for (index, rule) in set.rules.iter().enumerate() {
            let first_check = after_checks.len();
            for keyword in &rule.keywords {
                let lower = keyword.to_ascii_lowercase();
                let pid = *keyword_ids.entry(lower.clone()).or_insert_with(|| {
                    keywords.push(lower.clone());
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if keyword_rules[pid].iter().any(|&(r, _)| r == index as u32) {
                    continue;
                }
                // One slot per distinct regex of the rule.
                let check = match rule.after_keyword.for_keyword(&lower) {
                    None => NO_CHECK,
                    Some(pattern) => match after_checks[first_check..]
                        .iter()
                        .position(|slot| slot.pattern == pattern)
                    {
                        Some(at) => (first_check + at) as u32,
                        None => {
                            after_checks.push(AfterSlot {
                                rule: index as u32,
                                pattern: pattern.to_string(),
                                compiled: OnceLock::new(),
                            });
                            (after_checks.len() - 1) as u32
                        }
                    },
                };
                keyword_rules[pid].push((index as u32, check));
            }
        }
        let index_of: std::collections::HashMap<&str, usize> = set
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut is_part = vec![false; set.rules.len()];
        let multi_part: Vec<MultiPart> = set
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_multi_part())
            .filter_map(|(i, r)| {
                // A part whose rule is not loaded (or is itself multi-part)
                // leaves the rule inert; `RuleSet::check_parts` reports it.
                let parts: Option<Vec<usize>> = r
                    .parts
                    .iter()
                    .map(|p| index_of.get(p.rule.as_str()).copied())
                    .map(|i| i.filter(|&i| !set.rules[i].is_multi_part()))
                    .collect();
                Some(MultiPart {
                    rule: i,
                    parts: parts?,
                    within_lines: r.within_lines,
                })
            })
            .collect();
        for m in &multi_part {
            for &p in &m.parts {
                is_part[p] = true;
            }
        }
        let rules = set
            .rules
            .into_iter()
            .map(|rule| CompiledRule {
                stopwords: rule
                    .stopwords
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
                rule: Arc::new(rule),
                hir: OnceLock::new(),
                regex: OnceLock::new(),
                allow: OnceLock::new(),
                word_start: OnceLock::new(),
                keyword_led: OnceLock::new(),
                required_run: OnceLock::new(),
            })
            .collect();
        let keywords = match Prefilter::new(&keywords) {
            Some(prefilter) if prefilter.accelerated() => Keywords::Prefilter(prefilter),
            _ => Keywords::Automaton(automaton(&keywords, workload)?),
        };
        Ok(Matcher {
            rules,
            keywords,
            keyword_rules,
            after_checks,
            multi_part,
            is_part,
        })
    }

    /// The keyword search this matcher runs, for `-v`: `avx512`, `avx2`,
    /// or `portable (aho-corasick)`.
    pub fn prefilter_kind(&self) -> &'static str {
        match &self.keywords {
            Keywords::Prefilter(prefilter) => prefilter.simd().name(),
            Keywords::Automaton(_) => "portable (aho-corasick)",
        }
    }

    /// Compiles every rule now (instead of on first use) and returns the
    /// errors, `rule id: message`.
    pub fn compile_all(&self) -> Vec<String> {
        self.compile_where(|_| true)
    }

    /// Compiles the rules `which` selects now; returns their errors.
    pub fn compile_where(&self, which: impl Fn(&Rule) -> bool + Sync) -> Vec<String> {
        use rayon::prelude::*;
        let selected = |c: &CompiledRule| !c.rule.is_multi_part() && which(&c.rule);
        let mut errors: Vec<String> = self
            .rules
            .par_iter()
            .filter(|c| selected(c))
            .filter_map(|c| {
                c.regex()
                    .err()
                    .or_else(|| c.allow().err())
                    .map(|e| format!("{} ({}): {e}", c.rule.id, c.rule.origin))
            })
            .collect();
        errors.extend(self.after_checks.iter().filter_map(|slot| {
            // Only the selected rules' checks are compiled.
            let c = &self.rules[slot.rule as usize];
            let e = selected(c).then(|| slot.check().err()).flatten()?;
            Some(format!("{} ({}): {e}", c.rule.id, c.rule.origin))
        }));
        errors
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &Arc<Rule> {
        &self.rules[index].rule
    }

    /// The multi-part rules that can fire (all their parts are loaded).
    pub fn multi_part(&self) -> &[MultiPart] {
        &self.multi_part
    }

    /// Whether matches of rule `index` can be a part of a multi-part finding.
    pub fn is_part(&self, index: usize) -> bool {
        self.is_part[index]
    }

    /// Finds every accepted match in `data`, appending to `out` in no
    /// particular order.
    pub fn scan(&self, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        if scratch.windows.len() < self.rules.len() {
            scratch.windows.resize_with(self.rules.len(), Vec::new);
            scratch
                .pattern_caches
                .resize_with(self.rules.len(), || None);
        }
        if scratch.after_caches.len() < self.after_checks.len() {
            scratch
                .after_caches
                .resize_with(self.after_checks.len(), || None);
        }
        match &self.keywords {
            Keywords::Prefilter(prefilter) => {
                let literals = prefilter.literals();
                prefilter.for_each_match(data, |id, start| {
                    let end = start + literals[id].len();
                    self.add_window(scratch, data, id, start, end);
                });
            }
            Keywords::Automaton(automaton) => {
                for hit in automaton.find_overlapping_iter(data) {
                    let id = hit.pattern().as_usize();
                    self.add_window(scratch, data, id, hit.start(), hit.end());
                }
            }
        }
        for i in 0..scratch.touched.len() {
            let rule_index = scratch.touched[i] as usize;
            let mut windows = std::mem::take(&mut scratch.windows[rule_index]);
            self.scan_windows(rule_index, data, &windows, scratch, out);
            windows.clear();
            scratch.windows[rule_index] = windows;
        }
        scratch.touched.clear();
    }

    /// Records that keyword `keyword` occurs at `start..end`: its rules will
    /// search a window around it, unless the rule's `after_keyword` does not
    /// match right after the hit.
    #[inline]
    fn add_window(
        &self,
        scratch: &mut Scratch,
        data: &[u8],
        keyword: usize,
        start: usize,
        end: usize,
    ) {
        let len = data.len();
        for &(rule_index, check) in &self.keyword_rules[keyword] {
            let compiled = &self.rules[rule_index as usize];
            let (window, lead) = (compiled.rule.window, compiled.rule.lead);
            // A hit inside a word cannot begin a match that starts with
            // `\b` and this keyword.
            if start > 0 && is_word_byte(data[start - 1]) {
                if let Some(keyword) = compiled.word_start() {
                    if data[start..end].eq_ignore_ascii_case(keyword) {
                        continue;
                    }
                }
            }
            // A rule whose `after_keyword` does not compile is not filtered;
            // `rules check` and the loader report it.
            if let Some(Ok(after)) = self.after_checks.get(check as usize).map(AfterSlot::check) {
                // A match lies within the window, so the text after the
                // keyword that it needs does too; reading further would only
                // cost time (see AFTER_KEYWORD_LIMIT).
                let limit = if window == 0 {
                    AFTER_KEYWORD_LIMIT
                } else {
                    window
                };
                let limit = after.most.map_or(limit, |most| most.min(limit));
                let haystack = &data[end..(end + limit).min(len)];
                scratch.work += haystack.len() as u64;
                let cache = cache_for(&mut scratch.after_caches, check as usize, &after.regex);
                if !after.matches(cache, haystack) {
                    continue;
                }
            }
            let windows = &mut scratch.windows[rule_index as usize];
            if window == 0 {
                // The whole blob, once.
                if windows.is_empty() {
                    scratch.touched.push(rule_index);
                    windows.push(Window {
                        start: 0,
                        end: len,
                        hits: 1,
                    });
                }
                continue;
            }
            // A keyword-led rule's matches start at its hits: no bytes to
            // their left.
            let lead = if compiled.keyword_led() { 0 } else { lead };
            let (start, end) = (start.saturating_sub(lead), (end + window).min(len));
            let most = MERGE_SPANS * (lead + window);
            match windows.last_mut() {
                None => {
                    scratch.touched.push(rule_index);
                    windows.push(Window {
                        start,
                        end,
                        hits: 1,
                    });
                }
                Some(last)
                    if start <= last.end && end.max(last.end) - start.min(last.start) <= most =>
                {
                    last.start = last.start.min(start);
                    last.end = last.end.max(end);
                    last.hits += 1;
                }
                Some(_) => windows.push(Window {
                    start,
                    end,
                    hits: 1,
                }),
            }
        }
    }

    /// Searches the windows of one rule. The window of a single hit of a
    /// keyword-led rule is searched anchored at the hit (a match can only
    /// start there, and the anchored search dies within a few bytes where
    /// there is none); windows of several hits close together, unanchored
    /// from the first, as for any rule: one pass instead of one search per
    /// hit on a line dense with the keyword.
    fn scan_windows(
        &self,
        rule_index: usize,
        data: &[u8],
        windows: &[Window],
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let compiled = &self.rules[rule_index];
        let slots = &mut scratch.slots;
        let whole_blob = compiled.rule.window == 0;
        let keyword_led = compiled.keyword_led();
        let required_run = compiled.required_run();
        // Windows overlap where merging stopped at MERGE_SPANS, and the
        // margin past one window's end may reach into the next: never search
        // again where a match already ended.
        let mut at = 0;
        for window in windows {
            let (start, end) = (window.start, window.end);
            let anchored = keyword_led && window.hits == 1;
            if anchored && at > start {
                // The hit lies inside a match already found.
                continue;
            }
            // The search starts at `start` but sees the bytes before it, so
            // `\b` and `^` at the window's left edge behave as in the whole
            // blob. A small margin past the end keeps a trailing `\b` honest.
            let end = (end + END_MARGIN).min(data.len());
            // A match found here lies in `start..end`, and so does the run
            // every match contains.
            if let Some((set, min)) = required_run {
                if !has_run(&data[start.min(end)..end], set, *min) {
                    continue;
                }
            }
            // Compiled here, not before the loop: a rule none of whose
            // windows holds the run is never compiled.
            let Ok(regex) = compiled.regex() else {
                // User rules are compiled when loaded and built-in ones by
                // the test suite, so this is unreachable in practice.
                return;
            };
            let cache = cache_for(&mut scratch.pattern_caches, rule_index, regex);
            let haystack = &data[..end];
            at = at.max(start);
            while at <= end {
                let input = Input::new(haystack).range(at..).anchored(if anchored {
                    Anchored::Yes
                } else {
                    Anchored::No
                });
                if regex.search_slots_with(cache, &input, slots).is_none() {
                    scratch.work += (end - at) as u64;
                    break;
                }
                let slot = |i: usize| slots[i].map(NonMaxUsize::get);
                let (Some(whole_start), Some(whole_end), Some(secret_start), Some(secret_end)) =
                    (slot(0), slot(1), slot(2), slot(3))
                else {
                    // The secret group took no part (it is optional in the
                    // pattern): nothing to report, and the window is done.
                    scratch.work += (end - at) as u64;
                    break;
                };
                // A bounded window counts whole: an upper bound on what the
                // engine read. The whole-blob window of a `window = 0` rule
                // counts up to the match's end, where its engine stops in
                // practice: counting the rest of the blob for every match
                // would call a blob full of JWTs quadratic.
                scratch.work += (if whole_blob { whole_end } else { end } - at) as u64;
                at = if whole_end > whole_start {
                    whole_end
                } else {
                    whole_end + 1
                };
                if self.accepts(compiled, &data[secret_start..secret_end]) {
                    out.push(Match {
                        rule: rule_index,
                        secret: secret_start..secret_end,
                        span: whole_start..whole_end,
                    });
                }
                if anchored {
                    // The window's one hit is searched.
                    break;
                }
            }
        }
    }

    /// The filters every captured secret must pass.
    fn accepts(&self, compiled: &CompiledRule, secret: &[u8]) -> bool {
        let rule = &compiled.rule;
        if secret.is_empty() || filter::is_placeholder(secret) {
            return false;
        }
        if !compiled.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if compiled
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
            {
                return false;
            }
        }
        // A rule whose allow list does not compile allows nothing; `rules
        // check` and the loader report it.
        if compiled
            .allow()
            .unwrap_or_default()
            .iter()
            .any(|a| a.is_match(secret))
        {
            return false;
        }
        if let Some(min) = rule.min_entropy {
            if filter::shannon_entropy(secret) < min {
                return false;
            }
        }
        if let Some(v) = rule.validator {
            if !filter::validate(v, secret) {
                return false;
            }
        }
        true
    }
}

/// An Aho-Corasick automaton over `keywords` (lowercased), for keyword sets
/// the prefilter cannot take.
fn automaton(keywords: &[String], workload: Workload) -> Result<AhoCorasick, MatcherError> {
    let build = |kind: Option<AhoCorasickKind>| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .build(keywords)
    };
    // A DFA scans fastest but takes ~10 ms to build; a contiguous NFA
    // builds in a fraction of that, which is what a commit hook needs.
    let preferred = match workload {
        Workload::Large => AhoCorasickKind::DFA,
        Workload::Small => AhoCorasickKind::ContiguousNFA,
    };
    build(Some(preferred))
        .or_else(|_| build(None))
        .map_err(|e| MatcherError::Keywords(e.to_string()))
}

/// Proves a rule's examples: each example must produce a match of that rule
/// and no negative example may. A multi-part rule's examples must produce
/// its finding (all parts, paired) and no negative example may; its parts'
/// rules are looked up in `all`.
pub fn check_examples(rule: &Rule, all: &RuleSet) -> Result<(), Vec<String>> {
    if rule.is_multi_part() {
        return crate::scanner::check_multi_part_examples(rule, all);
    }
    let mut set = RuleSet::default();
    set.rules.push(rule.clone());
    let matcher = Matcher::new(&set).map_err(|e| vec![e.to_string()])?;
    let errors = matcher.compile_all();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut scratch = Scratch::default();
    let mut failures = Vec::new();
    for example in &rule.examples {
        let mut out = Vec::new();
        matcher.scan(example.as_bytes(), &mut scratch, &mut out);
        if out.is_empty() {
            failures.push(format!("example not found: {example:?}"));
        }
    }
    for negative in &rule.negative_examples {
        let mut out = Vec::new();
        matcher.scan(negative.as_bytes(), &mut scratch, &mut out);
        if let Some(m) = out.first() {
            failures.push(format!(
                "negative example matched ({:?}): {negative:?}",
                String::from_utf8_lossy(&negative.as_bytes()[m.secret.clone()])
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

mod shape;

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
