;; Imports read_input with a wrong type (two parameters instead of three):
;; linking fails and, with no fallback kernel, the PVM is stuck.
(module
  (import "smart_rollup_core" "read_input" (func $read_input (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "kernel_run")
    (drop (call $read_input (i32.const 0) (i32.const 16)))))
