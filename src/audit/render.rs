//! The finished [`Audit`] as text: an aligned table for a terminal, a
//! markdown table for a GitHub job summary, or the versioned JSON object.
//! Every string in an audit was cleaned when its row was built.

use super::flags::Counter;
use super::{AtHead, Audit, Row};

/// The column titles of both tables.
const COLUMNS: [&str; 10] = [
    "ID",
    "PROVIDER",
    "REPOSITORY / PATH",
    "ACTIVATIONS",
    "TOKENS",
    "SPEND",
    "STATUS",
    "CREATED",
    "LAST USED",
    "FLAGS",
];

/// The JSON object (`version` 1), pretty-printed, with a final newline.
pub fn json(audit: &Audit) -> String {
    // An audit is plain data: serializing it cannot fail.
    serde_json::to_string_pretty(audit).unwrap_or_default() + "\n"
}

/// An aligned table and a summary line.
pub fn human(audit: &Audit) -> String {
    let mut out = String::new();
    if audit.keys.is_empty() {
        out.push_str(&nothing_shown(audit));
        out.push('\n');
        return out;
    }
    let rows: Vec<[String; 10]> = audit.keys.iter().map(cells).collect();
    let mut widths = COLUMNS.map(|c| c.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    out.push_str(&line(&COLUMNS.map(str::to_string)));
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push('\n');
    out.push_str(&summary_line(audit));
    out.push('\n');
    if audit.summary.needs_attention > 0 {
        out.push_str("Revoke keys with `till-scan keys revoke ID...`, or every idle one with `till-scan keys revoke --idle 90d`.\n");
    }
    // Also what marks the file as a till-scan report, so `-o` may replace it.
    out.push_str(&format!(
        "Thresholds: near-limit at {}%, idle after {} days (till-scan keys --near, --idle-days).\n",
        percent(audit.near),
        audit.idle_days
    ));
    out
}

/// A heading, the settings, a table and a summary line, for
/// `$GITHUB_STEP_SUMMARY`.
pub fn markdown(audit: &Audit) -> String {
    let mut out = String::from(if audit.all {
        "### Till keys\n\n"
    } else {
        "### Till keys minted by till-scan\n\n"
    });
    out.push_str(&format!(
        "Till: {}{} · near-limit at {}% · idle after {} days\n\n",
        md(&audit.till_url),
        audit
            .repository
            .as_deref()
            .map(|r| format!(" · repository {}", md(r)))
            .unwrap_or_default(),
        percent(audit.near),
        audit.idle_days
    ));
    if audit.keys.is_empty() {
        out.push_str(&md(&nothing_shown(audit)));
        out.push('\n');
        out.push_str(&footer());
        return out;
    }
    out.push_str(&format!(
        "| {} |\n|{}\n",
        COLUMNS
            .iter()
            .map(|c| title_case(c))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(COLUMNS.len())
    ));
    for row in &audit.keys {
        let cells = cells(row).map(|c| md(&c));
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(&md(&summary_line(audit)));
    out.push('\n');
    out.push_str(&footer());
    out
}

/// The last line of the markdown: which tool wrote it (and what marks the
/// file as a till-scan report, so `-o` may replace it).
fn footer() -> String {
    format!(
        "\n<sub>Audited by till-scan {}.</sub>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The cells of one row, as both tables show them.
fn cells(row: &Row) -> [String; 10] {
    let mut place = match (&row.repository, row.paths.first().or(row.path.as_ref())) {
        (Some(r), Some(p)) => format!("{r} {p}"),
        (Some(r), None) => r.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => "-".into(),
    };
    if row.paths.len() > 1 {
        place.push_str(&format!(" (+{})", row.paths.len() - 1));
    }
    let mut flags: Vec<String> = row.flags.iter().map(|f| f.name().to_string()).collect();
    if row.at_head == AtHead::OtherRepository {
        flags.push("(other repository)".into());
    }
    [
        row.id.clone(),
        row.provider.clone(),
        place,
        count(&row.activations, |n| n.to_string()),
        count(&row.tokens, |n| n.to_string()),
        count(&row.spend_cents, dollars),
        row.status.clone(),
        date(row.created_at.as_deref(), "-"),
        date(row.last_used_at.as_deref(), "never"),
        if flags.is_empty() {
            "-".into()
        } else {
            flags.join(", ")
        },
    ]
}

/// `used/max`, `-` for an unknown side, `-` alone when both are.
fn count(c: &Counter, show: impl Fn(u64) -> String) -> String {
    match (c.used, c.max) {
        (None, None) => "-".into(),
        (used, max) => format!(
            "{}/{}",
            used.map_or_else(|| "-".into(), &show),
            max.map_or_else(|| "-".into(), &show)
        ),
    }
}

/// Cents as dollars: `$12.05`.
pub fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// The day of an RFC 3339 date; what Till sent if it is not one.
fn date(text: Option<&str>, absent: &str) -> String {
    match text {
        None => absent.into(),
        Some(t) if crate::time::parse_rfc3339(t).is_some() && t.len() >= 10 => t[..10].into(),
        Some(t) => t.into(),
    }
}

fn summary_line(audit: &Audit) -> String {
    let s = &audit.summary;
    // The flags that ask for action first, then the rest by name.
    let first = ["exhausted", "near-limit", "idle", "gone"];
    let counts: Vec<String> = first
        .iter()
        .filter_map(|f| s.flags.get_key_value(*f))
        .chain(s.flags.iter().filter(|(f, _)| !first.contains(&f.as_str())))
        .filter(|(_, n)| **n > 0)
        .map(|(f, n)| format!("{n} {f}"))
        .collect();
    format!(
        "{} key{} ({} active){}; {} need{} attention.",
        s.keys,
        if s.keys == 1 { "" } else { "s" },
        s.active,
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        },
        s.needs_attention,
        if s.needs_attention == 1 { "s" } else { "" },
    )
}

fn nothing_shown(audit: &Audit) -> String {
    if audit.all {
        format!(
            "Till ({}) lists no keys: nothing for till-scan to audit.",
            audit.till_url
        )
    } else {
        format!(
            "No Till key minted by till-scan ({} key{} listed at {}; --all shows every key).",
            audit.summary.listed,
            if audit.summary.listed == 1 { "" } else { "s" },
            audit.till_url
        )
    }
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round() as i64)
    } else {
        format!("{p:.1}")
    }
}

fn title_case(column: &str) -> String {
    let lower = column.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Text safe in a markdown table cell: no pipe, markup or HTML takes effect.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{audit, Options};
    use crate::rotate::scrub::Secrets;
    use crate::rotate::till::Key;

    fn sample() -> Audit {
        let keys: Vec<Key> = serde_json::from_value(serde_json::json!([
            {"id": "key_1", "provider": "openai", "status": "active",
             "maxActivations": 1000, "usedActivations": 950,
             "maxSpendCents": 500, "usedSpendCents": 1205,
             "createdAt": "2025-01-02T03:04:05Z", "lastUsedAt": null,
             "metadata": {"source": "till-scan", "repository": "acme/app",
                          "path": "src/a|b.py", "paths": ["src/a|b.py", "x.py"]}},
        ]))
        .unwrap();
        audit(
            &keys,
            "https://api.till.ac",
            Some("acme/app"),
            &Options {
                all: false,
                near: 0.8,
                idle_days: 30,
                now: crate::time::parse_rfc3339("2025-01-10T00:00:00Z").unwrap(),
            },
            &Secrets::new(),
            &|_: &Key| AtHead::OtherRepository,
        )
    }

    #[test]
    fn counters_and_money_show_both_sides() {
        assert_eq!(dollars(1205), "$12.05");
        assert_eq!(dollars(7), "$0.07");
        let c = Counter {
            used: Some(3),
            max: None,
        };
        assert_eq!(count(&c, |n| n.to_string()), "3/-");
        let c = Counter {
            used: None,
            max: None,
        };
        assert_eq!(count(&c, |n| n.to_string()), "-");
    }

    #[test]
    fn the_table_shows_each_column() {
        let text = human(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID "), "{text}");
        let row = lines[1];
        for cell in [
            "key_1",
            "openai",
            "acme/app src/a|b.py (+1)",
            "950/1000",
            "$12.05/$5.00",
            "2025-01-02",
            "never",
            // 950 activations: used, though Till sent no last use.
            "exhausted, (other repository)",
        ] {
            assert!(row.contains(cell), "{cell} not in {row}");
        }
        assert!(
            text.contains("1 key (1 active): 1 exhausted; 1 needs attention."),
            "{text}"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let text = markdown(&sample());
        assert!(
            text.starts_with("### Till keys minted by till-scan\n"),
            "{text}"
        );
        assert!(
            text.contains("| Id | Provider | Repository / path |"),
            "{text}"
        );
        assert!(text.contains("src/a\\|b.py"), "{text}");
        assert!(text.contains("near-limit at 80%"), "{text}");
        let row = text.lines().find(|l| l.starts_with("| key\\_1")).unwrap();
        assert_eq!(row.matches(" | ").count(), 9, "{row}");
    }
}
