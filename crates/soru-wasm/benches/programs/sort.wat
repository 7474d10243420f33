;; Sort: 100 000 pseudo-random i32 values sorted with a recursive quicksort
;; (Lomuto partition). Returns a position-weighted checksum.
(module
  (memory 8)
  (func $qsort (param $lo i32) (param $hi i32)
    (local $i i32) (local $j i32) (local $t i32) (local $pivot i32)
    (block $done
      (loop $tail
        (br_if $done (i32.ge_s (local.get $lo) (local.get $hi)))
        (local.set $pivot (i32.load (i32.shl (local.get $hi) (i32.const 2))))
        (local.set $i (local.get $lo))
        (local.set $j (local.get $lo))
        (block $parted
          (loop $part
            (br_if $parted (i32.ge_s (local.get $j) (local.get $hi)))
            (if (i32.lt_s (i32.load (i32.shl (local.get $j) (i32.const 2))) (local.get $pivot))
              (then
                (local.set $t (i32.load (i32.shl (local.get $i) (i32.const 2))))
                (i32.store (i32.shl (local.get $i) (i32.const 2))
                           (i32.load (i32.shl (local.get $j) (i32.const 2))))
                (i32.store (i32.shl (local.get $j) (i32.const 2)) (local.get $t))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $part)))
        (local.set $t (i32.load (i32.shl (local.get $i) (i32.const 2))))
        (i32.store (i32.shl (local.get $i) (i32.const 2))
                   (i32.load (i32.shl (local.get $hi) (i32.const 2))))
        (i32.store (i32.shl (local.get $hi) (i32.const 2)) (local.get $t))
        (call $qsort (local.get $lo) (i32.sub (local.get $i) (i32.const 1)))
        (local.set $lo (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))
  (func (export "run") (result i32)
    (local $i i32) (local $x i32) (local $sum i32)
    (local.set $x (i32.const 12345))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $i) (i32.const 100000)))
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
        (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.shr_u (local.get $x) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (call $qsort (i32.const 0) (i32.const 99999))
    (local.set $i (i32.const 0))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_u (local.get $i) (i32.const 100000)))
        (local.set $sum
          (i32.add (local.get $sum)
                   (i32.mul (i32.load (i32.shl (local.get $i) (i32.const 2))) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
    (local.get $sum)))
