;; Imports a function that smart_rollup_core does not provide: linking fails
;; and, with no fallback kernel, the PVM is stuck.
(module
  (import "smart_rollup_core" "does_not_exist" (func $missing (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "kernel_run")
    (drop (call $missing (i32.const 0) (i32.const 0)))))
