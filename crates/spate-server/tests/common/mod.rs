//! What the in-process HTTP tests share: SigV4 signing of the requests they build, as an AWS SDK
//! would sign them.

use std::time::SystemTime;

use spate_wire::sigv4::{Credentials, Signer};

/// The access key the tests sign with unless they say otherwise.
pub const ACCESS_KEY_ID: &str = "AKIDTESTS";
pub const SECRET_ACCESS_KEY: &str = "tests-secret";

/// Signs `request` (whose body is `body`) with `access_key_id`/`secret` as of `time`, for the
/// SigV4 service `service`; sets `host` if missing, and the `x-amz-date` and `authorization`
/// headers.
pub fn sign_as<B>(
    request: &mut http::Request<B>,
    body: &[u8],
    access_key_id: &str,
    secret: &str,
    time: SystemTime,
    service: &str,
) {
    if !request.headers().contains_key(http::header::HOST) {
        let host = request
            .uri()
            .authority()
            .map_or("localhost".to_owned(), |authority| authority.to_string());
        request
            .headers_mut()
            .insert(http::header::HOST, host.parse().expect("valid host"));
    }
    let signer = Signer::new(
        Credentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: None,
        },
        "us-east-1",
        service,
    );
    let mut headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().expect("ASCII header").to_owned(),
            )
        })
        .collect();
    headers.sort();
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let method = request.method().as_str().to_owned();
    let signed = signer.sign(time, &method, &path, &query, &borrowed, body);
    let authorization = signed.authorization.clone();
    let date = signed.x_amz_date.to_string();
    let headers = request.headers_mut();
    headers.insert("x-amz-date", date.parse().expect("valid date"));
    headers.insert(
        http::header::AUTHORIZATION,
        authorization.parse().expect("valid authorization"),
    );
}

/// Signs `request` with the tests' key, now.
pub fn sign<B>(request: &mut http::Request<B>, body: &[u8]) {
    sign_as(
        request,
        body,
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SystemTime::now(),
        "kinesis",
    );
}
