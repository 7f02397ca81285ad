//! Credentials and TLS: `[kafka.security]` to librdkafka properties, validation, environment
//! overrides, secrets kept out of logs, `Debug` and the binary's output, and proof that the
//! build speaks TLS (librdkafka with `ssl`, ClickHouse over `https://`). No broker or ClickHouse
//! server is needed: fake listeners record the first bytes a client sends.

mod common;

use common::bin;
use quality_pipeline::config::ConfigFile;
use quality_pipeline::kafka::{KafkaSettings, Protocol, SaslMechanism};
use quality_pipeline::sink::clickhouse::ClickHouseSettings;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// A throwaway self-signed CA certificate (public part only), for `ca_file`.
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUBP6XD+3JNPOh96QxW09yusuiZ0cwCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYcXVhbGl0eS1waXBlbGluZSB0ZXN0IENBMCAXDTI2MTEyMzAx
NDY1M1oYDzIxMjYxMDMwMDE0NjUzWjAjMSEwHwYDVQQDDBhxdWFsaXR5LXBpcGVs
aW5lIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAREZqWuds2wcWT/
f1Dp3FQtceUZC4+G9gnncyOSqjgFg6YwXvTHBzj5GSnwZMnYLlyjI6ihFZ4hpZXC
JI/XdgJ8o1MwUTAdBgNVHQ4EFgQUSzDhDsNix/vJa942Attyrnr7OiQwHwYDVR0j
BBgwFoAUSzDhDsNix/vJa942Attyrnr7OiQwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiAjzl3fHRs/ok96sTo2EJfhcuUV58irlxYSiONAZiu9zQIh
AIAYTV2qAqpkoDzNvx+QKMkAD5U7WFuF8XyZaaRntHME
-----END CERTIFICATE-----
";

/// Writes the test CA into `dir` and returns its path.
fn write_ca(dir: &Path) -> String {
    let path = dir.join("ca.pem");
    std::fs::write(&path, TEST_CA).unwrap();
    path.display().to_string()
}

/// A config file's settings as the commands build them: file, then `env`, then (no) `-X` flags.
fn kafka_from(toml_text: &str, env: &[(&str, &str)]) -> anyhow::Result<KafkaSettings> {
    let file: ConfigFile = toml::from_str(toml_text)?;
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    file.kafka.with_env_from(|k| env.get(k).cloned()).with_properties(&[])
}

/// A client's properties with their real values (`config_map` masks secrets).
fn props(c: &rdkafka::ClientConfig) -> BTreeMap<String, String> {
    c.config_map().keys().map(|k| (k.to_string(), c.get(k).unwrap_or_default().to_owned())).collect()
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A listener that reports the first bytes of the first connection it accepts, then hangs up.
fn first_bytes_listener() -> (u16, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0u8; 16];
            let mut got = Vec::new();
            while got.len() < 6 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tx.send(got);
        }
    });
    (port, rx)
}

/// TLS records start with content type 22 (handshake) and major version 3.
fn is_tls_client_hello(bytes: &[u8]) -> bool {
    bytes.len() >= 6 && bytes[0] == 0x16 && bytes[1] == 0x03 && bytes[5] == 0x01
}

