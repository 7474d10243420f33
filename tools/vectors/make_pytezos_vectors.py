#!/usr/bin/env python3
"""Generate (and check) external reference vectors for soru using pytezos.

soru is a Rust reimplementation of Tezos smart rollups.  To cross-check its
crypto, base58 and operation-encoding code byte-for-byte against an
independent implementation, this script drives the Python library `pytezos`
(PyPI) and records what it produces.

Usage
-----
    python3 tools/vectors/make_pytezos_vectors.py [OUT]
        Write the vector file (default:
        crates/soru-core/tests/vectors/pytezos.json, relative to the repo
        root, which is found from this script's location).

    python3 tools/vectors/make_pytezos_vectors.py verify FILE
        FILE is a JSON list of
            {"public_key": "edpk…|sppk…|p2pk…",
             "message_hex": "…", "watermark_hex": "03" | "",
             "signature": "edsig…|spsig1…|p2sig…|sig…"}
        (a JSON object with a "signatures" list, e.g. pytezos.json itself, is
        accepted too).  Each signature is checked with pytezos'
        Key.from_encoded_key(public_key).verify(signature,
        bytes.fromhex(watermark_hex + message_hex)); one OK/FAIL line is
        printed per entry and the exit status is 1 if any entry fails.

Setup (Debian):
    apt-get install -y libsodium-dev libsecp256k1-dev libgmp-dev pkg-config
    pip install pytezos 'fastecdsa<4'
pytezos 3.20.0 declares fastecdsa>=2.2.3, but its P256 code calls
SEC1Encoder.encode_public_key/decode_public_key as static methods, which
fastecdsa 4.0 turned into instance methods (TypeError on any p256 key), so
fastecdsa must be pinned below 4.  The script refuses to run otherwise.

What pytezos signs
------------------
Key.sign(msg) hashes msg with BLAKE2b-256 and then
  * ed25519  : Ed25519-signs the 32-byte digest (libsodium, via pysodium);
  * secp256k1: ECDSA over the digest (libsecp256k1, via coincurve; RFC 6979
               nonces with HMAC-SHA256, low-S normalised);
  * p256     : ECDSA over the digest (fastecdsa; RFC 6979 nonces whose HMAC
               uses the *same* hash function, i.e. HMAC-BLAKE2b-256; s is
               NOT normalised to low-S).
The caller prepends the watermark itself (0x03 = generic operation).

The output is deterministic: fixed keys, fixed messages, deterministic
signature schemes, and JSON written with insertion-ordered keys.  The script
asserts determinism by signing everything twice.
"""

import json
import os
import sys
from hashlib import blake2b

from importlib.metadata import version as dist_version

import pytezos
from pytezos.context.impl import ExecutionContext
from pytezos.crypto.encoding import base58_decode, base58_encode, base58_encodings
from pytezos.crypto.key import Key
from pytezos.michelson.forge import forge_micheline, forge_script_expr
from pytezos.michelson.types.base import MichelsonType
from pytezos.operation.forge import forge_operation, forge_operation_group
from pytezos.operation.group import OperationGroup

FASTECDSA_VERSION = dist_version('fastecdsa')
if int(FASTECDSA_VERSION.split('.')[0]) >= 4:
    raise SystemExit(f"fastecdsa {FASTECDSA_VERSION} breaks pytezos' P256 keys; pip install 'fastecdsa<4'")

# ---------------------------------------------------------------------------
# Fixed inputs
# ---------------------------------------------------------------------------

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEFAULT_OUT = os.path.join(REPO_ROOT, 'crates', 'soru-core', 'tests', 'vectors', 'pytezos.json')

BOOTSTRAP1_SK = 'edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh'
BOOTSTRAP2_SK = 'edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo'
# bootstrap3; used only through its 64-byte (98-char edsk…) secret key form.
BOOTSTRAP3_SK = 'edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ'

# 32-byte secret exponents for the ECDSA keys (both are < the curve orders).
SECP256K1_SECRET = bytes(range(0x01, 0x21))  # 01 02 … 20
P256_SECRET = bytes(range(0x21, 0x41))  # 21 22 … 40

