//! Per-instruction tests of the typechecker and the interpreter: each
//! instruction on small scripts, with the failures Michelson defines
//! (type errors, FAILWITH, overflow, gas exhaustion, ticket misuse).

use std::collections::BTreeMap;

use soru_core::base58::{ChainId, ContractKt1Hash};
use soru_core::micheline::Micheline;
use soru_core::PublicKeyHash;
use soru_michelson::{
    run_script, unparse, Address, ChainView, Checker, Destination, Env, Form, Gas, RuntimeError, ScriptError, Type,
    Value,
};

const SELF: &str = "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq";
const OTHER: &str = "KT1VD4SdQF2ruNNTCE1aTWErmGz9tN4Mg8F5";
const ALICE: &str = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
const BOB: &str = "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN";
const ROLLUP: &str = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57";

/// A chain with two contracts and a rollup taking `bytes`.
struct TestChain(BTreeMap<(String, String), Type>);

impl TestChain {
    fn new() -> Self {
        let mut known = BTreeMap::new();
        known.insert((OTHER.to_string(), String::new()), Type::Nat);
        known.insert((OTHER.to_string(), "deposit".to_string()), Type::String);
        known.insert((ROLLUP.to_string(), String::new()), Type::Bytes);
        Self(known)
    }
}

impl ChainView for TestChain {
    fn accepts(&self, destination: &Destination, entrypoint: &str, ty: &Type) -> bool {
        let base = Address {
            destination: *destination,
            entrypoint: String::new(),
        }
        .to_text();
        if matches!(destination, Destination::Implicit(_)) {
            return entrypoint.is_empty() && matches!(ty, Type::Unit | Type::Ticket(_));
        }
        self.0.get(&(base, entrypoint.to_string())) == Some(ty)
    }
}

/// A call's facts: sent by alice, signed by bob, on a chain at level 42.
fn env<'a>(sender: &'a Address, chain: &'a TestChain, amount: u64) -> Env<'a> {
    Env {
        self_address: ContractKt1Hash::from_base58(SELF).unwrap(),
        sender,
        source: PublicKeyHash::from_base58(BOB).unwrap(),
        amount,
        balance: 1_000_000 + amount,
        now: 1_700_000_000,
        level: 42,
        chain_id: ChainId([1, 2, 3, 4]),
        chain,
    }
}

fn expr(text: &str) -> Micheline {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn script_text(parameter: &str, storage: &str, code: &str) -> Micheline {
    expr(&format!(
        "{{ parameter ({parameter}) ; storage ({storage}) ; code {code} }}"
    ))
}

fn typecheck(parameter: &str, storage: &str, code: &str) -> Result<soru_michelson::Script, ScriptError> {
    let mut gas = Gas::new(100_000_000);
    Checker::new(&mut gas).check_script(&script_text(parameter, storage, code))
}

struct Call<'a> {
    parameter_ty: &'a str,
    storage_ty: &'a str,
    code: &'a str,
    gas: u64,
    amount: u64,
}

fn call_with(
    c: &Call<'_>,
    parameter: &str,
    storage: &str,
) -> Result<(String, Vec<soru_michelson::Transfer>), RuntimeError> {
    let mut gas = Gas::new(c.gas);
    let chain = TestChain::new();
    let script = Checker::new(&mut gas)
        .with_chain(&chain)
        .check_script(&script_text(c.parameter_ty, c.storage_ty, c.code))
        .unwrap_or_else(|e| panic!("{}: {e}", c.code));
    let parameter_ty = script.entrypoints.root().clone();
    let parameter = Checker::new(&mut gas)
        .with_chain(&chain)
        .parse_value(&parameter_ty, &expr(parameter))
        .unwrap();
    let storage = Checker::new(&mut gas)
        .parse_value(&script.storage, &expr(storage))
        .unwrap();
    let sender = Address::from_text(ALICE).unwrap();
    let env = env(&sender, &chain, c.amount);
    let outcome = run_script(&script, "default", parameter, storage, &env, &mut gas)?;
    Ok((
        unparse(&script.storage, &outcome.storage, Form::Readable).to_string(),
        outcome.operations,
    ))
}

/// Runs `code` (a script whose parameter is `parameter_ty`) and returns
/// the new storage in Readable form.
fn call(
    parameter_ty: &str,
    storage_ty: &str,
    code: &str,
    parameter: &str,
    storage: &str,
) -> Result<String, RuntimeError> {
    call_with(
        &Call {
            parameter_ty,
            storage_ty,
            code,
            gas: 10_000_000,
            amount: 0,
        },
        parameter,
        storage,
    )
    .map(|(s, _)| s)
}

