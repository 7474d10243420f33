;; A valid module that exports its memory but no kernel_run (only
;; kernel_main): the PVM is stuck after initialisation.
(module
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "no kernel_run")
  (func (export "kernel_main")
    (call $write_debug (i32.const 0) (i32.const 13))))
