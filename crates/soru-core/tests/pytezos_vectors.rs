//! Cross-checks against `pytezos` 3.20.0: keys, signatures, forged and
//! signed operations, operation hashes and base58 values produced by
//! `tools/vectors/make_pytezos_vectors.py` into `tests/vectors/pytezos.json`.
//!
//! The other direction (pytezos verifies soru's signatures) uses
//! `tests/vectors/soru_signatures.json`: this test checks that soru still
//! produces exactly those signatures, and the script's `verify` mode checked
//! them with pytezos when the file was made (see `tools/vectors/README.md`).

use serde_json::Value;
use soru_core::base58::{self, prefix};
use soru_core::encoding::{Decode, Encode};
use soru_core::keys::{Curve, PublicKey, PublicKeyHash, SecretKey, Signature};
use soru_core::operation::{ManagerOperation, OperationKind, SignedOperation, UnsignedOperation};
use soru_core::Micheline;

fn vectors() -> Value {
    let text = include_str!("vectors/pytezos.json");
    serde_json::from_str(text).expect("pytezos.json parses")
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("field {field} in {v}"))
}

#[test]
fn keys_derive_like_pytezos() {
    let vectors = vectors();
    let keys = vectors["keys"].as_array().unwrap();
    assert!(keys.len() >= 5);
    for key in keys {
        let sk = SecretKey::from_base58(s(key, "secret_key")).unwrap();
        let pk = sk.public_key();
        assert_eq!(pk.to_base58(), s(key, "public_key"));
        assert_eq!(pk.hash().to_base58(), s(key, "public_key_hash"));
        assert_eq!(hex::encode(pk.raw()), s(key, "public_key_hex"));
        assert_eq!(PublicKey::from_base58(s(key, "public_key")).unwrap(), pk);
        assert_eq!(
            PublicKeyHash::from_base58(s(key, "public_key_hash")).unwrap(),
            pk.hash()
        );
        // 98-character edsk secret keys re-encode as the 54-character seed form.
        if s(key, "secret_key").len() != 98 {
            assert_eq!(sk.to_base58(), s(key, "secret_key"));
        }
    }
}

#[test]
fn pytezos_signatures_verify_with_soru() {
    let vectors = vectors();
    let sigs = vectors["signatures"].as_array().unwrap();
    assert!(sigs.len() >= 20);
    for v in sigs {
        let pk = PublicKey::from_base58(s(v, "public_key")).unwrap();
        let message = hex::decode(s(v, "message_hex")).unwrap();
        let watermark = hex::decode(s(v, "watermark_hex")).unwrap();
        let sig = Signature::from_base58(s(v, "signature")).unwrap();
        assert_eq!(hex::encode(sig.as_bytes()), s(v, "signature_hex"));
        assert_eq!(sig.to_generic_base58(), s(v, "generic_signature"));
        assert_eq!(sig.to_base58(), s(v, "signature"));
        assert!(pk.verify(&watermark, &message, &sig).unwrap(), "{v}");
        let generic = Signature::from_base58(s(v, "generic_signature")).unwrap();
        assert!(pk.verify(&watermark, &message, &generic).unwrap());
        let mut tampered = message.clone();
        tampered.push(0);
        assert!(!pk.verify(&watermark, &tampered, &sig).unwrap());

        // Ed25519 and secp256k1 (RFC 6979 over SHA-256, low S) are
        // deterministic in both libraries: soru must produce the same bytes.
        // pytezos's P-256 nonces use HMAC-BLAKE2b, so only verification is shared.
        let sk = SecretKey::from_base58(s(v, "secret_key")).unwrap();
        if sk.curve() != Curve::P256 {
            assert_eq!(
                hex::encode(sk.sign(&watermark, &message).as_bytes()),
                s(v, "signature_hex"),
                "{v}"
            );
        }
    }
}