/// Runs `code` on parameter `input` of `input_ty` leaving a value of
/// `output_ty` (stored as an option), and returns it.
fn eval(input_ty: &str, output_ty: &str, code: &str, input: &str) -> Result<String, RuntimeError> {
    let stored = call(
        input_ty,
        &format!("option ({output_ty})"),
        &format!("{{ CAR ; {code} ; SOME ; NIL operation ; PAIR }}"),
        input,
        "None",
    )?;
    let inner = stored.strip_prefix("Some ").expect("stored as Some");
    Ok(match inner.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(unwrapped) => unwrapped.to_string(),
        None => inner.to_string(),
    })
}

fn ok(result: Result<String, RuntimeError>) -> String {
    result.unwrap_or_else(|e| panic!("unexpected failure: {e}"))
}

#[test]
fn stack_instructions() {
    assert_eq!(ok(eval("nat", "nat", "DUP ; DROP", "5")), "5");
    assert_eq!(
        ok(eval(
            "nat",
            "pair nat nat nat",
            "PUSH nat 1 ; PUSH nat 2 ; DIG 2 ; PAIR 3",
            "7"
        )),
        "Pair 7 2 1"
    );
    assert_eq!(
        ok(eval(
            "nat",
            "pair nat nat nat",
            "PUSH nat 1 ; PUSH nat 2 ; DUG 2 ; PAIR 3",
            "7"
        )),
        "Pair 1 7 2"
    );
    assert_eq!(
        ok(eval("nat", "pair nat nat", "PUSH nat 1 ; SWAP ; PAIR", "7")),
        "Pair 7 1"
    );
    assert_eq!(
        ok(eval(
            "nat",
            "pair nat nat nat",
            "PUSH nat 1 ; PUSH nat 2 ; DIP 2 { PUSH nat 10 ; ADD } ; PAIR 3",
            "7"
        )),
        "Pair 2 1 17"
    );
    assert_eq!(
        ok(eval(
            "nat",
            "pair nat nat nat",
            "PUSH nat 1 ; DUP 2 ; DROP 0 ; PAIR 3",
            "7"
        )),
        "Pair 7 1 7"
    );
    assert!(typecheck("nat", "nat", "{ DROP 2 ; NIL operation ; PAIR }").is_err());
    assert!(typecheck("nat", "nat", "{ DUP 0 ; DROP ; NIL operation ; PAIR }").is_err());
}

#[test]
fn pairs_and_combs() {
    assert_eq!(
        ok(eval(
            "pair nat string bool",
            "pair bool nat string",
            "UNPAIR 3 ; DIG 2 ; PAIR 3",
            "Pair 1 \"a\" True"
        )),
        "Pair True 1 \"a\""
    );
    assert_eq!(
        ok(eval("pair nat string bool", "string", "GET 3", "Pair 1 \"a\" True")),
        "\"a\""
    );
    assert_eq!(
        ok(eval("pair nat string bool", "bool", "GET 4", "Pair 1 \"a\" True")),
        "True"
    );
    assert_eq!(
        ok(eval(
            "pair nat string bool",
            "pair nat string bool",
            "PUSH bool False ; UPDATE 4",
            "Pair 1 \"a\" True"
        )),
        "Pair 1 \"a\" False"
    );
    assert_eq!(ok(eval("pair nat string", "string", "CDR", "Pair 1 \"a\"")), "\"a\"");
    assert_eq!(
        ok(eval("pair nat string", "nat", "UNPAIR ; DIP { DROP }", "Pair 1 \"a\"")),
        "1"
    );
    assert!(typecheck("nat", "nat", "{ CAR ; CAR ; NIL operation ; PAIR }").is_err());
    assert!(typecheck("pair nat nat", "nat", "{ CAR ; GET 5 ; NIL operation ; PAIR }").is_err());
}

#[test]
fn ors_and_options() {
    let code = "IF_LEFT { PUSH nat 1 ; ADD } { SIZE }";
    assert_eq!(ok(eval("or nat string", "nat", code, "Left 4")), "5");
    assert_eq!(ok(eval("or nat string", "nat", code, "Right \"abc\"")), "3");
    let code = "IF_NONE { PUSH nat 0 } { PUSH nat 1 ; ADD }";
    assert_eq!(ok(eval("option nat", "nat", code, "None")), "0");
    assert_eq!(ok(eval("option nat", "nat", code, "Some 9")), "10");
    assert_eq!(
        ok(eval("nat", "option (or nat string)", "LEFT string ; SOME", "3")),
        "Some (Left 3)"
    );
    assert_eq!(ok(eval("nat", "or string nat", "RIGHT string", "3")), "Right 3");
    assert!(typecheck("or nat string", "nat", "{ CAR ; IF_LEFT {} {} ; NIL operation ; PAIR }").is_err());
}