ROLLUP = 'sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf'
KT1 = 'KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y'
BRANCH = 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2'
CHAIN_ID = 'NetXdQprcVkpaWU'
PROTOCOL_HASHES = [
    'ProtoALphaALphaALphaALphaALphaALphaALphaALphaDdp3zK',  # proto alpha
    'PtParisBxoLz5gzMmn3d9WBQNoPSZakgnkMC2VNuQ3KXfUtUQeZ',  # Paris
    'PrihK96nBAFSxVL1GLJTVhu9YnzkMFiBeuJRPA8NwuZVZCE1L6i',  # genesis (all-zero payload)
]
# A cemented-commitment hash made by base58-encoding 32 fixed bytes
# (0xc0 0xc1 … 0xdf) with the src1 prefix.
COMMITMENT_BYTES = bytes(range(0xC0, 0xE0))
COMMITMENT = base58_encode(COMMITMENT_BYTES, b'src1').decode()

# Messages signed for the "signatures" section.
MESSAGES = [
    b'',
    b'\x03' + bytes(32),
    bytes.fromhex('0a0b0c'),
    bytes(i % 256 for i in range(300)),
]

SCRIPT_EXPR_VALUE = {'int': '37'}

# `parameter unit; storage unit; code { CDR ; NIL operation ; PAIR }`
TINY_CODE = [
    {'prim': 'parameter', 'args': [{'prim': 'unit'}]},
    {'prim': 'storage', 'args': [{'prim': 'unit'}]},
    {'prim': 'code', 'args': [[{'prim': 'CDR'}, {'prim': 'NIL', 'args': [{'prim': 'operation'}]}, {'prim': 'PAIR'}]]},
]

CURVE_NAMES = {b'ed': 'ed25519', b'sp': 'secp256k1', b'p2': 'p256'}
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def b58_info(value):
    """Return (data type name, binary prefix, payload) the way pytezos'
    base58_decode matches a string: by leading characters and total length."""
    enc = next(e for e in base58_encodings if len(value) == e[1] and value.encode().startswith(e[0]))
    payload = base58_decode(value.encode())
    return enc[4], enc[2], payload


def b58_entry(value, **extra):
    name, prefix, payload = b58_info(value)
    entry = {'prefix_name': name, 'base58': value, 'hex': payload.hex(), 'prefix_hex': prefix.hex()}
    entry.update(extra)
    return entry


def sign_twice(key, data, generic=False):
    """Sign with pytezos' Key.sign twice; fail loudly if not deterministic."""
    s1 = key.sign(data, generic=generic)
    s2 = key.sign(data, generic=generic)
    if s1 != s2:
        raise SystemExit(f'non-deterministic signature from {key.public_key()}')
    return s1


def check_verify(key, sig, data):
    """Self-check: the signature verifies and a tampered message does not."""
    assert key.verify(sig, data)
    try:
        key.verify(sig, data + b'\x00')
    except ValueError:
        pass
    else:
        raise SystemExit('tampered message verified')


def key_entry(key, **extra):
    entry = {
        'curve': CURVE_NAMES[key.curve],
        'secret_key': None,  # filled by caller
        'public_key': key.public_key(),
        'public_key_hash': key.public_key_hash(),
        'public_key_hex': key.public_point.hex(),
    }
    entry.update(extra)
    return entry


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def make_keys():
    """Return a list of (label, Key, secret_key_string, json_entry)."""
    out = []

    for label, sk in (('bootstrap1', BOOTSTRAP1_SK), ('bootstrap2', BOOTSTRAP2_SK)):
        k = Key.from_encoded_key(sk)
        assert k.secret_key() == sk
        e = key_entry(k)
        e['secret_key'] = sk
        out.append((label, k, sk, e))

    # secp256k1 / p256 from fixed 32-byte secrets.
    for label, secret, curve in (('secp256k1_01_20', SECP256K1_SECRET, b'sp'), ('p256_21_40', P256_SECRET, b'p2')):
        k0 = Key.from_secret_exponent(secret, curve=curve)
        sk = k0.secret_key()
        k = Key.from_encoded_key(sk)  # round-trip through the base58 form
        assert k.public_point == k0.public_point and len(k.public_point) == 33
        e = key_entry(k, secret_key_hex=secret.hex())
        e['secret_key'] = sk
        out.append((label, k, sk, e))

    # ed25519 key given in the 64-byte (seed ‖ public key) "edsk…" 98-char form.
    seed_key = Key.from_encoded_key(BOOTSTRAP3_SK)
    sk64 = seed_key.secret_key(ed25519_seed=False)
    assert len(sk64) == 98
    k = Key.from_encoded_key(sk64)
    assert k.public_point == seed_key.public_point
    e = key_entry(k, secret_key_seed=BOOTSTRAP3_SK, secret_key_hex=base58_decode(sk64.encode()).hex())
    e['secret_key'] = sk64
    out.append(('bootstrap3_sk64', k, sk64, e))
    return out


