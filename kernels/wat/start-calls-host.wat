;; A start function that calls store_write during instantiation. Host
;; functions may not be called (nor touch memory) during initialisation: the
;; PVM is stuck and /start is never written.
(module
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/start")
  (data (i32.const 16) "1")
  (func $start
    (drop (call $store_write (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 16) (i32.const 1))))
  (start $start)
  (func (export "kernel_run")))
