#!/usr/bin/env python3
"""Differential-test oracle: run Michelson scripts with pytezos' Python interpreter.

Usage:  .ci/venv/bin/python interpret.py < cases.json > results.json

stdin is a JSON array of cases (a single object is accepted too). Each case:

  {"name": str,
   "code": [<parameter>, <storage>, <code>, <view>...]   # Micheline JSON of the full script
   "entrypoint": "default" | "<name>",                   # optional, default "default"
   "parameter": <Micheline>, "storage": <Micheline>,
   "amount": int, "balance": int,                        # mutez; optional (pytezos default 0)
   "sender": "tz1…|KT1…", "source": "tz1…", "self_address": "KT1…",
   "now": int (unix s), "level": int, "chain_id": "Net…",
   # optional extras:
   "contracts": {"KT1…|sr1…|tz1…": <Micheline parameter TYPE>},  # what CONTRACT/TRANSFER_TOKENS see
   "strict_contracts": bool,   # CONTRACT returns None for addresses not in "contracts"
                               # (tz1/tz2/tz3/tz4 default to `parameter unit`) and for unknown
                               # entrypoints / mismatching types, as on chain. Default false:
                               # pytezos' own behaviour (CONTRACT is Some for ANY address).
   "octez_compat": bool,       # opt-in patches for pytezos deviations with a clear Octez answer:
                               # SUB_MUTEZ underflow -> None (pytezos raises), SUB on mutez is a
                               # type error, LAMBDA_REC body stack is `arg : self` (pytezos:
                               # `self : arg`), SPLIT_TICKET with a 0 amount -> None, address
                               # order implicit < KT1 < sr1 (pytezos: sr1 < tz1), ADDRESS keeps
                               # the entrypoint `KT1…%ep` (pytezos drops it). Default false.
   "timeout": float seconds (default 10), "trace": bool (include pytezos' stdout trace)}

Always-on crash fixes (no semantic change): values containing tickets can be returned in the
storage/operations (pytezos crashed with "forbidden"), JOIN_TICKETS/SPLIT_TICKET build typed
tickets (pytezos crashed with IndexError / failed the END type check).

stdout is a JSON array, one result per case, in input order:

  {"name", "ok": true, "storage": <Micheline, Readable>, "operations": [<op>...],
   "lazy_diff": [...], "time_ms": float}
  {"name", "ok": false, "error": <category>, "message": str, "time_ms": float
   [, "value": <Micheline>]}            # "value" only for error == "FAILWITH"

Operations are pytezos' dicts (Octez JSON conventions, amounts as decimal strings):
  {"kind": "transaction", "source", "destination", "amount": "N",
   "parameters": {"entrypoint": str, "value": <Micheline>}}
  {"kind": "origination", "source", "script": {"code", "storage"}, "balance": "N"[, "delegate"]}
  {"kind": "delegation", "source", "delegate": str|null}
  {"kind": "event", "source", "event_type", "payload", "tag"}

Error categories: "FAILWITH", "overflow" (mutez overflow, shift > 256), "mutez_underflow",
"timeout", "needs_network" (e.g. GET on a big_map given by id: pytezos would ask a node),
"parse" (unknown primitive / malformed script), "typecheck" (a pytezos dynamic type assertion
failed, including ill-typed parameter/storage values and stack underflow; pytezos has no static
typechecker, see notes), "bad_case" (malformed case JSON) or "<ExceptionClass>" otherwise
(e.g. "NotImplementedError" for OPEN_CHEST). Failures also carry "stage":
parse | instantiate (parameter/storage values) | execute.

Notes: /tmp/pytezos-interpreter-notes.md (API, instruction table, deviations from Octez).
"""
import json
import logging
import signal
import sys
import time
from copy import copy

_T0 = time.time()

from pytezos.context.impl import ExecutionContext  # noqa: E402
from pytezos.crypto.encoding import is_pkh  # noqa: E402
from pytezos.michelson.instructions.arithmetic import SubInstruction  # noqa: E402
from pytezos.michelson.instructions.arithmetic import SubMutezInstruction  # noqa: E402
from pytezos.michelson.instructions.control import FailwithInstruction  # noqa: E402
from pytezos.michelson.instructions.control import LambdaRecInstruction  # noqa: E402
from pytezos.michelson.instructions.stack import SwapInstruction  # noqa: E402
from pytezos.michelson.instructions.tezos import AddressInstruction  # noqa: E402
from pytezos.michelson.instructions.tezos import ContractInstruction  # noqa: E402
from pytezos.michelson.micheline import MichelineSequence  # noqa: E402
from pytezos.michelson.micheline import MichelsonRuntimeError  # noqa: E402
from pytezos.michelson.program import MichelsonProgram  # noqa: E402
from pytezos.michelson.sections import ParameterSection  # noqa: E402
from pytezos.michelson.stack import MichelsonStack  # noqa: E402
from pytezos.michelson.types import AddressType  # noqa: E402
from pytezos.michelson.types import ContractType  # noqa: E402
from pytezos.michelson.types import LambdaType  # noqa: E402
from pytezos.michelson.types import MutezType  # noqa: E402
from pytezos.michelson.types import OptionType  # noqa: E402
from pytezos.michelson.types import TicketType  # noqa: E402