#[test]
fn every_protocol_produces_its_librdkafka_properties() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());

    let plain = kafka_from("[kafka]\nbrokers = \"k:9092\"\n", &[]).unwrap();
    for c in [plain.consumer_config(), plain.reader_config(), plain.producer_config()] {
        let p = props(&c);
        assert!(p.keys().all(|k| !k.starts_with("security.") && !k.starts_with("sasl.") && !k.starts_with("ssl.")), "{p:?}");
    }

    let ssl = kafka_from(&format!("[kafka.security]\nprotocol = \"ssl\"\nca_file = \"{ca}\"\nverify_hostname = false\n"), &[]).unwrap();
    let p = props(&ssl.consumer_config());
    assert_eq!(p["security.protocol"], "ssl");
    assert_eq!(p["ssl.ca.location"], ca);
    assert_eq!(p["ssl.endpoint.identification.algorithm"], "none");
    assert!(p.keys().all(|k| !k.starts_with("sasl.")), "{p:?}");

    let sasl_plain =
        kafka_from("[kafka.security]\nprotocol = \"sasl_plaintext\"\nsasl_mechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"p\"\n", &[]).unwrap();
    let p = props(&sasl_plain.producer_config());
    assert_eq!(
        (p["security.protocol"].as_str(), p["sasl.mechanism"].as_str(), p["sasl.username"].as_str(), p["sasl.password"].as_str()),
        ("sasl_plaintext", "PLAIN", "u", "p")
    );
    assert!(p.keys().all(|k| !k.starts_with("ssl.")), "{p:?}");

    for (mechanism, expected) in [("SCRAM-SHA-256", SaslMechanism::ScramSha256), ("scram_sha_512", SaslMechanism::ScramSha512)] {
        let s = kafka_from(
            &format!("[kafka.security]\nprotocol = \"SASL_SSL\"\nsasl_mechanism = \"{mechanism}\"\nusername = \"u\"\nca_file = \"{ca}\"\n"),
            &[("QP_KAFKA_PASSWORD", "p")],
        )
        .unwrap();
        assert_eq!((s.security.protocol, s.security.sasl_mechanism), (Protocol::SaslSsl, Some(expected)));
        for c in [s.consumer_config(), s.reader_config(), s.producer_config()] {
            let p = props(&c);
            assert_eq!(p["security.protocol"], "sasl_ssl");
            assert_eq!(p["sasl.mechanism"], expected.as_str());
            assert_eq!(p["ssl.ca.location"], ca);
            assert_eq!(p["ssl.endpoint.identification.algorithm"], "https", "hostnames are verified by default");
            assert!(p.contains_key("group.id") || p.contains_key("enable.idempotence"), "the client's own settings stay: {p:?}");
        }
    }
}

#[test]
fn invalid_security_settings_are_refused_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    let sasl = format!("[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-256\"\nca_file = \"{ca}\"\n");
    // (config, environment, what the error must say)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (sasl.clone(), vec![("QP_KAFKA_PASSWORD", "p")], vec!["needs a user name", "QP_KAFKA_USERNAME"]),
        (sasl.clone(), vec![("QP_KAFKA_USERNAME", "u")], vec!["needs a password", "QP_KAFKA_PASSWORD"]),
        (
            "[kafka.security]\nprotocol = \"sasl_ssl\"\nusername = \"u\"\npassword = \"p\"\n".into(),
            vec![],
            vec!["needs kafka.security.sasl_mechanism", "SCRAM-SHA-512"],
        ),
        (
            "[kafka.security]\nprotocol = \"ssl\"\nca_file = \"/nonexistent/ca.pem\"\n".into(),
            vec![],
            vec!["kafka.security.ca_file", "/nonexistent/ca.pem", "cannot be read"],
        ),
        (format!("[kafka.security]\nprotocol = \"ssl\"\ncert_file = \"{ca}\"\n"), vec![], vec!["cert_file and kafka.security.key_file go together"]),
        ("[kafka.security]\nusername = \"u\"\n".into(), vec![], vec!["does not use SASL", "sasl_ssl"]),
        ("[kafka]\n".into(), vec![("QP_KAFKA_PASSWORD", "p")], vec!["password set, but protocol = \"plaintext\"", "QP_KAFKA_PASSWORD"]),
        (format!("[kafka.security]\nprotocol = \"plaintext\"\nca_file = \"{ca}\"\n"), vec![], vec!["does not use TLS"]),
        (
            format!("{sasl}username = \"u\"\npassword = \"p\"\n[kafka.properties]\n\"security.protocol\" = \"SSL\"\n"),
            vec![],
            vec!["security.protocol is set both"],
        ),
    ];
    for (text, env, wanted) in cases {
        let e = format!("{:#}", kafka_from(&text, &env).expect_err(&text));
        for w in wanted {
            assert!(e.contains(w), "{w:?} not in {e:?} for\n{text}");
        }
    }
    for (text, wanted) in [
        ("[kafka.security]\nsasl_mechanism = \"SCRAM-SHA-1\"\n", ["SCRAM-SHA-1", "\"SCRAM-SHA-256\""]),
        ("[kafka.security]\nprotocol = \"tls\"\n", ["\"tls\"", "\"sasl_ssl\""]),
        ("[kafka.security]\ntruststore = \"x\"\n", ["truststore", "ca_file"]),
    ] {
        let e = toml::from_str::<ConfigFile>(text).unwrap_err().to_string();
        assert!(wanted.iter().all(|w| e.contains(w)), "{e}");
    }
}