def make_signatures(keys):
    sigs = []
    for ki, (_, key, sk, _) in enumerate(keys):
        for mi, msg in enumerate(MESSAGES):
            # Alternate so every message and every key gets both watermarks.
            watermark = b'\x03' if (ki + mi) % 2 else b''
            data = watermark + msg
            # pytezos call: Key.sign(watermark ‖ message) -> curve-specific
            # base58 (edsig/spsig1/p2sig); generic=True -> "sig…".
            sig = sign_twice(key, data)
            gsig = sign_twice(key, data, generic=True)
            raw = base58_decode(sig.encode())
            assert base58_decode(gsig.encode()) == raw and len(raw) == 64
            check_verify(key, sig, data)
            check_verify(key, gsig, data)
            sigs.append(
                {
                    'public_key': key.public_key(),
                    'secret_key': sk,
                    'message_hex': msg.hex(),
                    'watermark_hex': watermark.hex(),
                    'signed_digest_hex': blake2b(data, digest_size=32).hexdigest(),
                    'signature': sig,
                    'signature_hex': raw.hex(),
                    'generic_signature': gsig,
                }
            )
    return sigs


def manager(kind, source, counter, **fields):
    """Octez-JSON manager operation content with string-encoded numbers."""
    c = {
        'kind': kind,
        'source': source,
        'fee': '1000',
        'counter': str(counter),
        'gas_limit': '10000',
        'storage_limit': '300',
    }
    c.update(fields)
    return c