IMPORT_SECONDS = time.time() - _T0


# --- FAILWITH: keep the failed value as a Michelson value (pytezos only keeps its repr()). ---
class FailwithError(Exception):
    def __init__(self, value):
        super().__init__('FAILWITH', repr(value))
        self.value = value


def _failwith_execute(cls, stack, stdout, context):
    a = stack.pop1()
    assert a.is_packable(), f'expected packable type, got {a.prim}'
    raise FailwithError(a)


# Assigned after class creation, so it is not wrapped by ErrorTrace; the enclosing instruction
# wrappers turn it into MichelsonRuntimeError(...) `from` it, and we walk __cause__ below.
FailwithInstruction.execute = classmethod(_failwith_execute)


# --- CONTRACT: optional on-chain-like lookup ---------------------------------------------
_orig_contract_execute = ContractInstruction.__dict__['execute'].__func__


def _contract_execute(cls, stack, stdout, context):
    if not getattr(context, 'strict_contracts', False):
        return _orig_contract_execute(cls, stack, stdout, context)
    annot_ep = next(iter(cls.field_names), None)
    address = str(stack.pop1())
    addr, _, addr_ep = address.partition('%')
    if addr_ep and annot_ep and addr_ep != annot_ep:
        entrypoint = None  # both the address and the instruction name an entrypoint: None
    else:
        entrypoint = addr_ep or annot_ep or 'default'
    contract_type = ContractType.create_type(args=cls.args)
    expr = context.get_parameter_expr(addr)
    ok = False
    if expr is not None and entrypoint is not None:
        entrypoints = ParameterSection.match(expr).list_entrypoints()
        if entrypoint in entrypoints:
            try:
                entrypoints[entrypoint].assert_type_equal(cls.args[0])
                ok = True
            except (AssertionError, MichelsonRuntimeError):
                ok = False
    if ok:
        res = OptionType.from_some(contract_type.from_value(f'{addr}%{entrypoint}'))
    else:
        res = OptionType.none(contract_type)
    stack.push(res)
    stdout.append(f'CONTRACT (strict) / {address} => {res!r}')
    return cls(stack_items_added=1)


ContractInstruction.execute = classmethod(_contract_execute)



# --- crash fixes (always on; they do not change Michelson semantics) ------------------------
# a) Any storage/operation value containing a ticket crashed in END with "forbidden":
#    MichelsonType.aggregate_lazy_diff() copy()s the value and TicketType.__copy__ forbids it.
TicketType.aggregate_lazy_diff = lambda self, lazy_diff, mode='readable': self


# b) JOIN_TICKETS / SPLIT_TICKET built results with the *untyped* base class TicketType
#    (no args), so JOIN_TICKETS crashed with IndexError and split halves failed END's type check.
def _ticket_join(left, right):
    left.assert_type_equal(type(right))
    if left.ticketer != right.ticketer or left.item != right.item:
        return None
    return type(left)(ticketer=left.ticketer, item=left.item, amount=left.amount + right.amount)


def _ticket_split(self, amount_left, amount_right):
    if amount_left + amount_right != self.amount:
        return None
    if COMPAT['on'] and (amount_left == 0 or amount_right == 0):
        return None  # octez_compat: zero-amount tickets are forbidden since Lima
    return (type(self)(ticketer=self.ticketer, item=copy(self.item), amount=amount_left),
            type(self)(ticketer=self.ticketer, item=copy(self.item), amount=amount_right))


TicketType.join = staticmethod(_ticket_join)
TicketType.split = _ticket_split

# --- opt-in Octez-compatibility patches (case field "octez_compat": true) ------------------
COMPAT = {'on': False}

_orig_sub_mutez = SubMutezInstruction.__dict__['execute'].__func__
_orig_sub = SubInstruction.__dict__['execute'].__func__
_orig_lambda_rec = LambdaRecInstruction.__dict__['execute'].__func__
_orig_addr_lt = AddressType.__lt__


