#!/usr/bin/env python3
"""Forges and signs Tezos operations with pytezos, offline, for soru's L1
tests: reads one JSON object on stdin and prints, one per line, the signed
bytes (hex) of a tez transaction and of a smart_rollup_add_messages, each
from `secret_key` on `branch`, with counters `counter` and `counter + 1`.

Input: {"secret_key", "branch", "counter", "destination", "amount", "fee",
        "gas_limit", "storage_limit", "messages": [hex, ...]}
"""
import json
import sys

from pytezos.crypto.key import Key
from pytezos.michelson.forge import forge_base58
from pytezos.operation.forge import forge_operation_group

GENERIC_OPERATION = b"\x03"


def signed_bytes(key, branch, content):
    forged = forge_operation_group({"branch": branch, "contents": [content]})
    signature = key.sign(GENERIC_OPERATION + forged, generic=True)
    if not key.verify(signature, GENERIC_OPERATION + forged):
        raise SystemExit("pytezos made a signature it cannot verify")
    return (forged + forge_base58(signature)).hex()


def main():
    request = json.load(sys.stdin)
    key = Key.from_encoded_key(request["secret_key"])
    source = key.public_key_hash()
    header = {
        "source": source,
        "fee": str(request["fee"]),
        "gas_limit": str(request["gas_limit"]),
        "storage_limit": str(request["storage_limit"]),
    }
    counter = int(request["counter"])
    transaction = dict(header, kind="transaction", counter=str(counter),
                       amount=str(request["amount"]), destination=request["destination"])
    add_messages = dict(header, kind="smart_rollup_add_messages", counter=str(counter + 1),
                        message=[bytes.fromhex(m).hex() for m in request["messages"]])
    for content in (transaction, add_messages):
        print(signed_bytes(key, request["branch"], content))


if __name__ == "__main__":
    main()
