//! The one undo log of a rotation: each step that changes the world (mints
//! keys, commits on a new branch, pushes) records how to undo itself, and on
//! a failure one place runs every undo, latest first, and says what could
//! not be undone.

/// Undoes one change; returns what it could not undo, each as what the user
/// must do by hand.
type Undo<'a> = Box<dyn FnOnce() -> Vec<String> + 'a>;

/// The undos of the changes made so far, in the order they were made.
#[derive(Default)]
pub struct UndoLog<'a> {
    undos: Vec<Undo<'a>>,
}

impl std::fmt::Debug for UndoLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UndoLog({} recorded)", self.undos.len())
    }
}

impl<'a> UndoLog<'a> {
    pub fn new() -> UndoLog<'a> {
        UndoLog::default()
    }

    /// Records how to undo a change. A step that can fail half-way records
    /// its undo before it fails, so the undo must cope with a change made in
    /// part (or not at all).
    pub fn push(&mut self, undo: impl FnOnce() -> Vec<String> + 'a) {
        self.undos.push(Box::new(undo));
    }

    pub fn is_empty(&self) -> bool {
        self.undos.is_empty()
    }

    /// Runs every undo, the latest first, each whatever the others did.
    /// Returns what is left to do by hand, in that order.
    pub fn run(self) -> Vec<String> {
        self.undos
            .into_iter()
            .rev()
            .flat_map(|undo| undo())
            .collect()
    }

    /// `error`, after undoing everything recorded, saying that it was
    /// undone or what is left to do by hand. With nothing recorded nothing
    /// was changed, and `error` is returned as it is.
    pub fn fail(self, error: anyhow::Error) -> anyhow::Error {
        if self.is_empty() {
            return error;
        }
        let problems = self.run();
        if problems.is_empty() {
            error.context(
                "rotation failed; every change was undone and every key minted in this run was revoked",
            )
        } else {
            error.context(format!(
                "rotation failed, and some of it could not be undone:\n  {}",
                problems.join("\n  ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use anyhow::anyhow;

    use super::*;

    #[test]
    fn undos_run_latest_first() {
        let ran = RefCell::new(Vec::new());
        let mut log = UndoLog::new();
        for step in ["mint", "commit", "push"] {
            let ran = &ran;
            log.push(move || {
                ran.borrow_mut().push(step);
                Vec::new()
            });
        }
        assert!(log.run().is_empty());
        assert_eq!(*ran.borrow(), ["push", "commit", "mint"]);
    }

    #[test]
    fn a_failing_undo_does_not_stop_the_others_and_is_reported() {
        let ran = RefCell::new(Vec::new());
        let mut log = UndoLog::new();
        log.push(|| {
            ran.borrow_mut().push("revoke");
            vec!["Till key k1 could not be revoked: revoke it yourself".to_string()]
        });
        log.push(|| {
            ran.borrow_mut().push("rollback");
            vec![
                "cannot restore a.py".into(),
                "cannot delete branch b".into(),
            ]
        });
        log.push(|| {
            ran.borrow_mut().push("delete remote branch");
            Vec::new()
        });
        let e = log.fail(anyhow!("GitHub refused to open the pull request"));
        assert_eq!(
            *ran.borrow(),
            ["delete remote branch", "rollback", "revoke"]
        );
        assert_eq!(
            format!("{e:#}"),
            "rotation failed, and some of it could not be undone:\n  \
             cannot restore a.py\n  cannot delete branch b\n  \
             Till key k1 could not be revoked: revoke it yourself: \
             GitHub refused to open the pull request"
        );
    }

    #[test]
    fn a_failure_says_everything_was_undone_or_nothing_was_changed() {
        let mut log = UndoLog::new();
        log.push(Vec::new);
        let e = log.fail(anyhow!("push failed"));
        assert_eq!(
            format!("{e:#}"),
            "rotation failed; every change was undone and every key minted in this run was revoked: push failed"
        );
        let e = UndoLog::new().fail(anyhow!("TILL_ADMIN_KEY is not set"));
        assert_eq!(format!("{e:#}"), "TILL_ADMIN_KEY is not set");
    }
}