#[test]
fn environment_credentials_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    let text = format!(
        "[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"PLAIN\"\nusername = \"file-user\"\npassword = \"file-pw\"\nca_file = \"{ca}\"\n\
         [clickhouse]\nuser = \"file-ch\"\npassword = \"file-ch-pw\"\n"
    );
    let s = kafka_from(&text, &[("QP_KAFKA_USERNAME", "env-user"), ("QP_KAFKA_PASSWORD", "env-pw")]).unwrap();
    let p = props(&s.consumer_config());
    assert_eq!((p["sasl.username"].as_str(), p["sasl.password"].as_str()), ("env-user", "env-pw"));
    let s = kafka_from(&text, &[("QP_KAFKA_PASSWORD", "env-pw")]).unwrap();
    let p = props(&s.consumer_config());
    assert_eq!((p["sasl.username"].as_str(), p["sasl.password"].as_str()), ("file-user", "env-pw"), "each variable overrides its own key");
    let s = kafka_from(&text, &[]).unwrap();
    assert_eq!(props(&s.consumer_config())["sasl.password"], "file-pw");

    let file: ConfigFile = toml::from_str(&text).unwrap();
    let env = [("QP_CLICKHOUSE_USER", "env-ch"), ("QP_CLICKHOUSE_PASSWORD", "env-ch-pw")];
    let ch = file.clickhouse.clone().with_env_from(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
    assert_eq!((ch.user.as_str(), ch.password.as_str()), ("env-ch", "env-ch-pw"));
    let ch = file.clickhouse.with_env_from(|_| None);
    assert_eq!((ch.user.as_str(), ch.password.as_str()), ("file-ch", "file-ch-pw"));
}

#[test]
fn secrets_are_masked_in_the_effective_configuration_and_debug() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    let key = dir.path().join("client.key");
    std::fs::write(&key, "k").unwrap();
    let text = format!(
        "[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\nusername = \"svc\"\npassword = \"kafka-pw-1\"\n\
         ca_file = \"{ca}\"\ncert_file = \"{ca}\"\nkey_file = \"{}\"\nkey_password = \"key-pw-2\"\n\
         [kafka.properties]\n\"sasl.oauthbearer.client.secret\" = \"oauth-secret-3\"\n\
         [clickhouse]\nurl = \"https://admin:url-pw-4@ch:8443\"\npassword = \"ch-pw-5\"\n",
        key.display()
    );
    let file: ConfigFile = toml::from_str(&text).unwrap();
    let kafka = file.kafka.clone().with_properties(&["ssl.keystore.password=keystore-pw-6".into()]).unwrap();
    let outputs = [
        kafka.redacted(),
        file.clickhouse.redacted(),
        format!("{kafka:?}"),
        format!("{file:?}"),
        format!("{file:#?}"),
        file.clickhouse.redacted_url(),
    ];
    for out in &outputs {
        for secret in ["kafka-pw-1", "key-pw-2", "oauth-secret-3", "url-pw-4", "ch-pw-5", "keystore-pw-6"] {
            assert!(!out.contains(secret), "{secret} leaks into {out}");
        }
    }
    let line = kafka.redacted();
    for shown in [
        "username=svc",
        "password=***",
        "key_password=***",
        "sasl.oauthbearer.client.secret=***",
        "ssl.keystore.password=***",
        "sasl_mechanism=SCRAM-SHA-512",
    ] {
        assert!(line.contains(shown), "{shown} not in {line}");
    }
    assert!(file.clickhouse.redacted().contains("url=https://***@ch:8443") && file.clickhouse.redacted().contains("password=***"));
    // The real values still reach the clients.
    assert_eq!(props(&kafka.producer_config())["sasl.password"], "kafka-pw-1");
}

