//! Every key Till can rotate is found in every shape people store keys in
//! (issue 13 item 3): the built-in rules, run through the real matcher, on
//! each of the twelve Till providers' keys placed in each common context.
//!
//! The contexts name the provider the way code does (`MISTRAL_API_KEY`,
//! `mistralApiKey`, `[mistral]`, `api.mistral.ai`), which is what keys
//! without a prefix (Mistral, Cohere, DeepSeek, Together's legacy keys) rely
//! on; prefixed keys must be found in the same places.

use std::collections::BTreeSet;

use crate::matcher::{Matcher, Scratch};
use crate::rules::RuleSet;

/// The contexts, with `{ENV}` (`MISTRAL`), `{word}` (`mistral`), `{Camel}`
/// (`Mistral`), `{host}` (`api.mistral.ai`) and `{KEY}` replaced per key.
const CONTEXTS: &[(&str, &str)] = &[
    ("python assignment", "{word}_api_key = \"{KEY}\"\n"),
    ("python call keyword", "client = {Camel}(api_key=\"{KEY}\")\n"),
    ("positional call", "var client = new {Camel}Client(\"{KEY}\");\n"),
    ("javascript const", "const {word}ApiKey = '{KEY}';\n"),
    ("typescript typed", "const {word}Key: string = \"{KEY}\";\n"),
    ("go short assignment", "{word}Key := \"{KEY}\"\n"),
    ("go typed var", "var {word}Key string = \"{KEY}\"\n"),
    ("rust const", "const {ENV}_API_KEY: &str = \"{KEY}\";\n"),
    ("rust let", "let {word}_key = String::from(\"{KEY}\");\n"),
    ("java constant", "private static final String {ENV}_API_KEY = \"{KEY}\";\n"),
    ("php variable", "${word}_api_key = '{KEY}';\n"),
    ("php define", "define('{ENV}_API_KEY', '{KEY}');\n"),
    ("php array", "'{word}_api_key' => '{KEY}',\n"),
    ("ruby env", "ENV['{ENV}_API_KEY'] ||= '{KEY}'\n"),
    ("python environ", "os.environ[\"{ENV}_API_KEY\"] = \"{KEY}\"\n"),
    ("dotenv", "{ENV}_API_KEY={KEY}\n"),
    ("dotenv quoted", "{ENV}_API_KEY=\"{KEY}\"\n"),
    ("shell export", "export {ENV}_API_KEY='{KEY}'\n"),
    ("ini section", "[{word}]\napi_key = {KEY}\n"),
    ("ini section, sibling first", "[{word}]\nmodel = default\napi_key = {KEY}\n"),
    ("properties", "{word}.api.key={KEY}\n"),
    ("yaml flat", "{word}_api_key: {KEY}\n"),
    ("yaml nested", "{word}:\n  api_key: \"{KEY}\"\n"),
    ("yaml nested, sibling first", "{word}:\n  model: default\n  api_key: {KEY}\n"),
    ("json flat", "{\"{word}ApiKey\": \"{KEY}\", \"timeout\": 30}\n"),
    ("json nested", "{\"{word}\": {\"apiKey\": \"{KEY}\"}}\n"),
    ("json nested multi-line", "{\n  \"{word}\": {\n    \"api_key\": \"{KEY}\"\n  }\n}\n"),
    ("toml flat", "{word}_api_key = \"{KEY}\"\n"),
    ("toml table", "[providers.{word}]\napi_key = \"{KEY}\"\n"),
    ("xml attribute", "<add key=\"{ENV}_API_KEY\" value=\"{KEY}\" />\n"),
    ("xml element", "<{word}ApiKey>{KEY}</{word}ApiKey>\n"),
    ("sql insert", "INSERT INTO settings (name, value) VALUES ('{word}_api_key', '{KEY}');\n"),
    ("makefile", "{ENV}_API_KEY := {KEY}\n"),
    ("makefile conditional", "{ENV}_API_KEY ?= {KEY}\n"),
    ("dockerfile env", "ENV {ENV}_API_KEY {KEY}\n"),
    ("url query", "https://{host}/v1/models?api_key={KEY}\n"),
    ("url query, named", "https://example.com/proxy?{word}_key={KEY}&debug=1\n"),
    ("http header", "X-{Camel}-Api-Key: {KEY}\n"),
    ("curl bearer", "curl https://{host}/v1/models -H \"Authorization: Bearer {KEY}\"\n"),
    ("requests headers", "{word}_headers = {\"Authorization\": \"Bearer {KEY}\"}\n"),
    (
        "notebook cell",
        "{\"cell_type\": \"code\", \"source\": [\"import os\\n\", \"os.environ[\\\"{ENV}_API_KEY\\\"] = \\\"{KEY}\\\"\\n\"]}\n",
    ),
    ("kubernetes env", "env:\n  - name: {ENV}_API_KEY\n    value: \"{KEY}\"\n"),
    ("compose environment", "environment:\n  - {ENV}_API_KEY={KEY}\n"),
];

