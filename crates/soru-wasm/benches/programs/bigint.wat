;; Big-integer arithmetic: 3000! with 32-bit limbs and 64-bit products.
;; Returns the number of limbs xor a digest of them.
(module
  (memory 1)
  (func (export "run") (result i64)
    (local $k i64) (local $i i32) (local $len i32) (local $carry i64) (local $t i64) (local $acc i64)
    (i32.store (i32.const 0) (i32.const 1))
    (local.set $len (i32.const 1))
    (local.set $k (i64.const 2))
    (block $done
      (loop $factor
        (br_if $done (i64.gt_u (local.get $k) (i64.const 3000)))
        (local.set $carry (i64.const 0))
        (local.set $i (i32.const 0))
        (block $limbs_done
          (loop $limb
            (br_if $limbs_done (i32.ge_u (local.get $i) (local.get $len)))
            (local.set $t
              (i64.add (i64.mul (i64.load32_u (i32.shl (local.get $i) (i32.const 2))) (local.get $k))
                       (local.get $carry)))
            (i64.store32 (i32.shl (local.get $i) (i32.const 2)) (local.get $t))
            (local.set $carry (i64.shr_u (local.get $t) (i64.const 32)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $limb)))
        (if (i64.ne (local.get $carry) (i64.const 0))
          (then
            (i64.store32 (i32.shl (local.get $len) (i32.const 2)) (local.get $carry))
            (local.set $len (i32.add (local.get $len) (i32.const 1)))))
        (local.set $k (i64.add (local.get $k) (i64.const 1)))
        (br $factor)))
    (local.set $i (i32.const 0))
    (block $digested
      (loop $digest
        (br_if $digested (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $acc
          (i64.add (i64.rotl (local.get $acc) (i64.const 5))
                   (i64.load32_u (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digest)))
    (i64.xor (local.get $acc) (i64.extend_i32_u (local.get $len)))))