#[test]
fn lists() {
    assert_eq!(
        ok(eval(
            "list nat",
            "list nat",
            "MAP { PUSH nat 1 ; ADD }",
            "{ 1 ; 2 ; 3 }"
        )),
        "{ 2 ; 3 ; 4 }"
    );
    assert_eq!(
        ok(eval(
            "list nat",
            "nat",
            "PUSH nat 0 ; SWAP ; ITER { ADD }",
            "{ 1 ; 2 ; 3 }"
        )),
        "6"
    );
    assert_eq!(
        ok(eval("list nat", "list nat", "PUSH nat 0 ; CONS", "{ 1 }")),
        "{ 0 ; 1 }"
    );
    let head = "IF_CONS { DIP { DROP } } { PUSH nat 100 }";
    assert_eq!(ok(eval("list nat", "nat", head, "{ 5 ; 6 }")), "5");
    assert_eq!(ok(eval("list nat", "nat", head, "{}")), "100");
    assert_eq!(ok(eval("list nat", "nat", "SIZE", "{ 5 ; 6 }")), "2");
    let failing_map = typecheck(
        "list nat",
        "nat",
        "{ CAR ; MAP { FAILWITH } ; DROP ; PUSH nat 1 ; NIL operation ; PAIR }",
    );
    assert!(failing_map.is_err(), "a MAP body that always fails is refused");
}

#[test]
fn sets_maps_and_big_maps() {
    assert_eq!(
        ok(eval(
            "set nat",
            "set nat",
            "PUSH bool True ; PUSH nat 2 ; UPDATE ; PUSH bool False ; PUSH nat 3 ; UPDATE",
            "{ 1 ; 3 }"
        )),
        "{ 1 ; 2 }"
    );
    assert_eq!(ok(eval("set nat", "bool", "PUSH nat 3 ; MEM", "{ 1 ; 3 }")), "True");
    let map = "{ Elt \"a\" 1 ; Elt \"b\" 2 }";
    assert_eq!(
        ok(eval("map string nat", "option nat", "PUSH string \"b\" ; GET", map)),
        "Some 2"
    );
    assert_eq!(
        ok(eval("map string nat", "map string nat", "PUSH (option nat) (Some 5) ; PUSH string \"c\" ; UPDATE ; PUSH (option nat) None ; PUSH string \"a\" ; UPDATE", map)),
        "{ Elt \"b\" 2 ; Elt \"c\" 5 }"
    );
    assert_eq!(
        ok(eval(
            "map string nat",
            "pair (option nat) (map string nat)",
            "PUSH (option nat) (Some 7) ; PUSH string \"a\" ; GET_AND_UPDATE ; PAIR",
            map
        )),
        "Pair (Some 1) { Elt \"a\" 7 ; Elt \"b\" 2 }"
    );
    assert_eq!(
        ok(eval(
            "map string nat",
            "map string nat",
            "MAP { CDR ; PUSH nat 10 ; MUL }",
            map
        )),
        "{ Elt \"a\" 10 ; Elt \"b\" 20 }"
    );
    assert_eq!(
        ok(eval(
            "map string nat",
            "nat",
            "PUSH nat 0 ; SWAP ; ITER { CDR ; ADD }",
            map
        )),
        "3"
    );
    assert_eq!(ok(eval("map string nat", "nat", "SIZE", map)), "2");
    // big_map: kept in storage, updated, but not iterable.
    let big = call(
        "nat",
        "big_map nat string",
        "{ UNPAIR ; PUSH (option string) (Some \"x\") ; SWAP ; UPDATE ; NIL operation ; PAIR }",
        "4",
        "{ Elt 1 \"a\" }",
    );
    assert_eq!(ok(big), "{ Elt 1 \"a\" ; Elt 4 \"x\" }");
    assert!(typecheck(
        "nat",
        "big_map nat nat",
        "{ CDR ; DUP ; SIZE ; DROP ; NIL operation ; PAIR }"
    )
    .is_err());
    assert!(typecheck(
        "nat",
        "nat",
        "{ CDR ; EMPTY_SET (list nat) ; DROP ; NIL operation ; PAIR }"
    )
    .is_err());
}

