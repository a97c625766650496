//! The providers Till proxies, as data (`providers.toml`): display name, the
//! page where an owner revokes a key, the provider's own API host, and whether
//! OpenAI-compatible SDKs can use Till's `/v1` base URL.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillProvider {
    pub name: String,
    pub keys_page: String,
    pub host: String,
    pub openai_compatible: bool,
}

fn table() -> &'static BTreeMap<String, TillProvider> {
    static TABLE: OnceLock<BTreeMap<String, TillProvider>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str(include_str!("providers.toml")).expect("providers.toml is valid")
    })
}

/// The provider Till knows by `id`, if Till proxies it.
pub fn get(id: &str) -> Option<&'static TillProvider> {
    table().get(id)
}

/// Every provider id Till proxies.
pub fn ids() -> impl Iterator<Item = &'static str> {
    table().keys().map(String::as_str)
}

/// Where code using a scoped key must send its requests.
pub fn proxy_url(till_base: &str, id: &str) -> String {
    format!("{}/proxy/{id}", till_base.trim_end_matches('/'))
}

/// The OpenAI-compatible base URL of a Till deployment.
pub fn openai_base_url(till_base: &str) -> String {
    format!("{}/v1", till_base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_till_provider_is_described() {
        let set = crate::rules::RuleSet::builtin().unwrap();
        for rule in &set.rules {
            if let Some(id) = &rule.till_provider {
                assert!(
                    get(id).is_some(),
                    "{}: no entry for `{id}` in providers.toml",
                    rule.id
                );
            }
        }
        assert_eq!(ids().count(), 12);
    }

    #[test]
    fn proxy_urls_follow_the_configured_base() {
        assert_eq!(
            proxy_url("https://api.till.ac/", "anthropic"),
            "https://api.till.ac/proxy/anthropic"
        );
        assert_eq!(
            openai_base_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/v1"
        );
    }
}
