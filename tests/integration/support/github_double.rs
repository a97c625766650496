//! A one-repository GitHub REST API for rotation tests: `GET /repos/{o}/{r}`,
//! list, get and create pull requests, with payloads full enough for
//! octocrab's `models::Repository` and `models::pulls::PullRequest`, GitHub's
//! error shapes, token checking and injected failures. Web links point at
//! `https://github.example`, API links at the double itself.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::http::{now_rfc3339, random_hex, Outcome, RecordedRequest, Reply, Server};

/// Where `html_url`s point.
pub const WEB: &str = "https://github.example";

const DOCS: &str = "https://docs.github.com/rest";

pub struct GitHubDouble {
    state: Arc<Mutex<State>>,
    server: Server,
}

struct State {
    api: String,
    token: String,
    owner: String,
    repo: String,
    default_branch: String,
    base_sha: String,
    requests: Vec<RecordedRequest>,
    create_bodies: Vec<Value>,
    pulls: Vec<Value>,
    create_failures: Vec<(u16, String)>,
    /// Answers given as they are to the next request of a method.
    replies: Vec<(String, Reply)>,
}

impl GitHubDouble {
    /// Serves `owner/repo` (whose default branch is `default_branch`) to
    /// clients sending `Authorization: Bearer <token>` or `token <token>`.
    pub fn start(token: &str, owner: &str, repo: &str, default_branch: &str) -> GitHubDouble {
        let state = Arc::new(Mutex::new(State {
            api: String::new(),
            token: token.to_string(),
            owner: owner.to_string(),
            repo: repo.to_string(),
            default_branch: default_branch.to_string(),
            base_sha: random_hex(40),
            requests: Vec::new(),
            create_bodies: Vec::new(),
            pulls: Vec::new(),
            create_failures: Vec::new(),
            replies: Vec::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = Server::start(move |request| {
            let mut state = handler_state.lock().unwrap_or_else(|e| e.into_inner());
            Outcome::Reply(state.handle(request))
        });
        state.lock().unwrap_or_else(|e| e.into_inner()).api = server.url();
        GitHubDouble { state, server }
    }

    /// The API base (`http://127.0.0.1:PORT`) for `GITHUB_API_URL` or
    /// octocrab's `base_uri`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The next `POST .../pulls` fails with `status` and
    /// `{"message": message, "documentation_url": ...}`. Note that octocrab's
    /// default retry policy resends a request that got a 5xx or 429.
    pub fn fail_next_create(&self, status: u16, message: &str) {
        self.fail_creates(status, message, 1);
    }

    /// The next `times` creates fail (queued after any already queued).
    pub fn fail_creates(&self, status: u16, message: &str, times: usize) {
        let mut state = self.lock();
        for _ in 0..times {
            state.create_failures.push((status, message.to_string()));
        }
    }

    /// The next request with `method` gets `reply` as it is (a hostile or
    /// broken GitHub), before the token is even checked.
    pub fn reply_next(&self, method: &str, reply: Reply) {
        self.lock()
            .replies
            .push((method.to_ascii_uppercase(), reply));
    }

    /// Marks pull request `number` closed, so its head may be used again.
    pub fn close_pull(&self, number: u64) {
        let mut state = self.lock();
        if let Some(pull) = state.pulls.iter_mut().find(|p| p["number"] == number) {
            pull["state"] = json!("closed");
            pull["closed_at"] = json!(now_rfc3339());
        }
    }

    /// Every request received, in order (`path` includes the query).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The pull requests created so far, as returned to the client, oldest first.
    pub fn pulls(&self) -> Vec<Value> {
        self.lock().pulls.clone()
    }

    /// The JSON body of every `POST .../pulls`, failed ones included.
    pub fn create_bodies(&self) -> Vec<Value> {
        self.lock().create_bodies.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn handle(&mut self, request: RecordedRequest) -> Reply {
        self.requests.push(request.clone());
        if let Some(i) = self
            .replies
            .iter()
            .position(|(m, _)| request.method.eq_ignore_ascii_case(m))
        {
            return self.replies.remove(i).1;
        }
        let authorised = request.header("authorization").is_some_and(|auth| {
            auth.strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("token "))
                == Some(self.token.as_str())
        });
        if !authorised {
            return message(401, "Bad credentials");
        }
        let repo_path = format!("/repos/{}/{}", self.owner, self.repo);
        let Some(rest) = request.path_only().strip_prefix(repo_path.as_str()) else {
            return message(404, "Not Found");
        };
        match (request.method.as_str(), rest) {
            ("GET", "" | "/") => Reply::json(200, &self.repository()),
            ("GET", "/pulls") => self.list(&request),
            ("POST", "/pulls") => self.create(&request),
            ("GET", number) => match number
                .strip_prefix("/pulls/")
                .and_then(|n| n.parse::<u64>().ok())
                .and_then(|n| self.pulls.iter().find(|p| p["number"] == n))
            {
                Some(pull) => Reply::json(200, pull),
                None => message(404, "Not Found"),
            },
            _ => message(404, "Not Found"),
        }
    }

    fn list(&self, request: &RecordedRequest) -> Reply {
        let state = request
            .query_param("state")
            .unwrap_or_else(|| "open".to_string());
        let head = request.query_param("head");
        let base = request.query_param("base");
        let per_page = request
            .query_param("per_page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, 100);
        let page = request
            .query_param("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        // GitHub's default order: newest first.
        let matching: Vec<&Value> = self
            .pulls
            .iter()
            .rev()
            .filter(|p| state == "all" || p["state"] == state.as_str())
            .filter(|p| {
                head.as_ref()
                    .is_none_or(|h| p["head"]["label"] == h.as_str())
            })
            .filter(|p| base.as_ref().is_none_or(|b| p["base"]["ref"] == b.as_str()))
            .collect();
        let items: Vec<&Value> = matching
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .copied()
            .collect();
        let mut reply = Reply::json(200, &json!(items));
        let last = matching.len().div_ceil(per_page).max(1);
        if page < last {
            let link = |n: usize| {
                let query: Vec<String> = request
                    .query()
                    .into_iter()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| format!("{k}={}", encode(&v)))
                    .chain([format!("page={n}")])
                    .collect();
                format!("<{}{}?{}>", self.api, request.path_only(), query.join("&"))
            };
            reply = reply.with_header(
                "Link",
                &format!(
                    "{}; rel=\"next\", {}; rel=\"last\"",
                    link(page + 1),
                    link(last)
                ),
            );
        }
        reply
    }

    fn create(&mut self, request: &RecordedRequest) -> Reply {
        let Some(body) = request.json().filter(Value::is_object) else {
            return message(400, "Problems parsing JSON");
        };
        self.create_bodies.push(body.clone());
        if !self.create_failures.is_empty() {
            let (status, text) = self.create_failures.remove(0);
            return message(status, &text);
        }
        let field = |name: &str| body[name].as_str().filter(|s| !s.is_empty());
        for name in ["title", "head", "base"] {
            if field(name).is_none() {
                return validation_failed(json!({
                    "resource": "PullRequest", "field": name, "code": "missing_field"
                }));
            }
        }
        let (title, head, base) = (
            field("title").unwrap_or_default(),
            field("head").unwrap_or_default(),
            field("base").unwrap_or_default(),
        );
        let (head_owner, head_ref) = head.split_once(':').unwrap_or((&self.owner, head));
        let label = format!("{head_owner}:{head_ref}");
        if head_ref == base {
            return validation_failed(json!({
                "resource": "PullRequest", "code": "custom",
                "message": format!("No commits between {base} and {head_ref}")
            }));
        }
        if self
            .pulls
            .iter()
            .any(|p| p["state"] == "open" && p["head"]["label"] == label.as_str())
        {
            return validation_failed(json!({
                "resource": "PullRequest", "code": "custom",
                "message": format!("A pull request already exists for {label}.")
            }));
        }
        let number = self.pulls.len() as u64 + 1;
        let pull = self.pull_request(number, title, &body, head_owner, head_ref, base);
        self.pulls.push(pull.clone());
        Reply::json(201, &pull)
    }

    fn pull_request(
        &self,
        number: u64,
        title: &str,
        body: &Value,
        head_owner: &str,
        head_ref: &str,
        base: &str,
    ) -> Value {
        let api = &self.api;
        let (o, r) = (&self.owner, &self.repo);
        let url = format!("{api}/repos/{o}/{r}/pulls/{number}");
        let html = format!("{WEB}/{o}/{r}/pull/{number}");
        let issue = format!("{api}/repos/{o}/{r}/issues/{number}");
        let head_sha = random_hex(40);
        let now = now_rfc3339();
        let owner = user(api, o, 1);
        let repository = self.repository();
        let links = json!({
            "self": { "href": url },
            "html": { "href": html },
            "issue": { "href": issue },
            "comments": { "href": format!("{issue}/comments") },
            "review_comments": { "href": format!("{url}/comments") },
            "review_comment": { "href": format!("{api}/repos/{o}/{r}/pulls/comments{{/number}}") },
            "commits": { "href": format!("{url}/commits") },
            "statuses": { "href": format!("{api}/repos/{o}/{r}/statuses/{head_sha}") },
        });
        let head_json = json!({
            "label": format!("{head_owner}:{head_ref}"),
            "ref": head_ref,
            "sha": head_sha,
            "user": user(api, head_owner, 1),
            "repo": repository,
        });
        let base_json = json!({
            "label": format!("{o}:{base}"),
            "ref": base,
            "sha": self.base_sha,
            "user": owner,
            "repo": repository,
        });
        let mut pull = json!({
            "url": url,
            "id": 100_000 + number,
            "node_id": format!("PR_kwDOdouble{number:06}"),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "issue_url": issue,
            "number": number,
            "state": "open",
            "locked": false,
            "title": title,
            "user": user(api, "till-scan-bot", 2),
            "body": body.get("body").cloned().unwrap_or(Value::Null),
            "created_at": now,
            "updated_at": now,
            "closed_at": null,
            "merged_at": null,
            "merge_commit_sha": null,
            "assignee": null,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [],
            "milestone": null,
            "draft": body.get("draft").and_then(Value::as_bool).unwrap_or(false),
            "commits_url": format!("{url}/commits"),
            "review_comments_url": format!("{url}/comments"),
            "review_comment_url": format!("{api}/repos/{o}/{r}/pulls/comments{{/number}}"),
            "comments_url": format!("{issue}/comments"),
            "statuses_url": format!("{api}/repos/{o}/{r}/statuses/{head_sha}"),
        });
        extend(
            &mut pull,
            json!({
                "head": head_json,
                "base": base_json,
                "_links": links,
                "author_association": "CONTRIBUTOR",
                "auto_merge": null,
                "active_lock_reason": null,
                "merged": false,
                "mergeable": null,
                "rebaseable": null,
                "mergeable_state": "unknown",
                "merged_by": null,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": body.get("maintainer_can_modify").and_then(Value::as_bool).unwrap_or(true),
                "commits": 1,
                "additions": 1,
                "deletions": 1,
                "changed_files": 1,
            }),
        );
        pull
    }

    fn repository(&self) -> Value {
        let (api, o, r) = (&self.api, &self.owner, &self.repo);
        let base = format!("{api}/repos/{o}/{r}");
        let mut repo = json!({
            "id": 4242,
            "node_id": "R_kgDOdouble",
            "name": r,
            "full_name": format!("{o}/{r}"),
            "private": false,
            "owner": user(api, o, 1),
            "html_url": format!("{WEB}/{o}/{r}"),
            "description": "a repository served by till-scan's test double",
            "fork": false,
            "url": base,
            "git_url": format!("git://github.example/{o}/{r}.git"),
            "ssh_url": format!("git@github.example:{o}/{r}.git"),
            "clone_url": format!("{WEB}/{o}/{r}.git"),
            "svn_url": format!("{WEB}/{o}/{r}"),
            "mirror_url": null,
            "homepage": null,
            "language": "Rust",
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 1,
            "default_branch": self.default_branch,
            "open_issues_count": self.pulls.iter().filter(|p| p["state"] == "open").count(),
        });
        extend(
            &mut repo,
            json!({
            "is_template": false,
            "topics": [],
            "has_issues": true,
            "has_projects": true,
            "has_wiki": false,
            "has_pages": false,
            "has_downloads": true,
            "archived": false,
            "disabled": false,
            "visibility": "public",
            "pushed_at": "2025-01-02T03:04:05Z",
            "created_at": "2024-01-02T03:04:05Z",
            "updated_at": "2025-01-02T03:04:05Z",
            "permissions": { "admin": false, "maintain": false, "push": true, "triage": true, "pull": true },
            "allow_rebase_merge": true,
            "allow_squash_merge": true,
            "allow_merge_commit": true,
            "allow_auto_merge": false,
            "delete_branch_on_merge": false,
            "allow_forking": true,
            "subscribers_count": 1,
            "network_count": 0,
            "license": null,
            }),
        );
        let templated = [
            ("archive_url", "/{archive_format}{/ref}"),
            ("assignees_url", "/assignees{/user}"),
            ("blobs_url", "/git/blobs{/sha}"),
            ("branches_url", "/branches{/branch}"),
            ("collaborators_url", "/collaborators{/collaborator}"),
            ("comments_url", "/comments{/number}"),
            ("commits_url", "/commits{/sha}"),
            ("compare_url", "/compare/{base}...{head}"),
            ("contents_url", "/contents/{+path}"),
            ("contributors_url", "/contributors"),
            ("deployments_url", "/deployments"),
            ("downloads_url", "/downloads"),
            ("events_url", "/events"),
            ("forks_url", "/forks"),
            ("git_commits_url", "/git/commits{/sha}"),
            ("git_refs_url", "/git/refs{/sha}"),
            ("git_tags_url", "/git/tags{/sha}"),
            ("hooks_url", "/hooks"),
            ("issue_comment_url", "/issues/comments{/number}"),
            ("issue_events_url", "/issues/events{/number}"),
            ("issues_url", "/issues{/number}"),
            ("keys_url", "/keys{/key_id}"),
            ("labels_url", "/labels{/name}"),
            ("languages_url", "/languages"),
            ("merges_url", "/merges"),
            ("milestones_url", "/milestones{/number}"),
            (
                "notifications_url",
                "/notifications{?since,all,participating}",
            ),
            ("pulls_url", "/pulls{/number}"),
            ("releases_url", "/releases{/id}"),
            ("stargazers_url", "/stargazers"),
            ("statuses_url", "/statuses/{sha}"),
            ("subscribers_url", "/subscribers"),
            ("subscription_url", "/subscription"),
            ("tags_url", "/tags"),
            ("teams_url", "/teams"),
            ("trees_url", "/git/trees{/sha}"),
        ];
        for (name, suffix) in templated {
            repo[name] = json!(format!("{base}{suffix}"));
        }
        repo
    }
}

fn user(api: &str, login: &str, id: u64) -> Value {
    let url = format!("{api}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_kgDOdouble{id:04}"),
        "avatar_url": format!("https://avatars.github.example/u/{id}?v=4"),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("{WEB}/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": "User",
        "site_admin": false,
    })
}

/// Adds the fields of `more` to the object `into` (one `json!` this large
/// would hit the macro recursion limit).
fn extend(into: &mut Value, more: Value) {
    if let (Value::Object(into), Value::Object(more)) = (into, more) {
        into.extend(more);
    }
}

/// GitHub's plain error: `{"message", "documentation_url", "status"}`.
fn message(status: u16, text: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "message": text, "documentation_url": DOCS, "status": status.to_string() }),
    )
}

fn validation_failed(error: Value) -> Reply {
    Reply::json(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": format!("{DOCS}/pulls/pulls#create-a-pull-request"),
            "status": "422",
        }),
    )
}

/// Percent-encodes a query value the way serde_urlencoded would need it back.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