def operation_specs(keys):
    """Yield (name, signer Key, signer secret key, contents list)."""
    by = {label: (k, sk) for label, k, sk, _ in keys}
    b1, b1sk = by['bootstrap1']
    b2, _ = by['bootstrap2']
    sp, spsk = by['secp256k1_01_20']
    p2, p2sk = by['p256_21_40']
    b3, b3sk = by['bootstrap3_sk64']
    s1 = b1.public_key_hash()
    s2 = b2.public_key_hash()

    yield 'transaction_tz1_to_tz1', b1, b1sk, [
        manager('transaction', s1, 1, amount='1000000', destination=s2),
    ]
    yield 'transaction_kt1_default_int37', b1, b1sk, [
        manager('transaction', s1, 2, amount='0', destination=KT1,
                parameters={'entrypoint': 'default', 'value': {'int': '37'}}),
    ]
    # entrypoint "default" with value Unit: pytezos omits the parameters
    # (option byte 00), as Octez's encoding does.
    yield 'transaction_kt1_default_unit_elided', b1, b1sk, [
        manager('transaction', s1, 3, amount='5', destination=KT1,
                parameters={'entrypoint': 'default', 'value': {'prim': 'Unit'}}),
    ]
    yield 'transaction_kt1_named_entrypoint_mint', b1, b1sk, [
        manager('transaction', s1, 4, amount='0', destination=KT1,
                parameters={'entrypoint': 'mint',
                            'value': {'prim': 'Pair', 'args': [{'int': '-42'}, {'bytes': 'cafe'}]}}),
    ]
    # "do" is one of the reserved entrypoints pytezos encodes as one tag byte
    # (default 00, root 01, do 02, set_delegate 03, remove_delegate 04,
    # deposit 05, stake 06, unstake 07, finalize_unstake 08,
    # set_delegate_parameters 09); others are ff ‖ u8 length ‖ name.
    yield 'transaction_kt1_entrypoint_do', b1, b1sk, [
        manager('transaction', s1, 5, amount='0', destination=KT1,
                parameters={'entrypoint': 'do', 'value': {'prim': 'Unit'}}),
    ]
    yield 'transaction_kt1_entrypoint_root', b1, b1sk, [
        manager('transaction', s1, 6, amount='0', destination=KT1,
                parameters={'entrypoint': 'root', 'value': {'string': 'hi'}}),
    ]
    yield 'transaction_tz2_to_tz3_large_amount', sp, spsk, [
        manager('transaction', sp.public_key_hash(), 7, amount='123456789012', destination=p2.public_key_hash()),
    ]
    yield 'transaction_tz3_to_tz1', p2, p2sk, [
        manager('transaction', p2.public_key_hash(), 8, amount='1', destination=s1),
    ]
    yield 'reveal_bootstrap1', b1, b1sk, [
        manager('reveal', s1, 1, public_key=b1.public_key()),
    ]
    yield 'reveal_secp256k1', sp, spsk, [
        manager('reveal', sp.public_key_hash(), 1, public_key=sp.public_key()),
    ]
    yield 'reveal_p256', p2, p2sk, [
        manager('reveal', p2.public_key_hash(), 1, public_key=p2.public_key()),
    ]
    yield 'origination_tiny_unit_contract', b1, b1sk, [
        manager('origination', s1, 9, balance='0', script={'code': TINY_CODE, 'storage': {'prim': 'Unit'}}),
    ]
    # NB: the Octez JSON field is "message" (singular), a list of hex strings.
    yield 'smart_rollup_add_messages_two', b1, b1sk, [
        manager('smart_rollup_add_messages', s1, 10,
                message=['68656c6c6f', '00f4e47cb3c43a68b0d48e3094092ca42d713addb568656c6c6f']),
    ]
    yield 'smart_rollup_add_messages_single_empty', b1, b1sk, [
        manager('smart_rollup_add_messages', s1, 11, message=['']),
    ]
    yield 'smart_rollup_execute_outbox_message', b1, b1sk, [
        manager('smart_rollup_execute_outbox_message', s1, 12, rollup=ROLLUP,
                cemented_commitment=COMMITMENT, output_proof='deadbeef0102'),
    ]
    # Other smart-rollup kinds: attempted, kept only if pytezos can forge them.
    yield 'smart_rollup_originate', b1, b1sk, [
        manager('smart_rollup_originate', s1, 13, pvm_kind='wasm_2_0_0', kernel='0061736d01000000',
                parameters_ty={'prim': 'bytes'}),
    ]
    yield 'smart_rollup_cement', b1, b1sk, [
        manager('smart_rollup_cement', s1, 14, rollup=ROLLUP),
    ]
    yield 'smart_rollup_publish', b1, b1sk, [
        manager('smart_rollup_publish', s1, 15, rollup=ROLLUP,
                commitment={'compressed_state': 'srs11y1ZCJfeWnHzoX3rAjcTXiphwg8NvqQhvishP3PU68jgSREuk6',
                            'inbox_level': 2, 'predecessor': COMMITMENT, 'number_of_ticks': '1000'}),
    ]
    yield 'smart_rollup_refute', b1, b1sk, [
        manager('smart_rollup_refute', s1, 16, rollup=ROLLUP, opponent=s2,
                refutation={'refutation_kind': 'start', 'player_commitment_hash': COMMITMENT,
                            'opponent_commitment_hash': COMMITMENT}),
    ]
    yield 'smart_rollup_timeout', b1, b1sk, [
        manager('smart_rollup_timeout', s1, 17, rollup=ROLLUP, stakers={'alice': s1, 'bob': s2}),
    ]
    yield 'smart_rollup_recover_bond', b1, b1sk, [
        manager('smart_rollup_recover_bond', s1, 18, rollup=ROLLUP, staker=s1),
    ]
    # A batch signed once: reveal + transaction from the same (fresh) account.
    s3 = b3.public_key_hash()
    yield 'group_reveal_and_transaction', b3, b3sk, [
        manager('reveal', s3, 1, public_key=b3.public_key()),
        manager('transaction', s3, 2, amount='1000000', destination=s1),
    ]