#[test]
fn rdkafka_clients_are_created_with_sasl_ssl_and_scram() {
    // Creating an SSL or SCRAM client fails in a librdkafka built without OpenSSL
    // ("Unsupported value ... built without SSL support"), so this proves the `ssl` build.
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] {
        let s = kafka_from(
            &format!(
                "[kafka]\nbrokers = \"127.0.0.1:{}\"\n[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"{mechanism}\"\nusername = \"u\"\nca_file = \"{ca}\"\n",
                closed_port()
            ),
            &[("QP_KAFKA_PASSWORD", "p")],
        )
        .unwrap();
        let _consumer: BaseConsumer = s.consumer_config().create().unwrap_or_else(|e| panic!("consumer with {mechanism}: {e}"));
        let _reader: BaseConsumer = s.reader_config().create().unwrap_or_else(|e| panic!("reader with {mechanism}: {e}"));
        let _producer: FutureProducer = s.producer_config().create().unwrap_or_else(|e| panic!("producer with {mechanism}: {e}"));
        let _admin: AdminClient<DefaultClientContext> = s.producer_config().create().unwrap_or_else(|e| panic!("admin with {mechanism}: {e}"));
    }
    // The CA file is really loaded: one that is not PEM fails the client's creation.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let s = kafka_from(&format!("[kafka.security]\nprotocol = \"ssl\"\nca_file = \"{}\"\n", bad.display()), &[]).unwrap();
    let e = s.consumer_config().create::<BaseConsumer>().err().expect("a CA file that is no certificate is refused");
    assert!(e.to_string().to_lowercase().contains("ssl"), "{e}");
}

#[test]
fn kafka_clients_speak_tls_with_ssl_protocols_only() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    let hello = |security: &str| {
        let (port, rx) = first_bytes_listener();
        let s = kafka_from(&format!("[kafka]\nbrokers = \"127.0.0.1:{port}\"\n[kafka.security]\n{security}"), &[]).unwrap();
        let consumer: BaseConsumer = s.consumer_config().create().unwrap();
        let _ = consumer.fetch_metadata(None, Duration::from_millis(500));
        rx.recv_timeout(Duration::from_secs(20)).expect("the client connects to the listener")
    };
    let tls =
        hello(&format!("protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-256\"\nusername = \"u\"\npassword = \"p\"\nca_file = \"{ca}\"\n"));
    assert!(is_tls_client_hello(&tls), "sasl_ssl starts with a TLS ClientHello: {tls:02x?}");
    let tls = hello(&format!("protocol = \"ssl\"\nca_file = \"{ca}\"\n"));
    assert!(is_tls_client_hello(&tls), "ssl starts with a TLS ClientHello: {tls:02x?}");
    // Without TLS the first bytes are a Kafka request: a 4-byte length, then ApiVersions (key 18).
    let plain = hello("protocol = \"sasl_plaintext\"\nsasl_mechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"p\"\n");
    assert!(!is_tls_client_hello(&plain) && plain.len() >= 6 && plain[4..6] == [0, 18], "{plain:02x?}");
}

