//! `pages`: prepares a kernel for the `installer` kernel.
//!
//! ```text
//! pages split   <kernel.wasm> <out-dir>                        # writes pages, prints the root hash
//! pages patch   <installer.wasm> <root-hash-hex> <out.wasm>     # writes a patched installer
//! pages prepare <kernel.wasm> <installer.wasm> <out-dir> <out.wasm>   # both
//! ```
//!
//! Page files are named by the lowercase hex of their 33-byte reveal hash,
//! as the rollup node's and the debugger's preimage directories expect.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match refs.as_slice() {
        ["split", kernel, dir] => split(kernel, dir).map(|root| println!("{}", pages::to_hex(&root))),
        ["patch", installer, root, out] => pages::hash_from_hex(root).and_then(|root| patch(installer, &root, out)),
        ["prepare", kernel, installer, dir, out] => {
            split(kernel, dir).and_then(|root| patch(installer, &root, out).map(|()| println!("{}", pages::to_hex(&root))))
        }
        _ => Err("usage:\n  pages split <kernel.wasm> <out-dir>\n  pages patch <installer.wasm> <root-hash-hex> <out.wasm>\n  pages prepare <kernel.wasm> <installer.wasm> <out-dir> <out.wasm>".into()),
    };
    if let Err(e) = result {
        eprintln!("pages: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn split(kernel: &str, dir: &str) -> Result<pages::RevealHash, String> {
    let bytes = std::fs::read(kernel).map_err(|e| format!("{kernel}: {e}"))?;
    let split = pages::split(&bytes);
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    for (hash, page) in &split.pages {
        let path = std::path::Path::new(dir).join(pages::to_hex(hash));
        std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!("{}: {} bytes, {} pages", kernel, bytes.len(), split.pages.len());
    Ok(split.root)
}

#[cfg(not(target_arch = "wasm32"))]
fn patch(installer: &str, root: &pages::RevealHash, out: &str) -> Result<(), String> {
    let mut bytes = std::fs::read(installer).map_err(|e| format!("{installer}: {e}"))?;
    pages::patch_installer(&mut bytes, root)?;
    std::fs::write(out, bytes).map_err(|e| format!("{out}: {e}"))
}

#[cfg(target_arch = "wasm32")]
fn main() {}