def make_operations(keys):
    ops, supported, unsupported = [], [], []
    for name, key, sk, contents in operation_specs(keys):
        try:
            for c in contents:
                forge_operation(c)
        except NotImplementedError:
            unsupported.append(contents[0]['kind'])
            continue
        for c in contents:
            if c['kind'] not in supported:
                supported.append(c['kind'])

        forged = forge_operation_group({'branch': BRANCH, 'contents': contents})
        # Sign the generic-operation-watermarked bytes: Key.sign(03 ‖ forged).
        sig = sign_twice(key, b'\x03' + forged)
        gsig = sign_twice(key, b'\x03' + forged, generic=True)
        raw = base58_decode(sig.encode())
        check_verify(key, sig, b'\x03' + forged)
        signed = forged + raw
        op_hash = base58_encode(blake2b(signed, digest_size=32).digest(), b'o').decode()

        # Cross-check against pytezos' higher-level OperationGroup path
        # (forge / sign with watermark 03 / hash), offline.
        opg = OperationGroup(context=ExecutionContext(key=key), contents=contents, branch=BRANCH)
        assert opg.forge() == forged.hex()
        opg = opg.sign()
        assert opg.signature == gsig, (name, opg.signature, gsig)
        assert opg.hash() == op_hash

        ops.append(
            {
                'name': name,
                'contents': contents,
                'branch': BRANCH,
                'forged_hex': forged.hex(),
                'signer_secret_key': sk,
                'signer_public_key': key.public_key(),
                'signature': sig,
                'signature_hex': raw.hex(),
                'generic_signature': gsig,
                'signed_hex': signed.hex(),
                'operation_hash': op_hash,
            }
        )
    return ops, supported, unsupported


def make_base58(keys, ops):
    out = [
        b58_entry(ROLLUP),
        b58_entry(COMMITMENT),
    ]
    for _, key, sk, _ in keys:
        out.append(b58_entry(key.public_key_hash()))
    for _, key, sk, _ in keys:
        out.append(b58_entry(key.public_key()))
        out.append(b58_entry(sk))
    out.append(b58_entry(KT1))
    out.append(b58_entry(BRANCH))
    for op in ops:
        out.append(b58_entry(op['operation_hash']))

    # Script-expression hash: blake2b-256 of the PACKed value (05 ‖ Micheline
    # binary).  The packing goes through pytezos' Michelson type system and is
    # cross-checked against 05 ‖ forge_micheline(value).
    packed = MichelsonType.match({'prim': 'int'}).from_micheline_value(SCRIPT_EXPR_VALUE).pack()
    assert packed == b'\x05' + forge_micheline(SCRIPT_EXPR_VALUE)
    expr = forge_script_expr(packed)
    out.append(b58_entry(expr, micheline=SCRIPT_EXPR_VALUE, michelson_type='int', packed_hex=packed.hex()))

    out.append(b58_entry(CHAIN_ID))
    for p in PROTOCOL_HASHES:
        out.append(b58_entry(p))
    # Round-trip every entry through base58_encode as well.
    for e in out:
        assert base58_encode(bytes.fromhex(e['hex']), next(
            x[0] for x in base58_encodings if x[4] == e['prefix_name'])).decode() == e['base58']
    return out


def high_s_count(sigs, curve_n, prefix):
    return sum(
        1 for s in sigs if s['signature'].startswith(prefix)
        and int(s['signature_hex'][64:], 16) > curve_n // 2
    )


