//! Which commits a history scan walks: the refs (through annotated tags, to
//! commits, blobs and trees), a branch, a range or the commits of a push;
//! and a walk of its own around commits that libgit2's walk cannot read.

use std::collections::HashSet;

use anyhow::{bail, Context, Result};
use git2::{ObjectType, Oid, Repository};

use super::{Damage, Revisions};

pub(super) const ZERO_SHA: &str = "0000000000000000000000000000000000000000";
/// The remote a partial clone fetches missing objects from, if any.
pub(super) fn promisor_remote(repo: &Repository) -> Option<String> {
    let config = repo.config().ok()?;
    let mut entries = config.entries(None).ok()?;
    let mut promisor = None;
    while let Some(Ok(entry)) = entries.next() {
        let (Some(name), Some(value)) = (entry.name(), entry.value()) else {
            continue;
        };
        if name.eq_ignore_ascii_case("extensions.partialclone") {
            return Some(value.to_string());
        }
        let remote = name
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("remote."))
            .and_then(|_| name.get(7..name.len().checked_sub(9)?))
            .filter(|_| {
                name.get(name.len() - 9..)
                    .is_some_and(|s| s.eq_ignore_ascii_case(".promisor"))
            });
        if let Some(remote) = remote {
            if value.eq_ignore_ascii_case("true") && promisor.is_none() {
                promisor = Some(remote.to_string());
            }
        }
    }
    promisor
}
/// A ref whose target, after peeling annotated tags, is a blob or a tree
/// rather than a commit (`git tag v1 <blob>`): its content is scanned too.
pub(super) struct TaggedObject {
    pub(super) name: String,
    pub(super) id: Oid,
    pub(super) kind: ObjectType,
}
/// What resolving the refs of an all-refs scan found besides commits.
#[derive(Default)]
pub(super) struct RefTargets {
    /// Blobs and trees that refs point at directly.
    pub(super) objects: Vec<TaggedObject>,
    /// Annotated tag objects met on the way (their messages are scanned).
    pub(super) tags: Vec<(String, Oid)>,
    /// The commits pushed onto the walk and hidden from it, kept to walk
    /// again around unreadable commits should libgit2's walk fail.
    pub(super) tips: Vec<Oid>,
    pub(super) hidden: Vec<Oid>,
}
/// Follows `oid` (the target of ref `name`) through annotated tags and
/// pushes the commit it ends at onto `walk`; records blobs, trees and tag
/// objects in `targets`. A target that cannot be read is reported.
fn follow_ref(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    name: &str,
    mut oid: Oid,
    targets: &mut RefTargets,
    damage: &Damage<'_>,
) {
    // Tags cannot form a cycle (they are addressed by hash); the bound is
    // only there so a corrupt store cannot keep this loop going.
    for _ in 0..64 {
        let kind = match repo.odb().and_then(|odb| odb.read_header(oid)) {
            Ok((_, kind)) => kind,
            Err(e) => {
                return damage.report(
                    format!("ref {name}"),
                    format!("points at {oid}, which cannot be read: {}", e.message()),
                )
            }
        };
        match kind {
            ObjectType::Commit => {
                targets.tips.push(oid);
                if let Err(e) = walk.push(oid) {
                    damage.report(
                        format!("ref {name}"),
                        format!("cannot read commit {oid}: {}", e.message()),
                    );
                }
                return;
            }
            ObjectType::Tag => match repo.find_tag(oid) {
                Ok(tag) => {
                    targets.tags.push((name.to_string(), oid));
                    oid = tag.target_id();
                }
                Err(e) => {
                    return damage.report(
                        format!("ref {name}"),
                        format!("cannot read tag {oid}: {}", e.message()),
                    )
                }
            },
            ObjectType::Blob | ObjectType::Tree => {
                return targets.objects.push(TaggedObject {
                    name: name.to_string(),
                    id: oid,
                    kind,
                })
            }
            _ => return,
        }
    }
}
pub(super) fn push_revisions(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    revisions: &Revisions,
    damage: &Damage<'_>,
) -> Result<RefTargets> {
    let mut targets = RefTargets::default();
    match revisions {
        Revisions::AllRefs => {
            for reference in repo.references()? {
                let reference = match reference {
                    Ok(r) => r,
                    Err(e) => {
                        damage.report("refs".into(), format!("cannot read a ref: {}", e.message()));
                        continue;
                    }
                };
                let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
                match reference.resolve().map(|r| r.target()) {
                    Ok(Some(oid)) => follow_ref(repo, walk, &name, oid, &mut targets, damage),
                    Ok(None) => {}
                    Err(e) => damage.report(
                        format!("ref {name}"),
                        format!("cannot be resolved: {}", e.message()),
                    ),
                }
            }
            match repo.head() {
                Ok(head) => {
                    if let Some(oid) = head.target() {
                        follow_ref(repo, walk, "HEAD", oid, &mut targets, damage);
                    }
                }
                Err(e)
                    if e.code() == git2::ErrorCode::UnbornBranch
                        || e.code() == git2::ErrorCode::NotFound => {}
                Err(e) => damage.report(
                    "HEAD".into(),
                    format!("cannot be resolved: {}", e.message()),
                ),
            }
        }
        Revisions::Branch(name) => {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| anyhow::anyhow!("no branch or revision `{name}`: {}", e.message()))?;
            targets.tips.push(commit.id());
            walk.push(commit.id())?;
        }
        Revisions::Range(range) => {
            let Some((base, head)) = range.split_once("..") else {
                bail!("`{range}` is not a range: use BASE..HEAD");
            };
            let resolve = |rev: &str| {
                repo.revparse_single(rev)
                    .and_then(|o| o.peel_to_commit())
                    .map(|c| c.id())
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot resolve `{rev}` in range `{range}`: {}",
                            e.message()
                        )
                    })
            };
            if head.starts_with('.') {
                bail!("`{range}`: symmetric ranges (A...B) are not supported; use BASE..HEAD");
            }
            // As in git, an omitted side means HEAD.
            fn side(rev: &str) -> &str {
                if rev.is_empty() {
                    "HEAD"
                } else {
                    rev
                }
            }
            let (head, base) = (resolve(side(head))?, resolve(side(base))?);
            targets.tips.push(head);
            targets.hidden.push(base);
            walk.push(head)?;
            walk.hide(base)?;
        }
        Revisions::Push(updates) => {
            for (local, remote) in updates {
                if local == ZERO_SHA {
                    continue; // a deletion pushes no commits
                }
                let local_id =
                    Oid::from_str(local).with_context(|| format!("bad sha `{local}` from git"))?;
                targets.tips.push(local_id);
                walk.push(local_id)?;
                let known_remote = (remote != ZERO_SHA)
                    .then(|| Oid::from_str(remote).ok())
                    .flatten()
                    .filter(|id| repo.find_commit(*id).is_ok());
                match known_remote {
                    Some(id) => {
                        targets.hidden.push(id);
                        walk.hide(id)?
                    }
                    // A new branch: what no remote-tracking branch has yet.
                    None => {
                        for r in repo.references_glob("refs/remotes/*")?.flatten() {
                            if let Ok(c) = r.peel_to_commit() {
                                targets.hidden.push(c.id());
                            }
                        }
                        walk.hide_glob("refs/remotes/*")?
                    }
                }
            }
        }
    }
    Ok(targets)
}
/// The commits reachable from `tips` and not from `hidden`, parents first
/// where it can tell, found without libgit2's walk: every commit that cannot
/// be read is reported and stepped over (its parents are unknown, so what
/// only it leads to is not scanned; the report says the scan is incomplete).
pub(super) fn walk_around_damage(
    repo: &Repository,
    tips: &[Oid],
    hidden: &[Oid],
    damage: &Damage<'_>,
) -> Vec<Oid> {
    let reachable = |starts: &[Oid], stop: &HashSet<Oid>, report: bool| -> Vec<Oid> {
        let mut seen: HashSet<Oid> = HashSet::new();
        let mut order = Vec::new();
        let mut stack: Vec<Oid> = starts.to_vec();
        while let Some(oid) = stack.pop() {
            if stop.contains(&oid) || !seen.insert(oid) {
                continue;
            }
            match repo.find_commit(oid) {
                Ok(commit) => {
                    order.push(oid);
                    stack.extend(commit.parent_ids());
                }
                Err(e) if report => damage.report(
                    format!("commit {oid}"),
                    format!("cannot read: {}", e.message()),
                ),
                Err(_) => {}
            }
        }
        order
    };
    let hidden: HashSet<Oid> = reachable(hidden, &HashSet::new(), false)
        .into_iter()
        .collect();
    let mut order = reachable(tips, &hidden, true);
    order.reverse();
    order
}
/// An object id as git prints it: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}
/// The refs a `pre-push` hook receives on standard input:
/// `<local ref> <local sha> <remote ref> <remote sha>` per line.
pub fn parse_push_updates(input: &str) -> Result<Vec<(String, String)>> {
    input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, local, _, remote] if is_sha(local) && is_sha(remote) => {
                    Ok((local.to_string(), remote.to_string()))
                }
                _ => bail!("unexpected pre-push input line `{line}` (want `<local ref> <local sha> <remote ref> <remote sha>`, shas of 40 or 64 hex digits)"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_updates_parse() {
        let input = format!(
            "refs/heads/main {} refs/heads/main {}\n\n",
            "a".repeat(40),
            ZERO_SHA
        );
        let updates = parse_push_updates(&input).unwrap();
        assert_eq!(updates, vec![("a".repeat(40), ZERO_SHA.to_string())]);
        assert!(parse_push_updates("garbage").is_err());
        // Four fields are not enough: the shas must be shas.
        assert!(parse_push_updates("a b c d").is_err());
        let bad = format!(
            "refs/heads/main {} refs/heads/main {}",
            "g".repeat(40),
            ZERO_SHA
        );
        assert!(parse_push_updates(&bad).is_err());
    }
}