#[test]
fn arithmetic() {
    assert_eq!(ok(eval("pair int nat", "int", "UNPAIR ; ADD", "Pair -5 3")), "-2");
    assert_eq!(ok(eval("pair nat nat", "int", "UNPAIR ; SUB", "Pair 3 5")), "-2");
    assert_eq!(ok(eval("pair int int", "int", "UNPAIR ; MUL", "Pair -3 5")), "-15");
    assert_eq!(
        ok(eval(
            "pair int int",
            "option (pair int nat)",
            "UNPAIR ; EDIV",
            "Pair -7 2"
        )),
        "Some (Pair -4 1)"
    );
    assert_eq!(
        ok(eval(
            "pair int int",
            "option (pair int nat)",
            "UNPAIR ; EDIV",
            "Pair 7 -2"
        )),
        "Some (Pair -3 1)"
    );
    assert_eq!(
        ok(eval(
            "pair nat nat",
            "option (pair nat nat)",
            "UNPAIR ; EDIV",
            "Pair 7 0"
        )),
        "None"
    );
    assert_eq!(
        ok(eval(
            "pair mutez nat",
            "option (pair mutez mutez)",
            "UNPAIR ; EDIV",
            "Pair 7 2"
        )),
        "Some (Pair 3 1)"
    );
    assert_eq!(
        ok(eval(
            "pair mutez mutez",
            "option (pair nat mutez)",
            "UNPAIR ; EDIV",
            "Pair 7 2"
        )),
        "Some (Pair 3 1)"
    );
    assert_eq!(ok(eval("pair mutez mutez", "mutez", "UNPAIR ; ADD", "Pair 7 2")), "9");
    assert_eq!(
        eval(
            "pair mutez mutez",
            "mutez",
            "UNPAIR ; ADD",
            "Pair 9223372036854775807 1"
        ),
        Err(RuntimeError::Overflow)
    );
    assert_eq!(
        eval("pair mutez nat", "mutez", "UNPAIR ; MUL", "Pair 9223372036854775807 2"),
        Err(RuntimeError::Overflow)
    );
    assert_eq!(
        ok(eval(
            "pair mutez mutez",
            "option mutez",
            "UNPAIR ; SUB_MUTEZ",
            "Pair 1 2"
        )),
        "None"
    );
    assert!(typecheck(
        "pair mutez mutez",
        "mutez",
        "{ CAR ; UNPAIR ; SUB ; NIL operation ; PAIR }"
    )
    .is_err());
    assert_eq!(ok(eval("int", "nat", "ABS", "-4")), "4");
    assert_eq!(ok(eval("int", "option nat", "ISNAT", "-4")), "None");
    assert_eq!(ok(eval("nat", "int", "NEG", "4")), "-4");
    assert_eq!(ok(eval("nat", "int", "NOT", "4")), "-5");
    assert_eq!(ok(eval("pair int nat", "nat", "UNPAIR ; AND", "Pair -1 12")), "12");
    assert_eq!(ok(eval("pair nat nat", "nat", "UNPAIR ; OR", "Pair 5 2")), "7");
    assert_eq!(ok(eval("pair nat nat", "nat", "UNPAIR ; XOR", "Pair 5 1")), "4");
    assert_eq!(ok(eval("pair nat nat", "nat", "UNPAIR ; LSL", "Pair 1 10")), "1024");
    assert_eq!(ok(eval("pair nat nat", "nat", "UNPAIR ; LSR", "Pair 1024 3")), "128");
    assert_eq!(
        eval("pair nat nat", "nat", "UNPAIR ; LSL", "Pair 1 257"),
        Err(RuntimeError::Overflow)
    );
    assert_eq!(
        ok(eval(
            "timestamp",
            "timestamp",
            "PUSH int 60 ; ADD",
            "\"2024-01-01T00:00:00Z\""
        )),
        "\"2024-01-01T00:01:00Z\""
    );
    assert_eq!(
        ok(eval("pair bool bool", "bool", "UNPAIR ; XOR", "Pair True False")),
        "True"
    );
    assert!(typecheck(
        "pair nat string",
        "nat",
        "{ CAR ; UNPAIR ; ADD ; NIL operation ; PAIR }"
    )
    .is_err());
}

#[test]
fn comparisons() {
    let cmp = |t: &str, a: &str, b: &str| {
        ok(eval(
            &format!("pair {t} {t}"),
            "int",
            "UNPAIR ; COMPARE",
            &format!("Pair {a} {b}"),
        ))
    };
    assert_eq!(cmp("nat", "1", "2"), "-1");
    assert_eq!(cmp("string", "\"b\"", "\"a\""), "1");
    assert_eq!(cmp("(pair nat string)", "(Pair 1 \"a\")", "(Pair 1 \"a\")"), "0");
    assert_eq!(cmp("(or nat nat)", "(Left 9)", "(Right 0)"), "-1");
    for (instr, expected) in [
        ("EQ", "False"),
        ("NEQ", "True"),
        ("LT", "True"),
        ("GT", "False"),
        ("LE", "True"),
        ("GE", "False"),
    ] {
        assert_eq!(ok(eval("int", "bool", instr, "-3")), expected, "{instr}");
    }
    assert!(typecheck(
        "pair nat int",
        "int",
        "{ CAR ; UNPAIR ; COMPARE ; NIL operation ; PAIR }"
    )
    .is_err());
    assert!(typecheck(
        "pair (list nat) (list nat)",
        "int",
        "{ CAR ; UNPAIR ; COMPARE ; NIL operation ; PAIR }"
    )
    .is_err());
}