def generate(out_path):
    keys = make_keys()
    sigs = make_signatures(keys)
    ops, supported, unsupported = make_operations(keys)
    base58 = make_base58(keys, ops)

    op_sigs = [{'signature': o['signature'], 'signature_hex': o['signature_hex']} for o in ops]
    p2_high = high_s_count(sigs + op_sigs, P256_N, 'p2sig')
    p2_total = sum(1 for s in sigs + op_sigs if s['signature'].startswith('p2sig'))
    sp_high = high_s_count(sigs + op_sigs, SECP256K1_N, 'spsig')
    reveal = next(o for o in ops if o['name'] == 'reveal_bootstrap1')

    notes = ' '.join([
        f'Generated by tools/vectors/make_pytezos_vectors.py with pytezos {pytezos.__version__}',
        f'(fastecdsa {FASTECDSA_VERSION}; fastecdsa >= 4 breaks pytezos p256 keys).',
        'Signatures: pytezos Key.sign(bytes.fromhex(watermark_hex + message_hex)) (generic=False gives',
        'edsig/spsig1/p2sig, generic=True gives sig...); the key BLAKE2b-256-hashes its input',
        '(signed_digest_hex) and signs the 32-byte digest (Ed25519 signs the digest as its message).',
        'watermark_hex alternates between "" and "03" over (key index + message index).',
        'Determinism: every signature was produced twice and compared; all are deterministic.',
        'Ed25519 is deterministic by construction; secp256k1 (coincurve/libsecp256k1) uses RFC 6979',
        'with HMAC-SHA256 over the digest and low-S normalisation',
        f'({sp_high} high-S spsig values);',
        'p256 (fastecdsa) uses RFC 6979 whose HMAC uses BLAKE2b-256 (the hashfunc passed by pytezos),',
        'NOT HMAC-SHA256, and does not normalise s',
        f'({p2_high} of {p2_total} p2sig values here have s > n/2),',
        'so an implementation using standard RFC 6979 (HMAC-SHA256) will not reproduce p2sig bytes',
        'but must still verify them (accepting high s).',
        'Operations: forged with pytezos.operation.forge.forge_operation_group({branch, contents});',
        'signature = Key.sign(03 || forged_hex); signed_hex = forged || 64-byte signature;',
        'operation_hash = base58(o, blake2b-256(signed_hex)); each was cross-checked against',
        'pytezos OperationGroup.forge()/sign()/hash().',
        f'Operation kinds pytezos can forge (and are included): {", ".join(supported)}.',
        f'Attempted but unsupported by pytezos (skipped): {", ".join(unsupported) or "none"}.',
        'Reveal: pytezos appends a trailing option byte for the (BLS) proof field;',
        f'with no proof it is 00 (reveal_bootstrap1 forged content ends in ...{reveal["forged_hex"][-8:]}),',
        'matching the Octez encoding of recent protocols whose reveal ends with an optional BLS',
        'proof-of-possession field ("proof", for tz4 keys); older protocols (e.g. Paris) had no such byte.',
        'Transaction parameters {entrypoint default, value Unit} are omitted (option byte 00).',
        'Reserved entrypoints are single tag bytes (default 00, root 01, do 02, set_delegate 03,',
        'remove_delegate 04, deposit 05, stake 06, unstake 07, finalize_unstake 08,',
        'set_delegate_parameters 09); other names are ff || u8 length || name.',
        f'The src1 commitment {COMMITMENT} is base58(src1 prefix || {COMMITMENT_BYTES.hex()}).',
        'base58 entries: hex is the payload without the binary prefix (prefix_hex);',
        'prefix_name is the pytezos data-type name.',
    ])

    doc = {
        'pytezos_version': pytezos.__version__,
        'notes': notes,
        'keys': [e for _, _, _, e in keys],
        'signatures': sigs,
        'operations': ops,
        'base58': base58,
    }
    text = json.dumps(doc, indent=2, ensure_ascii=True) + '\n'
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, 'w') as f:
        f.write(text)
    print(f'wrote {out_path}: {len(sigs)} signatures, {len(ops)} operations, {len(base58)} base58 values')
    print(f'supported kinds: {supported}; unsupported: {unsupported}')


# ---------------------------------------------------------------------------
# Verification mode
# ---------------------------------------------------------------------------


def verify(path):
    with open(path) as f:
        entries = json.load(f)
    if isinstance(entries, dict):
        entries = entries['signatures']
    failures = 0
    for i, e in enumerate(entries):
        try:
            data = bytes.fromhex(e.get('watermark_hex', '') + e['message_hex'])
            key = Key.from_encoded_key(e['public_key'])
            ok = key.verify(e['signature'], data) is True
            err = ''
        except Exception as exc:  # pytezos raises ValueError on bad signatures
            ok, err = False, f' ({type(exc).__name__}: {exc})'
        failures += not ok
        print(f'{i}: {"OK" if ok else "FAIL"} {e.get("public_key", "?")[:12]}… {e.get("signature", "?")[:14]}…{err}')
    print(f'{len(entries) - failures} passed, {failures} failed')
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == 'verify':
        if len(argv) != 3:
            print(__doc__, file=sys.stderr)
            return 2
        return verify(argv[2])
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ('-h', '--help')):
        print(__doc__, file=sys.stderr)
        return 2
    generate(argv[1] if len(argv) == 2 else DEFAULT_OUT)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