def _top2(stack):
    # MichelsonStack keeps the top at items[protected] (DIP protects the first `protected`).
    p = stack.protected
    if len(stack.items) - p < 2:
        return None, None
    return stack.items[p], stack.items[p + 1]


def _sub_mutez_execute(cls, stack, stdout, context):
    # pytezos: underflow raises (MutezType.from_value asserts >= 0). Octez: None.
    if COMPAT['on']:
        a, b = _top2(stack)
        if isinstance(a, MutezType) and isinstance(b, MutezType) and int(a) < int(b):
            stack.pop2()
            res = OptionType.none(MutezType)
            stack.push(res)
            stdout.append(f'SUB_MUTEZ / {a!r} : {b!r} => None')
            return cls(stack_items_added=1)
    return _orig_sub_mutez(cls, stack, stdout, context)


def _sub_execute(cls, stack, stdout, context):
    # pytezos still accepts SUB on mutez (removed in Ithaca; SUB_MUTEZ replaced it).
    if COMPAT['on']:
        a, b = _top2(stack)
        if isinstance(a, MutezType) and isinstance(b, MutezType):
            raise TypeError('SUB on mutez is not allowed since Ithaca (use SUB_MUTEZ)')
    return _orig_sub(cls, stack, stdout, context)


def _lambda_rec_execute(cls, stack, stdout, context):
    # pytezos runs the body with `lambda : arg`; Octez (and MIR) run it with `arg : lambda`.
    if not COMPAT['on']:
        return _orig_lambda_rec(cls, stack, stdout, context)
    lambda_type = LambdaType.create_type(args=cls.args[:2])
    inner = LambdaRecInstruction.create_type(args=cls.args.copy())
    inner.depth = cls.depth + 1
    if cls.depth + 1 > 256:
        raise MichelsonRuntimeError('Maximum recursive depth reached')
    body = MichelineSequence.create_type(args=[inner, SwapInstruction, cls.args[2]])
    res = lambda_type(body)
    stack.push(res)
    stdout.append(f'LAMBDA_REC / _ => {res!r}')
    return cls(stack_items_added=1)


_ADDR_RANK = {'tz': 0, 'KT': 1, 'tx': 2, 'sr': 3, 'zk': 4}


def _addr_key(value):
    addr, _, ep = value.partition('%')
    return (_ADDR_RANK.get(addr[:2], 9), addr, ep)


def _addr_lt(self, other):
    # Octez orders addresses by binary encoding: implicit < originated < (txr) < smart rollup.
    # pytezos only special-cases tz vs KT and falls back to string order (so sr1 < tz1).
    if COMPAT['on']:
        return _addr_key(self.value) < _addr_key(other.value)
    return _orig_addr_lt(self, other)


_orig_address = AddressInstruction.__dict__['execute'].__func__


def _address_execute(cls, stack, stdout, context):
    # pytezos' ADDRESS drops the entrypoint (ContractType.get_address); Octez keeps `KT1…%ep`.
    if not COMPAT['on']:
        return _orig_address(cls, stack, stdout, context)
    contract = stack.pop1()
    contract.assert_type_in(ContractType)
    ep = contract.get_entrypoint()
    addr = contract.get_address() if ep == 'default' else f'{contract.get_address()}%{ep}'
    res = AddressType.from_value(addr)
    stack.push(res)
    stdout.append(f'ADDRESS / {contract!r} => {res!r}')
    return cls(stack_items_added=1)


AddressInstruction.execute = classmethod(_address_execute)
SubMutezInstruction.execute = classmethod(_sub_mutez_execute)
SubInstruction.execute = classmethod(_sub_execute)
LambdaRecInstruction.execute = classmethod(_lambda_rec_execute)
AddressType.__lt__ = _addr_lt


class CaseContext(ExecutionContext):
    """ExecutionContext with a local table of known contracts instead of an RPC node."""

    def __init__(self, contracts=None, strict_contracts=False, **kwargs):
        super().__init__(**kwargs)
        self.known_contracts = dict(contracts or {})
        self.strict_contracts = strict_contracts

    def get_parameter_expr(self, address=None):
        if address:
            addr = address.split('%')[0]
            ty = self.known_contracts.get(addr)
            if ty is None and self.strict_contracts and is_pkh(addr):
                ty = {'prim': 'unit'}
            if ty is None:
                return None  # pytezos: "skip type checking" -> CONTRACT is Some
            if isinstance(ty, dict) and ty.get('prim') == 'parameter':
                return ty
            return {'prim': 'parameter', 'args': [ty]}
        return super().get_parameter_expr(address)


# --- error classification -----------------------------------------------------------------
def _chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


class CaseTimeout(Exception):
    pass