#[test]
fn strings_bytes_pack_unpack() {
    assert_eq!(
        ok(eval(
            "pair string string",
            "string",
            "UNPAIR ; CONCAT",
            "Pair \"ab\" \"cd\""
        )),
        "\"abcd\""
    );
    assert_eq!(
        ok(eval("list bytes", "bytes", "CONCAT", "{ 0x01 ; 0x0203 }")),
        "0x010203"
    );
    assert_eq!(
        ok(eval(
            "string",
            "option string",
            "PUSH nat 2 ; PUSH nat 1 ; SLICE",
            "\"abcd\""
        )),
        "Some \"bc\""
    );
    assert_eq!(
        ok(eval(
            "string",
            "option string",
            "PUSH nat 9 ; PUSH nat 1 ; SLICE",
            "\"abcd\""
        )),
        "None"
    );
    assert_eq!(ok(eval("bytes", "nat", "SIZE", "0x0102")), "2");
    // Octez's vectors: PACK 1 = 0x050001, PACK "a" = 0x05010000000161.
    assert_eq!(ok(eval("nat", "bytes", "PACK", "1")), "0x050001");
    assert_eq!(ok(eval("string", "bytes", "PACK", "\"a\"")), "0x05010000000161");
    assert_eq!(
        ok(eval(
            "pair nat string",
            "option (pair nat string)",
            "PACK ; UNPACK (pair nat string)",
            "Pair 7 \"x\""
        )),
        "Some (Pair 7 \"x\")"
    );
    assert_eq!(ok(eval("bytes", "option nat", "UNPACK nat", "0x050001")), "Some 1");
    assert_eq!(ok(eval("bytes", "option nat", "UNPACK nat", "0x0500")), "None");
    assert_eq!(ok(eval("bytes", "option nat", "UNPACK nat", "0x06")), "None");
    assert_eq!(ok(eval("bytes", "option string", "UNPACK string", "0x050001")), "None");
    assert_eq!(
        ok(eval("bytes", "bytes", "BLAKE2B", "0x")),
        "0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
    );
    assert_eq!(
        ok(eval("bytes", "bytes", "SHA256", "0x")),
        "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(typecheck(
        "nat",
        "nat",
        "{ CDR ; PUSH (ticket nat) 1 ; DROP ; NIL operation ; PAIR }"
    )
    .is_err());
}

#[test]
fn control_flow_and_lambdas() {
    // LOOP: count down to zero, summing.
    let sum = "PUSH nat 0 ; SWAP ; DUP ; INT ; NEQ ; LOOP { DUP ; DIP { ADD } ; PUSH int 1 ; SWAP ; SUB ; ABS ; DUP ; INT ; NEQ } ; DROP";
    assert_eq!(ok(eval("nat", "nat", sum, "4")), "10");
    let halve = "LEFT nat ; LOOP_LEFT { PUSH nat 2 ; SWAP ; EDIV ; IF_NONE { PUSH string \"div\" ; FAILWITH } { CAR } ; DUP ; PUSH nat 1 ; COMPARE ; GE ; IF { RIGHT nat } { LEFT nat } }";
    assert_eq!(ok(eval("nat", "nat", halve, "40")), "1");
    assert_eq!(
        ok(eval(
            "nat",
            "nat",
            "LAMBDA nat nat { PUSH nat 3 ; MUL } ; SWAP ; EXEC",
            "5"
        )),
        "15"
    );
    assert_eq!(
        ok(eval(
            "nat",
            "nat",
            "LAMBDA (pair nat nat) nat { UNPAIR ; SUB ; ABS } ; SWAP ; APPLY ; PUSH nat 2 ; EXEC",
            "5"
        )),
        "3"
    );
    assert_eq!(
        ok(eval(
            "nat",
            "nat",
            "PUSH (lambda nat nat) { PUSH nat 1 ; ADD } ; SWAP ; EXEC",
            "5"
        )),
        "6"
    );
    assert_eq!(
        call("nat", "nat", "{ CAR ; PUSH string \"no\" ; FAILWITH }", "5", "0"),
        Err(RuntimeError::Failwith(expr("\"no\"")))
    );
    assert_eq!(
        call("nat", "nat", "{ CAR ; DUP ; PAIR ; FAILWITH }", "5", "0"),
        Err(RuntimeError::Failwith(expr("Pair 5 5")))
    );
    // Failing branches unify with anything.
    assert_eq!(
        ok(eval(
            "bool",
            "nat",
            "IF { PUSH nat 1 } { PUSH string \"f\" ; FAILWITH }",
            "True"
        )),
        "1"
    );
    let mismatch = typecheck(
        "bool",
        "nat",
        "{ CAR ; IF { PUSH nat 1 } { PUSH int 1 } ; NIL operation ; PAIR }",
    );
    assert!(
        matches!(mismatch, Err(ScriptError::UnmatchedBranches { .. })),
        "{mismatch:?}"
    );
    let tail = typecheck("nat", "nat", "{ FAILWITH ; NIL operation ; PAIR }");
    assert_eq!(tail.unwrap_err(), ScriptError::FailNotInTail);
    let self_in_lambda = typecheck(
        "nat",
        "nat",
        "{ LAMBDA unit address { DROP ; SELF ; ADDRESS } ; DROP ; CDR ; NIL operation ; PAIR }",
    );
    assert_eq!(self_in_lambda.unwrap_err(), ScriptError::SelfInLambda);
    let bad_return = typecheck("nat", "nat", "{ CAR ; NIL operation ; PAIR ; PUSH nat 1 }");
    assert!(matches!(bad_return, Err(ScriptError::BadReturn { .. })));
    let bad_lambda = typecheck(
        "nat",
        "nat",
        "{ PUSH (lambda nat string) { PUSH nat 1 ; ADD } ; DROP ; CDR ; NIL operation ; PAIR }",
    );
    assert!(bad_lambda.is_err());
    assert_eq!(
        typecheck("nat", "nat", "{ nat ; NIL operation ; PAIR }").unwrap_err(),
        ScriptError::UnknownInstruction("nat".into())
    );
    assert_eq!(
        typecheck("nat", "nat", "{ CREATE_CONTRACT ; NIL operation ; PAIR }").unwrap_err(),
        ScriptError::Unsupported("CREATE_CONTRACT".into())
    );
    assert!(matches!(
        Checker::new(&mut Gas::new(1_000_000))
            .check_script(&expr("{ parameter nat ; code { CDR ; NIL operation ; PAIR } }")),
        Err(ScriptError::BadScript(_))
    ));
}