#[test]
fn https_clickhouse_urls_speak_tls() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let first = |scheme: &str| {
        let (port, rx) = first_bytes_listener();
        let s = ClickHouseSettings { url: format!("{scheme}://127.0.0.1:{port}"), password: "ch-pw".into(), ..ClickHouseSettings::default() };
        let e = format!("{:#}", rt.block_on(s.check_reachable()).expect_err("the listener hangs up"));
        assert!(!e.contains("native-tls") && !e.contains("rustls-tls"), "https is supported by this build: {e}");
        assert!(!e.contains("ch-pw"), "{e}");
        rx.recv_timeout(Duration::from_secs(20)).expect("the client connects to the listener")
    };
    let tls = first("https");
    assert!(is_tls_client_hello(&tls), "https starts with a TLS ClientHello: {tls:02x?}");
    let http = first("http");
    assert!(http.starts_with(b"POST") || http.starts_with(b"GET"), "http is plain HTTP: {http:02x?}");
}

/// stdout and stderr of a finished command, together.
fn output_of(c: &mut std::process::Command) -> (bool, String) {
    let out = c.output().expect("the binary runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_binary_never_prints_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_ca(dir.path());
    let config = dir.path().join("qp.toml");
    let secrets = ["kafka-file-pw-1", "kafka-env-pw-2", "ch-file-pw-3", "ch-env-pw-4"];
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbrokers = \"127.0.0.1:{}\"\n[kafka.security]\nprotocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"\n\
             username = \"svc-file\"\npassword = \"kafka-file-pw-1\"\nca_file = \"{ca}\"\n\
             [clickhouse]\nurl = \"http://127.0.0.1:{}\"\npassword = \"ch-file-pw-3\"\nmigrate_on_start = false\n",
            closed_port(),
            closed_port()
        ),
    )
    .unwrap();
    let events = dir.path().join("events.ndjson");
    std::fs::write(&events, common::event("e1", "order.created", "2026-01-05T10:00:00Z", "s1", serde_json::json!({"order_id": "o1"})) + "\n")
        .unwrap();
    let with_env = |c: &mut std::process::Command| {
        c.env("QP_LOG", "debug")
            .env("QP_KAFKA_USERNAME", "svc-env")
            .env("QP_KAFKA_PASSWORD", "kafka-env-pw-2")
            .env("QP_CLICKHOUSE_PASSWORD", "ch-env-pw-4")
            .arg("--config")
            .arg(&config);
    };

    // `run`: the effective configuration is logged, then ClickHouse is unreachable.
    let mut run = bin();
    with_env(&mut run);
    let (ok, out) = output_of(run.args(["run", "--source", "kafka", "--sink", "clickhouse", "--metrics-addr", "off"]));
    assert!(!ok, "{out}");
    assert!(out.contains("effective configuration") && out.contains("cannot reach ClickHouse"), "{out}");
    assert!(out.contains("username=svc-env") && out.contains("password=***"), "the environment's user name wins: {out}");
    // `topics` and `produce`: an admin client and a producer with SASL_SSL + SCRAM, no broker.
    let mut topics = bin();
    with_env(&mut topics);
    let (ok, topics_out) = output_of(topics.args(["topics", "--partitions", "1", "-X", "socket.timeout.ms=2000"]));
    assert!(!ok && topics_out.contains("cannot create topics on"), "the admin client was created and tried the broker: {topics_out}");
    let mut produce = bin();
    with_env(&mut produce);
    let (ok, produce_out) = output_of(produce.arg("produce").arg("--input").arg(&events).args(["-X", "message.timeout.ms=2000"]));
    assert!(!ok && produce_out.contains("sasl_ssl://127.0.0.1"), "the producer was created and tried the broker over SASL_SSL: {produce_out}");
    for out in [&out, &topics_out, &produce_out] {
        for secret in secrets {
            assert!(!out.contains(secret), "{secret} printed:\n{out}");
        }
    }

    // A misspelt key in the security table: the error names the line, not the value.
    std::fs::write(&config, "[kafka.security]\nprotocol = \"sasl_ssl\"\npasswrd = \"kafka-file-pw-1\"\n").unwrap();
    let (ok, out) = output_of(bin().arg("--config").arg(&config).args(["topics"]));
    assert!(!ok && out.contains("passwrd") && out.contains("line 3") && !out.contains("kafka-file-pw-1"), "{out}");
}