def _message(exc):
    if isinstance(exc, MichelsonRuntimeError):
        try:
            return exc.format_stdout()
        except Exception:  # noqa: BLE001
            pass
    return ' -> '.join(str(a) for a in exc.args) if exc.args else type(exc).__name__


def classify(exc, stage):
    chain = _chain(exc)
    root = chain[-1]
    msg = _message(exc)
    for e in chain:
        if isinstance(e, FailwithError):
            return {'error': 'FAILWITH', 'value': e.value.to_micheline_value(mode='readable'), 'message': msg}
    for e in chain:
        if isinstance(e, CaseTimeout):
            return {'error': 'timeout', 'message': msg}
    for e in chain:
        if isinstance(e, OverflowError):
            return {'error': 'overflow', 'message': msg}
    if 'shift overflow' in msg:
        return {'error': 'overflow', 'message': msg}
    if 'expected natural number, got -' in msg and ('mutez' in msg or 'SUB' in msg):
        return {'error': 'mutez_underflow', 'message': msg}
    if 'hell is undefined' in msg:
        return {'error': 'needs_network', 'message': msg}
    if 'unregistered primitive' in msg or stage == 'parse':
        return {'error': 'parse', 'message': msg, 'exception': type(root).__name__}
    # pytezos signals type errors (ill-typed parameter/storage values, wrong stack types, stack
    # underflow, non-duplicable DUP, ...) with bare `assert`s / `Exception(...)`.
    if type(root) in (AssertionError, TypeError, KeyError, IndexError, ValueError, Exception, StopIteration):
        return {'error': 'typecheck', 'message': msg, 'exception': type(root).__name__}
    return {'error': type(root).__name__, 'message': msg}


def _on_alarm(signum, frame):
    raise CaseTimeout('timeout')


# --- one case -----------------------------------------------------------------------------
def run_case(case):
    code = case['code']
    storage = case['storage']
    parameter = case.get('parameter', {'prim': 'Unit'})
    entrypoint = case.get('entrypoint') or 'default'
    if entrypoint.startswith('%'):
        entrypoint = entrypoint[1:]
    COMPAT['on'] = bool(case.get('octez_compat', False))
    context = CaseContext(
        contracts=case.get('contracts'),
        strict_contracts=bool(case.get('strict_contracts', False)),
        amount=case.get('amount'),
        balance=case.get('balance'),
        sender=case.get('sender'),
        source=case.get('source'),
        address=case.get('self_address'),
        now=case.get('now'),
        level=case.get('level'),
        chain_id=case.get('chain_id'),
        script={'code': code, 'storage': storage},
    )
    stack = MichelsonStack()
    stdout = []
    stage = 'parse'
    try:
        program = MichelsonProgram.load(context, with_code=True)
        stage = 'instantiate'
        res = program.instantiate(entrypoint=entrypoint, parameter=parameter, storage=storage)
        stage = 'execute'
        res.begin(stack, stdout, context)
        res.execute(stack, stdout, context)
        operations, new_storage, lazy_diff, _ = res.end(stack, stdout, output_mode='readable')
        out = {'ok': True, 'storage': new_storage, 'operations': operations, 'lazy_diff': lazy_diff}
    except Exception as e:  # noqa: BLE001
        out = {'ok': False, 'stage': stage}
        out.update(classify(e, stage))
    if case.get('trace'):
        out['trace'] = stdout
    return out


def main():
    sys.setrecursionlimit(20000)
    logging.disable(logging.WARNING)  # pytezos warns on every external VIEW
    raw = sys.stdin.read()
    cases = json.loads(raw)
    if isinstance(cases, dict):
        cases = [cases]
    use_alarm = hasattr(signal, 'setitimer')
    if use_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
    results = []
    for i, case in enumerate(cases):
        name = case.get('name', f'case{i}') if isinstance(case, dict) else f'case{i}'
        t = time.perf_counter()
        try:
            if not isinstance(case, dict) or 'code' not in case or 'storage' not in case:
                raise KeyError('case needs "code" and "storage"')
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, float(case.get('timeout', 10)))
            try:
                out = run_case(case)
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except CaseTimeout as e:
            out = {'ok': False, 'error': 'timeout', 'message': str(e)}
        except Exception as e:  # noqa: BLE001
            out = {'ok': False, 'error': 'bad_case', 'message': f'{type(e).__name__}: {e}'}
        out = {'name': name, **out, 'time_ms': round((time.perf_counter() - t) * 1000, 3)}
        results.append(out)
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write('\n')
    sys.stderr.write(f'pytezos import {IMPORT_SECONDS:.3f}s, {len(results)} cases\n')


if __name__ == '__main__':
    main()