#[test]
fn gas_exhaustion() {
    let forever = Call {
        parameter_ty: "nat",
        storage_ty: "nat",
        code: "{ PUSH bool True ; LOOP { PUSH bool True } ; CDR ; NIL operation ; PAIR }",
        gas: 1_000_000,
        amount: 0,
    };
    assert_eq!(call_with(&forever, "0", "0").unwrap_err(), RuntimeError::OutOfGas);
    // Typechecking draws from the same budget.
    let mut gas = Gas::new(100);
    let result = Checker::new(&mut gas).check_script(&script_text("nat", "nat", "{ CDR ; NIL operation ; PAIR }"));
    assert_eq!(result.unwrap_err(), ScriptError::OutOfGas);
}

#[test]
fn chain_instructions() {
    assert_eq!(
        ok(eval("unit", "address", "DROP ; SENDER", "Unit")),
        format!("\"{ALICE}\"")
    );
    assert_eq!(
        ok(eval("unit", "address", "DROP ; SOURCE", "Unit")),
        format!("\"{BOB}\"")
    );
    assert_eq!(
        ok(eval("unit", "address", "DROP ; SELF_ADDRESS", "Unit")),
        format!("\"{SELF}\"")
    );
    assert_eq!(ok(eval("unit", "nat", "DROP ; LEVEL", "Unit")), "42");
    assert_eq!(
        ok(eval("unit", "timestamp", "DROP ; NOW", "Unit")),
        "\"2023-11-14T22:13:20Z\""
    );
    let paid = Call {
        parameter_ty: "unit",
        storage_ty: "pair mutez mutez",
        code: "{ DROP ; BALANCE ; AMOUNT ; PAIR ; NIL operation ; PAIR }",
        gas: 1_000_000,
        amount: 5,
    };
    assert_eq!(call_with(&paid, "Unit", "Pair 0 0").unwrap().0, "Pair 5 1000005");
    assert_eq!(
        ok(eval("unit", "address", "DROP ; SELF %default ; ADDRESS", "Unit")),
        format!("\"{SELF}\"")
    );
    // CONTRACT: the right type gives Some, a wrong type or an unknown
    // address gives None; entrypoints count.
    let contract = |t: &str, address: &str| {
        ok(eval(
            "address",
            "option address",
            &format!("CONTRACT {t} ; IF_NONE {{ NONE address }} {{ ADDRESS ; SOME }}"),
            &format!("\"{address}\""),
        ))
    };
    assert_eq!(contract("nat", OTHER), format!("Some \"{OTHER}\""));
    assert_eq!(contract("string", OTHER), "None");
    assert_eq!(contract("%deposit string", OTHER), format!("Some \"{OTHER}%deposit\""));
    assert_eq!(
        contract("string", &format!("{OTHER}%deposit")),
        format!("Some \"{OTHER}%deposit\"")
    );
    assert_eq!(contract("nat", SELF), "None");
    assert_eq!(contract("unit", ALICE), format!("Some \"{ALICE}\""));
    assert_eq!(contract("bytes", ROLLUP), format!("Some \"{ROLLUP}\""));
    assert_eq!(
        ok(eval(
            "key_hash",
            "address",
            "IMPLICIT_ACCOUNT ; ADDRESS",
            &format!("\"{ALICE}\"")
        )),
        format!("\"{ALICE}\"")
    );
    // TRANSFER_TOKENS to a contract and to a rollup.
    let send = Call {
        parameter_ty: "bytes",
        storage_ty: "unit",
        code: &format!(
            "{{ UNPAIR ; PUSH address \"{ROLLUP}\" ; CONTRACT bytes ; IF_NONE {{ PUSH string \"no rollup\" ; FAILWITH }} {{}} ; PUSH mutez 0 ; DIG 2 ; TRANSFER_TOKENS ; NIL operation ; SWAP ; CONS ; PAIR }}"
        ),
        gas: 10_000_000,
        amount: 0,
    };
    let (_, operations) = call_with(&send, "0xcafe", "Unit").unwrap();
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0].destination.to_text(), ROLLUP);
    assert_eq!(operations[0].parameter, Value::Bytes(vec![0xca, 0xfe]));
    assert!(typecheck("unit", "unit", "{ CDR ; PUSH address \"tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx\" ; CONTRACT operation ; DROP ; NIL operation ; PAIR }").is_err());
}

