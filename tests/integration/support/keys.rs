//! Synthetic keys shared by the tests: random strings in the shape of the
//! built-in rules (or the rules' own examples), never real credentials.
//! Constants used by one module only stay in that module.

/// Groq-format keys (`gsk_` + 52 alphanumerics) for the git and hardening
/// tests and the action runner's fixture.
pub const K1: &str = "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";
pub const K2: &str = "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";
pub const K3: &str = "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";
pub const K4: &str = "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";

/// Keys of the rule examples the rotation tests use: three that Till
/// proxies (OpenAI, Anthropic, Groq) and one it does not (AWS).
pub const OPENAI: &str = "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";
pub const ANTHROPIC: &str = "sk-ant-api03-85Nn7Jf30xIOdZh_NRwhUTv3L_Smo927U2aT1yVPMm5nYtffRcvy0Dxo5pCJFz2B30M8KVM_w8MDaD3vSS1Mmn7qOiqh1AA";
pub const GROQ: &str = "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";
pub const AWS: &str = "AKIAVQJXXVBOTHD2WTFL";
/// The secret access key that goes with [`AWS`] in the multi-part tests.
pub const AWS_SECRET: &str = "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";