#[test]
fn operations_forge_sign_and_hash_like_pytezos() {
    let vectors = vectors();
    let ops = vectors["operations"].as_array().unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for v in ops {
        let name = s(v, "name");
        let contents: Vec<ManagerOperation> =
            serde_json::from_value(v["contents"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for c in &contents {
            kinds.insert(c.kind.tag());
        }
        let unsigned = UnsignedOperation {
            branch: s(v, "branch").parse().unwrap(),
            contents,
        };
        let forged = unsigned.forge();
        assert_eq!(hex::encode(&forged), s(v, "forged_hex"), "{name}");

        // Decoding gives the same operation back, up to Octez's elision of
        // `default`/`Unit` parameters.
        let decoded = UnsignedOperation::unforge(&forged).unwrap();
        assert_eq!(decoded.forge(), forged, "{name}");

        let key = SecretKey::from_base58(s(v, "signer_secret_key")).unwrap();
        assert_eq!(key.public_key().to_base58(), s(v, "signer_public_key"));
        let theirs = Signature::from_base58(s(v, "signature")).unwrap();
        let signed_bytes = hex::decode(s(v, "signed_hex")).unwrap();
        let signed = SignedOperation::from_bytes(&signed_bytes).unwrap();
        assert_eq!(signed.signature, theirs, "{name}");
        signed.verify(&key.public_key()).unwrap();
        assert_eq!(signed.hash().to_base58(), s(v, "operation_hash"), "{name}");
        assert_eq!(signed.to_bytes(), signed_bytes);

        let ours = unsigned.sign(&key).unwrap();
        if key.curve() != Curve::P256 {
            assert_eq!(ours.to_bytes(), signed_bytes, "{name}: deterministic signature");
        }
        ours.verify(&key.public_key()).unwrap();
    }
    // transaction, reveal, origination, add_messages, execute_outbox_message
    for tag in [107, 108, 109, 201, 206] {
        assert!(kinds.contains(&tag), "pytezos vectors cover tag {tag}");
    }
}

#[test]
fn unit_default_parameters_are_elided() {
    let vectors = vectors();
    let v = vectors["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "transaction_kt1_default_unit_elided")
        .unwrap();
    let forged = hex::decode(s(v, "forged_hex")).unwrap();
    let decoded = UnsignedOperation::unforge(&forged).unwrap();
    assert!(matches!(
        decoded.contents[0].kind,
        OperationKind::Transaction { parameters: None, .. }
    ));
}

#[test]
fn base58_values_match_pytezos() {
    let vectors = vectors();
    for v in vectors["base58"].as_array().unwrap() {
        let text = s(v, "base58");
        let raw = base58::decode_raw(text).unwrap();
        let prefix_bytes = hex::decode(s(v, "prefix_hex")).unwrap();
        assert_eq!(hex::encode(&raw[prefix_bytes.len()..]), s(v, "hex"), "{text}");
        let known = prefix::ALL
            .iter()
            .find(|p| p.bytes == prefix_bytes.as_slice() && p.payload_len == raw.len() - prefix_bytes.len());
        if let Some(p) = known {
            assert_eq!(base58::encode(p, &raw[prefix_bytes.len()..]), text);
        }
        if s(v, "prefix_name").contains("script expression") {
            if let Some(packed) = v.get("packed_hex").and_then(Value::as_str) {
                let value = Micheline::from_bytes(&hex::decode(&packed[2..]).unwrap()).unwrap();
                assert_eq!(value.script_expr_hash().to_base58(), text);
            }
        }
    }
}

/// The committed soru signatures that pytezos verified.
#[test]
fn soru_signatures_are_the_ones_pytezos_verified() {
    let committed: Value = serde_json::from_str(include_str!("vectors/soru_signatures.json")).unwrap();
    let ours = soru_signature_vectors();
    if std::env::var_os("SORU_UPDATE_VECTORS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/soru_signatures.json");
        std::fs::write(path, serde_json::to_string_pretty(&ours).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(
        ours, committed,
        "regenerate with SORU_UPDATE_VECTORS=1 and re-verify with pytezos"
    );
}

fn soru_signature_vectors() -> Value {
    let keys = [
        "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh",
        "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo",
        // secp256k1 and P-256 keys from fixed secrets 0x01..0x20 and 0x21..0x40.
        &base58::encode(&prefix::SPSK, &(1u8..=32).collect::<Vec<_>>()),
        &base58::encode(&prefix::P2SK, &(33u8..=64).collect::<Vec<_>>()),
    ];
    let messages: [&[u8]; 3] = [b"", b"soru", &[0xab; 300]];
    let mut out = Vec::new();
    for key in keys {
        let sk = SecretKey::from_base58(key).unwrap();
        for message in messages {
            for watermark in [&[][..], &[0x03][..]] {
                let sig = sk.sign(watermark, message);
                out.push(serde_json::json!({
                    "public_key": sk.public_key().to_base58(),
                    "message_hex": hex::encode(message),
                    "watermark_hex": hex::encode(watermark),
                    "signature": sig.to_base58(),
                }));
            }
        }
    }
    Value::Array(out)
}

#[test]
fn soru_signatures_verify_with_soru() {
    for v in soru_signature_vectors().as_array().unwrap() {
        let pk = PublicKey::from_base58(s(v, "public_key")).unwrap();
        let sig = Signature::from_base58(s(v, "signature")).unwrap();
        let message = hex::decode(s(v, "message_hex")).unwrap();
        let watermark = hex::decode(s(v, "watermark_hex")).unwrap();
        assert!(pk.verify(&watermark, &message, &sig).unwrap());
    }
}

#[test]
fn forged_bytes_of_every_pytezos_content_decode_alone() {
    let vectors = vectors();
    for v in vectors["operations"].as_array().unwrap() {
        let forged = hex::decode(s(v, "forged_hex")).unwrap();
        let op = UnsignedOperation::unforge(&forged).unwrap();
        for content in &op.contents {
            assert_eq!(ManagerOperation::from_bytes(&content.to_bytes()).unwrap(), *content);
        }
    }
}