#[test]
fn tickets() {
    let mint = "PUSH string \"gold\" ; TICKET";
    let read = format!("{mint} ; IF_NONE {{ PUSH string \"zero\" ; FAILWITH }} {{ READ_TICKET ; SWAP ; DROP }}");
    assert_eq!(
        ok(eval("nat", "pair address string nat", &read, "5")),
        format!("Pair \"{SELF}\" \"gold\" 5")
    );
    // Zero amounts make no ticket.
    assert_eq!(
        eval("nat", "pair address string nat", &read, "0"),
        Err(RuntimeError::Failwith(expr("\"zero\"")))
    );
    let split = |parts: &str| {
        format!("{mint} ; IF_NONE {{ PUSH string \"zero\" ; FAILWITH }} {{}} ; PUSH (pair nat nat) ({parts}) ; SWAP ; SPLIT_TICKET ; IF_NONE {{ PUSH nat 0 }} {{ UNPAIR ; READ_TICKET ; GET 4 ; DIP {{ DROP 2 }} }}")
    };
    assert_eq!(ok(eval("nat", "nat", &split("Pair 2 3"), "5")), "2");
    assert_eq!(
        ok(eval("nat", "nat", &split("Pair 2 2"), "5")),
        "0",
        "parts must add up"
    );
    assert_eq!(ok(eval("nat", "nat", &split("Pair 0 5"), "5")), "0", "no zero part");
    let join = |second: &str| {
        format!("{mint} ; IF_NONE {{ PUSH string \"zero\" ; FAILWITH }} {{}} ; PUSH nat 3 ; PUSH string \"{second}\" ; TICKET ; IF_NONE {{ PUSH string \"zero\" ; FAILWITH }} {{}} ; PAIR ; JOIN_TICKETS ; IF_NONE {{ PUSH nat 0 }} {{ READ_TICKET ; GET 4 ; DIP {{ DROP }} }}")
    };
    assert_eq!(ok(eval("nat", "nat", &join("gold"), "5")), "8");
    assert_eq!(
        ok(eval("nat", "nat", &join("silver"), "5")),
        "0",
        "different contents do not join"
    );
    // Tickets are not duplicable, pushable or packable.
    assert!(typecheck(
        "nat",
        "nat",
        &format!("{{ CAR ; {mint} ; DUP ; DROP 2 ; PUSH nat 0 ; NIL operation ; PAIR }}")
    )
    .is_err());
    assert!(typecheck(
        "nat",
        "nat",
        &format!("{{ CAR ; {mint} ; PACK ; DROP ; PUSH nat 0 ; NIL operation ; PAIR }}")
    )
    .is_err());
    // A ticket held in storage survives the call.
    let keep = Call {
        parameter_ty: "nat",
        storage_ty: "option (ticket string)",
        code: &format!("{{ CAR ; {mint} ; NIL operation ; PAIR }}"),
        gas: 1_000_000,
        amount: 0,
    };
    assert_eq!(
        call_with(&keep, "3", "None").unwrap().0,
        format!("Some (Pair \"{SELF}\" \"gold\" 3)")
    );
}

