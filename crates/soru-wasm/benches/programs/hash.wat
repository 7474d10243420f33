;; Hash loop: fill 64 KiB with an LCG, then 100 rounds of FNV-style 64-bit
;; mixing over it. Returns the digest.
(module
  (memory 2)
  (func (export "run") (result i64)
    (local $i i32) (local $round i32) (local $h i64) (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $i) (i32.const 65536)))
        (local.set $x
          (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                   (i64.const 1442695040888963407)))
        (i64.store (local.get $i) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $fill)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (block $end
      (loop $rounds
        (br_if $end (i32.ge_u (local.get $round) (i32.const 100)))
        (local.set $i (i32.const 0))
        (block $row
          (loop $word
            (br_if $row (i32.ge_u (local.get $i) (i32.const 65536)))
            (local.set $h
              (i64.mul (i64.xor (local.get $h) (i64.load (local.get $i)))
                       (i64.const 0x100000001b3)))
            (local.set $h (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $word)))
        (local.set $round (i32.add (local.get $round) (i32.const 1)))
        (br $rounds)))
    (local.get $h)))