/// One key per Till provider (synthetic, in the documented shape) and the
/// rule that must find it. `(till provider, word, host, rule id, key)`.
const KEYS: &[(&str, &str, &str, &str, &str)] = &[
    ("openai", "openai", "api.openai.com", "openai.project-key",
     "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"),
    ("anthropic", "anthropic", "api.anthropic.com", "anthropic.api-key",
     "sk-ant-api03-BL2AKS6tIkiCI3eoDPO_OfKoCPx4MldpKniroeu8Yq5dP6lS4elU0NV887Kp-UuK7l-UWWdCj2xr3gm0nY34TTDzJPAX0AA"),
    ("cohere", "cohere", "api.cohere.com", "cohere.api-key",
     "HhUKzhOhqOV03scBmbLGXbp9tA2sdvszAoOjOSmA"),
    ("deepseek", "deepseek", "api.deepseek.com", "deepseek.api-key",
     "sk-a83bd93d50f429fc73281f8e1097a76b"),
    ("fireworks", "fireworks", "api.fireworks.ai", "fireworks.api-key",
     "fw_hW4dAczyPVm2d8yxswYWJg2y"),
    ("groq", "groq", "api.groq.com", "groq.api-key",
     "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"),
    ("mistral", "mistral", "api.mistral.ai", "mistral.api-key",
     "hoW3IJUlxtUorPf0Slbv5veMsLC5ePeO"),
    ("openrouter", "openrouter", "openrouter.ai/api", "openrouter.api-key",
     "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"),
    ("perplexity", "perplexity", "api.perplexity.ai", "perplexity.api-key",
     "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"),
    ("together", "together", "api.together.xyz", "together.legacy-api-key",
     "16fbb88a0d150019defa26e106fec743dca82615ffeff9b71dcf648663479d00"),
    ("xai", "xai", "api.x.ai", "xai.api-key",
     "xai-rQXBjhiExepwZTmQKiFxfRtfXrtBCl8F47R8jBdkeerj6s5LkirOswaT8wZ7eXcpqinETGTfRxsFn9ea"),
    ("google", "gemini", "generativelanguage.googleapis.com", "google.api-key",
     "AIzaQ0DKDltpoWj3_XayOFR4i6KhZETeSJJer2A"),
];

fn camel(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn fill(context: &str, word: &str, host: &str, key: &str) -> String {
    context
        .replace("{ENV}", &word.to_ascii_uppercase())
        .replace("{word}", word)
        .replace("{Camel}", &camel(word))
        .replace("{host}", host)
        .replace("{KEY}", key)
}

#[test]
fn every_till_provider_key_is_found_in_every_common_context() {
    let set = RuleSet::builtin().unwrap();
    let till: BTreeSet<&str> = set
        .rules
        .iter()
        .filter_map(|r| r.till_provider.as_deref())
        .collect();
    let tested: BTreeSet<&str> = KEYS.iter().map(|k| k.0).collect();
    assert_eq!(till, tested, "every Till provider has a key in KEYS");
    let matcher = Matcher::new(&set).unwrap();
    let mut scratch = Scratch::default();
    let mut misses = Vec::new();
    for (provider, word, host, rule_id, key) in KEYS {
        for (context, template) in CONTEXTS {
            let text = fill(template, word, host, key);
            let mut out = Vec::new();
            matcher.scan(text.as_bytes(), &mut scratch, &mut out);
            let found = out.iter().any(|m| {
                matcher.rule(m.rule).id == *rule_id
                    && &text.as_bytes()[m.secret.clone()] == key.as_bytes()
            });
            if !found {
                misses.push(format!("{provider} ({rule_id}) in {context}: {text:?}"));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
fn the_contexts_do_not_invent_keys() {
    // The same contexts holding a placeholder, an environment lookup or a value
    // of the wrong shape find nothing.
    let set = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&set).unwrap();
    let mut scratch = Scratch::default();
    for (_, word, host, _, _) in KEYS {
        for value in [
            "your_api_key_here",
            "${API_KEY}",
            "os.environ.get(\"KEY\")",
            "short123",
        ] {
            for (context, template) in CONTEXTS {
                let text = fill(template, word, host, value);
                let mut out = Vec::new();
                matcher.scan(text.as_bytes(), &mut scratch, &mut out);
                assert!(
                    out.is_empty(),
                    "{context} with {value:?} fired {:?}: {text:?}",
                    out.iter()
                        .map(|m| &matcher.rule(m.rule).id)
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

#[test]
fn values_vendors_publish_in_their_documentation_never_fire() {
    let set = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&set).unwrap();
    let mut scratch = Scratch::default();
    for text in [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"\n",
        "const stripe = Stripe('pk_test_TYooMQauvdEDq54NiTphI7jx');\n",
        "curl https://api.stripe.com/v1/charges -u sk_test_BQokikJOvBiI2HlWgH4olfQ2:\n",
        "STRIPE_SECRET_KEY=sk_test_26PHem9AhJZvU623DfE1x4sd\n",
        "SLACK_BOT_TOKEN=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy\n",
        "GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n",
    ] {
        let mut out = Vec::new();
        matcher.scan(text.as_bytes(), &mut scratch, &mut out);
        assert!(out.is_empty(), "{text:?} fired {:?}",
            out.iter().map(|m| &matcher.rule(m.rule).id).collect::<Vec<_>>());
    }
}
