//! AWS Signature Version 4, for the one request `--validate` sends with an
//! AWS key pair: STS `GetCallerIdentity`. Written from AWS's published
//! algorithm (canonical request, string to sign, derived signing key); the
//! test below checks the signing key against AWS's documented example.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// What a signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Host as sent in the `Host` header (with `:port` if not the default).
    pub host: &'a str,
    /// Path, already URI-encoded (`/` for STS).
    pub path: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
}

/// The `Authorization` header for `request`, signed with the key pair.
/// The request must also carry `Host`, `Content-Type` and `X-Amz-Date`
/// with the values signed here.
pub fn authorization(request: &SignedRequest<'_>, access_key_id: &str, secret: &str) -> String {
    let date = &request.amz_date[..8];
    let payload_hash = hex(&Sha256::digest(request.body));
    let signed_headers = "content-type;host;x-amz-date";
    let canonical = format!(
        "{}\n{}\n\ncontent-type:{}\nhost:{}\nx-amz-date:{}\n\n{}\n{}",
        request.method,
        request.path,
        request.content_type.trim(),
        request.host.to_ascii_lowercase(),
        request.amz_date,
        signed_headers,
        payload_hash
    );
    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        request.amz_date,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(secret, date, request.region, request.service);
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// `kSigning`: the secret, through HMACs of the date, region, service and
/// the terminator.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // An HMAC takes a key of any length.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time.
pub fn amz_date(unix_secs: i64) -> String {
    crate::time::rfc3339(unix_secs, 0).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // AWS's "Examples of how to derive a signing key for Signature
        // Version 4": the documentation's example secret, 2012-02-15,
        // us-east-1, iam.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn authorization_names_the_key_id_scope_and_signed_headers() {
        let request = SignedRequest {
            method: "POST",
            host: "sts.amazonaws.com",
            path: "/",
            content_type: "application/x-www-form-urlencoded; charset=utf-8",
            body: b"Action=GetCallerIdentity&Version=2011-06-15",
            region: "us-east-1",
            service: "sts",
            amz_date: "20261206T010203Z",
        };
        let header = authorization(&request, "AKIDEXAMPLE", "secret");
        assert!(header.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
        ), "{header}");
        let signature = header.rsplit('=').next().unwrap();
        assert_eq!(signature.len(), 64);
        // Deterministic, and the secret changes it.
        assert_eq!(header, authorization(&request, "AKIDEXAMPLE", "secret"));
        assert_ne!(header, authorization(&request, "AKIDEXAMPLE", "other"));
        assert!(!header.contains("secret"));
    }

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_780_000_000), "20260528T202640Z");
    }
}
