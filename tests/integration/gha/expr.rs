//! A small evaluator of GitHub Actions expressions, enough for `action.yml`:
//! context paths (`inputs.x`, `steps.a.outputs.b`, `github.event.x`,
//! `runner.temp`), string literals, `== != && || !`, parentheses and the
//! status functions. Comparison and truthiness follow GitHub's rules
//! (strings compare ignoring case; mixed types compare as numbers; `||` and
//! `&&` yield an operand). Anything else panics, so a new construct in
//! `action.yml` cannot pass unevaluated.

use std::collections::BTreeMap;

use serde_json::Value;

/// A value of a GitHub Actions expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Str(String),
}

impl Val {
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.clone(),
        }
    }

    fn number(&self) -> f64 {
        match self {
            Val::Null => 0.0,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Str(s) if s.trim().is_empty() => 0.0,
            Val::Str(s) => s.trim().parse().unwrap_or(f64::NAN),
        }
    }

    /// `==` as GitHub defines it: strings compare ignoring case; values of
    /// different types are compared as numbers.
    fn equals(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => a.eq_ignore_ascii_case(b),
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Null, Val::Null) => true,
            (a, b) => a.number() == b.number(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Op(&'static str),
}

pub fn tokens(expr: &str) -> Vec<Tok> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                assert!(i < chars.len(), "unterminated string in `{expr}`");
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        s.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            out.push(Tok::Str(s));
        } else if let Some(op) = ["==", "!=", "&&", "||"].into_iter().find(|op| *op == two) {
            out.push(Tok::Op(op));
            i += 2;
        } else if let Some(op) = ["!", "(", ")", ","]
            .into_iter()
            .find(|op| op.starts_with(c))
        {
            out.push(Tok::Op(op));
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            panic!("unsupported character {c:?} in expression `{expr}`");
        }
    }
    out
}

/// What expressions can see.
pub struct Contexts {
    pub inputs: BTreeMap<String, String>,
    pub steps: BTreeMap<String, BTreeMap<String, String>>,
    pub github: Value,
    pub runner: BTreeMap<String, String>,
    pub failed: bool,
}

impl Contexts {
    pub fn lookup(&self, path: &str) -> Val {
        let parts: Vec<&str> = path.split('.').collect();
        let found = match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned(),
            ["steps", id, "outputs", name] => {
                self.steps.get(*id).and_then(|o| o.get(*name)).cloned()
            }
            ["runner", name] => self.runner.get(*name).cloned(),
            ["github", rest @ ..] => {
                let mut v = &self.github;
                for p in rest {
                    v = &v[*p];
                }
                return match v {
                    Value::Null => Val::Null,
                    Value::Bool(b) => Val::Bool(*b),
                    Value::String(s) => Val::Str(s.clone()),
                    other => Val::Str(other.to_string()),
                };
            }
            _ => panic!("the test runner does not know the context `{path}`"),
        };
        found.map_or(Val::Null, Val::Str)
    }

    pub fn eval(&self, expr: &str) -> Val {
        let toks = tokens(expr);
        let mut p = Parser {
            toks: &toks,
            i: 0,
            ctx: self,
        };
        let v = p.or();
        assert_eq!(p.i, toks.len(), "trailing tokens in `{expr}`");
        v
    }

    /// Replaces every `${{ expr }}` in `text` by its value.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.eval(&rest[start + 3..end]).text());
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:` condition: a bare expression or one in `${{ }}`; with no
    /// status function, `success() &&` is implied, as on the runner.
    pub fn condition(&self, cond: Option<&str>) -> bool {
        let cond = cond.unwrap_or("success()").trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        let status = ["success()", "failure()", "always()", "cancelled()"]
            .iter()
            .any(|f| cond.contains(f));
        (status || !self.failed) && self.eval(cond).truthy()
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    i: usize,
    ctx: &'a Contexts,
}

impl Parser<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Op(o)) if *o == op)
    }

    fn or(&mut self) -> Val {
        let mut left = self.and();
        while self.peek_op("||") {
            self.i += 1;
            let right = self.and();
            left = if left.truthy() { left } else { right };
        }
        left
    }

    fn and(&mut self) -> Val {
        let mut left = self.comparison();
        while self.peek_op("&&") {
            self.i += 1;
            let right = self.comparison();
            left = if left.truthy() { right } else { left };
        }
        left
    }

    fn comparison(&mut self) -> Val {
        let left = self.unary();
        if self.peek_op("==") || self.peek_op("!=") {
            let negate = self.peek_op("!=");
            self.i += 1;
            let right = self.unary();
            return Val::Bool(left.equals(&right) != negate);
        }
        left
    }

    fn unary(&mut self) -> Val {
        if self.peek_op("!") {
            self.i += 1;
            return Val::Bool(!self.unary().truthy());
        }
        self.primary()
    }

    fn primary(&mut self) -> Val {
        let tok = self
            .toks
            .get(self.i)
            .cloned()
            .expect("expression ends early");
        self.i += 1;
        match tok {
            Tok::Op("(") => {
                let v = self.or();
                assert!(self.peek_op(")"), "missing )");
                self.i += 1;
                v
            }
            Tok::Str(s) => Val::Str(s),
            Tok::Ident(name) if self.peek_op("(") => {
                self.i += 1;
                assert!(
                    self.peek_op(")"),
                    "functions with arguments are not supported: {name}"
                );
                self.i += 1;
                match name.as_str() {
                    "success" => Val::Bool(!self.ctx.failed),
                    "failure" => Val::Bool(self.ctx.failed),
                    "always" => Val::Bool(true),
                    "cancelled" => Val::Bool(false),
                    other => panic!("unsupported function {other}()"),
                }
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                "null" => Val::Null,
                path => self.ctx.lookup(path),
            },
            Tok::Op(op) => panic!("unexpected `{op}`"),
        }
    }
}

/// Every `${{ ... }}` expression in a string.
pub fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let end = rest[start..].find("}}").expect("unclosed ${{") + start;
        out.push(rest[start + 3..end].to_string());
        rest = &rest[end + 2..];
    }
    out
}

/// The context paths (`inputs.x`, `steps.a.outputs.b`, ...) an expression reads.
pub fn references(expr: &str) -> Vec<String> {
    tokens(expr)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Ident(s) if s.contains('.') => Some(s),
            _ => None,
        })
        .collect()
}

/// Every expression of a step: its `if:` and the `${{ }}` in any string.
pub fn step_expressions(step: &Value) -> Vec<String> {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.extend(expressions(s)),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(m) => m.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    strings(step, &mut out);
    if let Some(cond) = step["if"].as_str() {
        if expressions(cond).is_empty() {
            out.push(cond.to_string());
        }
    }
    out
}
