//! `tx-sign`: signed transfer messages for the `tx` kernel.
//!
//! ```text
//! tx-sign public-key <secret-hex>                                  # prints the public key (hex)
//! tx-sign transfer <secret-hex> <nonce> <to-public-key-hex> <amount>  # prints the external payload (hex)
//! ```
//!
//! Secrets and public keys are 32 bytes in hex. The printed payload is what
//! `send smart rollup message "hex:[ \"…\" ]"` takes (the inbox adds `0x01`).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match refs.as_slice() {
        ["public-key", secret] => tx_sign::from_hex32(secret).map(|s| tx_sign::to_hex(&tx_sign::public_key(&s))),
        ["transfer", secret, nonce, to, amount] => (|| {
            let secret = tx_sign::from_hex32(secret)?;
            let nonce = nonce.parse::<u64>().map_err(|e| format!("nonce: {e}"))?;
            let to = tx_sign::from_hex32(to)?;
            let amount = amount.parse::<u64>().map_err(|e| format!("amount: {e}"))?;
            Ok(tx_sign::to_hex(&tx_sign::transfer(&secret, nonce, &to, amount)))
        })(),
        _ => Err("usage:\n  tx-sign public-key <secret-hex>\n  tx-sign transfer <secret-hex> <nonce> <to-public-key-hex> <amount>".into()),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("tx-sign: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