#[test]
fn entrypoints_select_branches() {
    let script = "{ UNPAIR ; IF_LEFT { ADD } { DROP 2 ; PUSH nat 0 } ; NIL operation ; PAIR }";
    let mut gas = Gas::new(10_000_000);
    let chain = TestChain::new();
    let checked = Checker::new(&mut gas)
        .check_script(&script_text("(or (nat %add) (unit %reset))", "nat", script))
        .unwrap();
    let sender = Address::from_text(ALICE).unwrap();
    let env = env(&sender, &chain, 0);
    let run = |ep: &str, param: Value, gas: &mut Gas| run_script(&checked, ep, param, Value::Int(10.into()), &env, gas);
    assert_eq!(
        run("add", Value::Int(5.into()), &mut gas).unwrap().storage,
        Value::Int(15.into())
    );
    assert_eq!(
        run("reset", Value::Unit, &mut gas).unwrap().storage,
        Value::Int(0.into())
    );
    assert!(run("nope", Value::Unit, &mut gas).is_err());
}

/// Gas used by `code` on parameter `input` (of `input_ty`), storage unit.
fn gas_used(input_ty: &str, code: &str, input: &str) -> u64 {
    let chain = TestChain::new();
    let mut gas = Gas::new(1_000_000_000);
    let script = Checker::new(&mut gas)
        .check_script(&script_text(input_ty, "unit", code))
        .unwrap();
    let parameter = Checker::new(&mut gas)
        .parse_value(script.entrypoints.root(), &expr(input))
        .unwrap();
    let sender = Address::from_text(ALICE).unwrap();
    let env = env(&sender, &chain, 0);
    let before = gas.remaining();
    run_script(&script, "default", parameter, Value::Unit, &env, &mut gas).unwrap();
    before - gas.remaining()
}

#[test]
fn copies_are_paid_for_and_shared_collections_are_not_copied() {
    // DUP of a large string pays for the bytes it copies…
    let dup = "{ CAR ; DUP ; DROP 2 ; UNIT ; NIL operation ; PAIR }";
    let small = gas_used("string", dup, "\"x\"");
    let large = gas_used("string", dup, &format!("\"{}\"", "x".repeat(80_000)));
    assert_eq!(large - small, 10_000, "one milligas per 8 bytes copied");
    // …while a list, a set or a map is shared: DUP costs the same whatever
    // its size.
    let list = |n: usize| format!("{{ {} }}", vec!["1"; n].join(" ; "));
    assert_eq!(
        gas_used("list nat", dup, &list(1)),
        gas_used("list nat", dup, &list(5_000))
    );
}

#[test]
fn code_nested_to_the_micheline_limit_runs_on_the_stack_given() {
    // The deepest code Micheline allows: blocks inside `DIP` inside blocks.
    let depth = soru_core::encoding::MAX_NESTING as usize / 2 - 10;
    let nested = format!("{}PUSH nat 1 ; DROP{}", "DIP 0 { ".repeat(depth), " }".repeat(depth));
    let code = format!("{{ CDR ; UNIT ; {nested} ; DROP ; NIL operation ; PAIR }}");
    let stack: usize = std::env::var("SORU_TEST_STACK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(soru_michelson::STACK_SIZE);
    let used = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || gas_used("unit", &code, "Unit"))
        .unwrap()
        .join()
        .unwrap();
    assert!(used > 0);
}

#[test]
fn the_type_map_gives_the_stacks_around_each_instruction_by_location() {
    // Locations count nodes in pre-order: 0 the script, 1 `parameter`,
    // 2 `unit`, 3 `storage`, 4 `nat`, 5 `code`, 6 the code's block, 7 `CDR`,
    // 8 `NIL`, 9 `operation`, 10 `PAIR`.
    let script = expr("{ parameter unit ; storage nat ; code { CDR ; NIL operation ; PAIR } }");
    let mut gas = Gas::new(10_000_000);
    let mut checker = Checker::new(&mut gas).with_type_map(&script);
    checker.check_script(&script).unwrap();
    let map: Vec<(usize, String, String)> = checker
        .type_map()
        .unwrap()
        .entries
        .iter()
        .map(|(loc, before, after)| {
            let text = |s: &[Type]| s.iter().map(Type::to_string).collect::<Vec<_>>().join(" : ");
            (*loc, text(before), text(after))
        })
        .collect();
    assert_eq!(
        map,
        vec![
            (7, "pair unit nat".into(), "nat".into()),
            (8, "nat".into(), "list operation : nat".into()),
            (10, "list operation : nat".into(), "pair (list operation) nat".into()),
            (6, "pair unit nat".into(), "pair (list operation) nat".into()),
        ]
    );
}
